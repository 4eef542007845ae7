//! etcd 0.4's v2 keys API and clustering, in Rust.
//!
//! Where to look, by the path of a request:
//! - [`httpd`]: our small HTTP/1.1 layer (connections, size caps, timeouts);
//! - [`http`]: where a request enters and is validated (client and peer APIs);
//! - [`server`]: the state thread, where a write becomes a Raft log entry and
//!   a committed entry is applied; the WAL thread, where it is made durable;
//! - [`raft`]: consensus as a pure state machine;
//! - [`wal`]: the append-only log and snapshot files;
//! - [`store`]: the key tree, TTLs, events and watches (pure);
//! - [`transport`]: peer senders and the join client;
//! - [`tls`]: HTTPS on the client and peer ports (certificate files, handshakes);
//! - [`config`]: flags, `ETCD_*` variables and the TOML file.

pub mod config;
pub mod http;
pub mod httpd;
pub mod raft;
pub mod server;
pub mod store;
pub mod tls;
pub mod transport;
pub mod wal;
