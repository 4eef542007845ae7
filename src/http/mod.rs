//! The HTTP APIs: where requests enter. `client_api` serves the v2 keys API
//! and the status endpoints on the client port; `peer_api` serves Raft
//! traffic, joins and the admin API on the peer port (`backup` streams its
//! backup files). Handlers parse and validate, then talk to the state
//! thread through channels; they hold no state of their own.

pub mod backup;
pub mod client_api;
pub mod gateway;
pub mod keys;
pub mod params;
pub mod peer_api;
pub mod reply;
