//! The v2 key store of etcd 0.4.6: the key tree, canonical paths, store
//! index, TTLs and expiry, events and their exact JSON, the 1000-event
//! history, watchers, compare conditions, etcd error codes, store stats,
//! snapshots, the key space as flat records for backups, and building a
//! store from state taken over from etcd 0.4.//!
//! It is pure and deterministic: it never does IO, never reads a clock
//! (time is handed in, from the replicated log), never spawns threads, and
//! never lets hash order leak (children are kept sorted by key). It does not
//! parse HTTP parameters, and it does not guard `/_etcd/machines` or
//! `/_etcd/config` (error 106 is the HTTP layer's job: the server itself
//! writes those keys through `apply`).

mod command;
mod error;
mod event;
mod export;
mod history;
mod import;
mod json;
mod key_store;
mod node;
mod path;
mod snapshot_codec;
mod stats;
mod text;
mod time;
mod tree;
mod watch;
mod writes;

#[cfg(test)]
mod tests;

pub use command::StoreCommand;
pub use error::{ErrorCode, EtcdError};
pub use event::{Action, Event, NodeView};
pub use export::{InsertError, KeySpace, NodeCounts, NodeRecord, NodeRef, SNAPSHOT_DEPTH_LIMIT};
pub use history::HISTORY_CAPACITY;
pub use import::{ImportError, StoreBuilder};
// The v1 API (`http::v1`) writes its own body shape from these events; it
// must escape strings exactly as the v2 bodies do, so it shares the writer.
pub use json::{push_member_name, push_string};
pub use key_store::{Store, StoreImage};
pub use path::KeyPath;
pub use stats::StoreStats;
pub use time::{UnixNanos, format_rfc3339};
pub use watch::{WatchOutcome, WatcherId};
