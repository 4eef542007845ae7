//! The bodies of the fuzz targets: one function per target, taking the raw
//! bytes libFuzzer (or a corpus file) hands over. `fuzz/fuzz_targets/*.rs`
//! are one-line wrappers around them, and `cargo test` replays every file
//! of `testdata/fuzz/<target>/` through the same functions on stable
//! (`replay.rs`), so a corpus entry that once crashed keeps being checked
//! without nightly.
//!
//! Each target feeds what a peer, a client, a disk or an operator can hand
//! this etcd into the code that reads it, and checks what is cheap to
//! check: no panic, limits respected, and where an encoder exists, that
//! decoding what it wrote gives the same value back. A failed check is a
//! panic, which libFuzzer reports as a crash.
//!
//! Compiled only with the `fuzzing` feature or in tests: nothing here is
//! part of the API. It reaches `pub(crate)` items directly, so the modules
//! it tests expose nothing for it beyond the crate.

mod backup;
mod checksums;
mod config;
mod discovery;
mod http;
mod keys;
mod legacy;
mod peer;
mod snapshot;
mod store;
mod wal;

#[cfg(test)]
mod replay;
#[cfg(test)]
mod seeds;

pub use backup::backup;
pub use config::config;
pub use discovery::discovery;
pub use http::http_request;
pub use keys::{form_query, key_path};
pub use legacy::{legacy_log, legacy_snapshot};
pub use peer::peer_message;
pub use snapshot::snapshot;
pub use store::store_apply;
pub use wal::{wal_record, wal_segment};

/// A target: it panics when a check fails.
pub type Target = fn(&[u8]);

/// Every target by name (the name of its `fuzz/` binary and of its corpus
/// directory under `testdata/fuzz/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("http_request", http::http_request),
    ("form_query", keys::form_query),
    ("key_path", keys::key_path),
    ("peer_message", peer::peer_message),
    ("store_apply", store::store_apply),
    ("wal_record", wal::wal_record),
    ("wal_segment", wal::wal_segment),
    ("snapshot", snapshot::snapshot),
    ("config", config::config),
    ("legacy_log", legacy::legacy_log),
    ("legacy_snapshot", legacy::legacy_snapshot),
    ("backup", backup::backup),
    ("discovery", discovery::discovery),
];

/// Runs the target called `name` on `data`; false if there is none.
pub fn run(name: &str, data: &[u8]) -> bool {
    match TARGETS.iter().find(|(n, _)| *n == name) {
        Some((_, target)) => {
            target(data);
            true
        }
        None => false,
    }
}
