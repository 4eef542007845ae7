//! What a member's data dir holds, read without changing it: the recorded
//! name, whether a running etcd holds it, the Raft hard state, snapshots and
//! WAL segments (with torn tails and damage named by file and offset), and
//! the data rebuilt as of the commit index. For `etcd -inspect` and
//! `etcd -backup-data-dir`, on machines that are stopped, or even refuse to
//! start.
//!
//! It never writes: no lock file is created, no torn tail cut, no temp file
//! removed, no directory made. Repairs are the business of the normal
//! start-up (`server::boot`), which this module only describes.

mod open;
mod replay;
mod report;

pub use open::{DataDir, DataDirError, LockState};
pub use replay::{Replayed, replay};
pub use report::{MemberLine, ProblemLine, Report, SegmentLine, SnapshotLine};

use std::io::Write;
use std::path::Path;

/// `etcd -inspect DIR [-json]`: prints the report on `out` and returns the
/// exit status: 0 when nothing is wrong (a torn tail included, which a
/// start repairs), 2 when damage was found, 1 when the directory cannot be
/// inspected at all (the one-line reason goes to `err`).
pub fn inspect_command(dir: &Path, json: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let data_dir = match DataDir::open(dir) {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "etcd: {e}");
            return 1;
        }
    };
    let report = Report::of(&data_dir);
    let text = if json {
        report.to_json() + "\n"
    } else {
        report.to_text()
    };
    // A closed stdout (`etcd -inspect d | head`) is not worth a panic.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    if report.damaged() { 2 } else { 0 }
}
