//! Reading etcd 0.4 data dirs, so that a machine started with its usual
//! command on a dir 0.4.x wrote carries on as the same member with the same
//! data (`server::takeover` drives this at start-up).
//!
//! What 0.4 kept (goraft's formats): `conf` (JSON: commit index and the
//! other members), `log` (length-prefixed protobuf `LogEntry`s, commands by
//! name with JSON bodies) and `snapshot/<term>_<index>.ss` (CRC-32 line,
//! JSON with the store's own JSON inside). This module decodes them,
//! checks them as a whole and maps them onto ours: typed commands, our
//! snapshot with the member table, the Raft hard state.
//!
//! Pure: bytes in, values or one precise error (file, byte offset, reason)
//! out. It never reads or writes a file, never reads a clock.

mod commands;
mod conf;
mod crc32;
mod error;
mod go_time;
mod log_file;
mod plan;
mod protobuf;
mod snapshot;
mod store_state;

pub use error::{LegacyError, Problem};
pub use log_file::TornTail;
pub use plan::{Files, Plan, Report, TERM_FLOOR, plan};

// The fuzz targets write 0.4 snapshot files around the states they make up.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use crc32::crc32_ieee;
