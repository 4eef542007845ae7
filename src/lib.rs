//! etcd 0.4's v2 keys API and clustering, in Rust.
//!
//! Where to look, by the path of a request:
//! - [`auth`]: v2 users, roles and permission checks (etcd 2.x's auth), with
//!   password hashing and credential checks;
//! - [`httpd`]: our small HTTP/1.1 layer (connections, size caps, timeouts);
//! - [`http`]: where a request enters and is validated (client and peer APIs);
//! - [`server`]: the state thread, where a write becomes a Raft log entry and
//!   a committed entry is applied; the WAL thread, where it is made durable;
//! - [`raft`]: consensus as a pure state machine;
//! - [`wal`]: the append-only log and snapshot files;
//! - [`membership`]: who is a member, who waits as a standby, whom the
//!   leader admits or removes (pure policy);
//! - [`metrics`]: Prometheus counters and histograms (`/metrics`);
//! - [`store`]: the key tree, TTLs, events and watches (pure);
//! - [`transport`]: peer senders and the join client;
//! - [`tls`]: HTTPS on the client and peer ports (certificate files, handshakes);
//! - [`cluster`]: finding and keeping this machine's place in a cluster
//!   (start-up decision, the standby loop, the removal probe);
//! - [`discovery`]: etcd 0.4's discovery protocol (`-discovery URL`);
//! - [`legacy`]: reading data dirs etcd 0.4 wrote, to take them over;
//! - [`config`]: flags, `ETCD_*` variables and the TOML file;
//! - [`capacity`]: how many client connections the machine can hold;
//! - [`backup`]: backup files (online, offline) and restoring one as a new
//!   cluster;
//! - [`datadir`]: what a stopped member's data dir holds, read without
//!   changing it (`-inspect`, offline backups);
//! - [`dashboard`]: the web page at `/mod/dashboard/` (embedded files, and
//!   the rule against cross-site writes through it);
//! - `fuzzing` (only with the `fuzzing` feature, and in tests): the bodies
//!   of the fuzz targets in `fuzz/`, replayed over `testdata/fuzz/` by
//!   `cargo test`.
pub mod auth;
pub mod backup;
pub mod capacity;
pub mod cluster;
pub mod config;
pub mod dashboard;
pub mod datadir;
pub mod discovery;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod httpd;
pub mod legacy;
pub mod membership;
pub mod metrics;
pub mod raft;
pub mod server;
pub mod store;
pub mod tls;
pub mod transport;
pub mod wal;
