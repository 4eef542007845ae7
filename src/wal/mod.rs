//! The write-ahead log and snapshot files: everything this machine must
//! find again after a crash, kept as append-only files in the data dir.
//!
//! It owns the bytes on disk: record framing and checksums, segment files
//! and their rotation, snapshot files, and recovery (cutting a torn tail,
//! refusing corruption, resolving overwritten entries), and reading all of
//! it without changing anything (`read_only`, for `-inspect` and offline
//! backups). It never makes a Raft decision: it stores what it is given and
//! replays it in order.
//!
//! # On-disk layout
//!
//! ```text
//! <dir>/wal/<seq:016x>-<first index:016x>.wal   segments, seq counting up from 1
//! <dir>/snap/<term:016x>-<index:016x>.snap      the newest two snapshots
//! ```
//!
//! A segment is a sequence of records
//! `[u32 payload length LE][u32 CRC-32C LE of type+payload][u8 type][payload]`
//! with types 1 = entry, 2 = hard state, 3 = snapshot marker (see
//! `payload.rs` for their binary layouts). There is no segment header: a
//! segment is complete when it has been fsynced and the next one created.
//!
//! Guarantees the writer keeps, which recovery relies on:
//! - a segment is fsynced before the next one is created, so only the last
//!   segment can end in a torn write; anything bad elsewhere is corruption;
//! - every segment begins with the newest hard state (when there is one),
//!   so removing older segments never loses it;
//! - segments are removed only from the front, only when a kept snapshot
//!   covers every live entry in them, and never the one being written.

mod crc32c;
mod durable_log;
mod error;
mod fsync;
mod payload;
mod preallocate;
pub mod read_only;
mod record;
mod replay;
mod segment_name;
mod segment_scan;
pub mod snapshot_file;

#[cfg(test)]
mod durable_log_tests;

use std::path::PathBuf;

use crate::raft::types::{Entry, HardState, Snapshot};

pub use crc32c::{Crc32c, crc32c};
pub use durable_log::Wal;
pub use error::WalError;
pub use fsync::{fsync_dir, replace_file};

// What the fuzz targets drive directly (`crate::fuzzing`): framing,
// payloads, the segment scanner and replay, without files.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use {
    payload::{
        Record, decode as decode_payload, encode_entry, encode_hard_state, encode_snapshot_marker,
    },
    record::{Frame, RecordType, append_frame, read_frame},
    replay::Replay,
    segment_scan::{ScanStop, scan, scan_segment},
};

/// Tuning of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalOptions {
    /// A segment is closed and a new one started once the next record
    /// would take it past this size. A single larger record still fits.
    pub segment_bytes: u64,
    /// Reserve each new segment's whole size on disk when it is created
    /// (see `preallocate`): each fdatasync then commits data only.
    pub preallocate: bool,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_bytes: 64 * 1024 * 1024,
            preallocate: true,
        }
    }
}

/// What [`Wal::open`] found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// The last hard state written; the default if none was.
    pub hard_state: HardState,
    /// The newest snapshot file that checks out.
    pub snapshot: Option<Snapshot>,
    /// The log after the snapshot: contiguous from `snapshot.index + 1`
    /// (or from 1), overwritten entries already resolved.
    pub entries: Vec<Entry>,
    /// Set when a torn write was cut off: the segment and the offset it
    /// now ends at.
    pub truncated_tail: Option<(PathBuf, u64)>,
}
