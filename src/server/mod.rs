//! The machine's core: the state thread that owns Raft and the key tree,
//! the WAL thread that makes its decisions durable, the member table, and
//! the typed commands that travel through the log, and taking over a data
//! dir etcd 0.4 wrote. No HTTP parsing here.

pub mod boot;
pub mod clock;
pub mod command;
pub mod heap;
pub mod mode;
pub mod oneshot;
pub mod outbox;
pub mod replica;
pub mod requests;
pub mod snapshot_data;
pub mod snapshotter;
pub mod state;
pub mod stats;
pub mod takeover;
pub mod wal_thread;
