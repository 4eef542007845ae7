//! The HTTP APIs: where requests enter. `client_api` routes the client
//! port: the v2 keys API (`keys`), etcd 0.4's older v1 API (`v1`) over the
//! same store, and the status endpoints; `peer_api` serves Raft traffic,
//! joins and the admin API on the peer port (`backup` streams its backup
//! files); `auth` serves etcd 2.x's `/v2/auth` API and holds the checks
//! the other handlers make (`auth::guard`). Handlers parse and validate,
//! then talk to the state thread through channels; they hold no state of
//! their own.
pub mod auth;
pub mod backup;
pub mod client_api;
pub mod gateway;
pub mod health;
pub mod keys;
pub mod keyspace;
pub mod params;
pub mod peer_api;
pub mod reply;
pub mod v1;
