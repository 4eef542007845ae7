//! Backup files: the whole key space (every node, hidden ones included,
//! with its indices and expiration) and the members, at one committed
//! index, in one checksummed file; written online (`GET /v2/admin/backup`
//! on the peer port), offline from a stopped member's data dir
//! (`etcd -backup-data-dir DIR -backup-file FILE`), and restored into a
//! fresh data dir as a new cluster of one (`etcd -restore FILE`).
//!
//! It owns the file format, its checks, and turning a checked file into a
//! data dir. It never takes the copy itself (the state thread does, as for
//! a snapshot: `Store::key_space`) and never runs on the state thread:
//! encoding and streaming happen on the thread of the connection asking.
//!
//! # File format, version 1
//!
//! All integers are little-endian.
//!
//! ```text
//! preamble   8 bytes  magic 89 45 54 43 44 42 4b 0a ("\x89ETCDBK\n")
//!            u32      format version (1)
//! records    [u32 payload length][u32 CRC-32C of type and payload][u8 type][payload]
//!            (the WAL's framing; payloads are at most 64 MiB)
//!   type 1   header, exactly once, first: a JSON object
//!            {"storeIndex","raftIndex","raftTerm","takenBy","takenAt" (RFC 3339),
//!             "origin" ("online"|"offline"),"nodes","members":[{"name","peerURL",
//!             "clientURL"}],"config":{"activeSize","removeDelay","syncInterval"},
//!             "etcdVersion"}
//!   type 2   node, once per node but the root, each parent before its
//!            children, siblings in name order:
//!            u8 flags (1 = directory, 2 = has expiration), u64 createdIndex,
//!            u64 modifiedIndex, [i64 expiration, Unix nanoseconds],
//!            u32 key length, key (canonical, UTF-8),
//!            [u32 value length, value (UTF-8); files only]
//!   type 3   end, exactly once, last: u64 node count,
//!            u32 CRC-32C of every byte of the file before this record
//! ```
//!
//! Nothing may follow the end record. A reader refuses a file that does
//! not start with the magic (foreign), has another version (unknown
//! version), ends before its end record (truncated), or has a bad record
//! checksum, an unknown record type, records out of order, a node count
//! or a file checksum that does not match (corrupt, at a byte offset).
//! A later format gets a new version number; version 1 readers refuse it.
//!
//! The event history is not in the file: a restored store starts its
//! history after the backup's index, so a watch asking for an older
//! `waitIndex` gets 401 and re-reads, as after 1000 newer events.

mod error;
pub mod format;
pub mod offline;
pub mod progress;
pub mod reader;
pub mod restore;
pub mod writer;

#[cfg(test)]
mod tests;

pub use error::BackupError;
pub use format::{Header, Origin};
pub use reader::{Backup, read};
pub use restore::{RestoreError, Restored, restore};
pub use writer::{Source, Written, write};
