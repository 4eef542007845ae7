//! Reading a data dir's log and snapshots without changing anything, for
//! `etcd -inspect` and `etcd -backup-data-dir`: no directory is created, no
//! torn tail is cut, no temp file is removed. What [`Wal::open`] would
//! repair or refuse is reported instead, naming the file and the offset, and
//! the log is read up to the first damage (what comes after it cannot be
//! trusted to follow on).
//!
//! It never takes the data-dir lock (that is the caller's business) and
//! never makes a Raft decision: it replays records by the same rules as
//! recovery (`replay.rs`).
//!
//! [`Wal::open`]: super::Wal::open

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::error::WalError;
use super::payload::Record;
use super::replay::Replay;
use super::segment_name::list_segments;
use super::segment_scan::{ScanStop, scan};
use super::snapshot_file;
use crate::raft::types::{Entry, HardState, Index, Snapshot, Term};

/// Everything found under `<dir>/wal` and `<dir>/snap`.
#[derive(Debug, Default)]
pub struct LogReport {
    /// Oldest first.
    pub segments: Vec<SegmentReport>,
    /// Oldest first.
    pub snapshots: Vec<SnapshotReport>,
    /// The newest snapshot that checks out.
    pub snapshot: Option<Snapshot>,
    /// The last hard state read before the first damage.
    pub hard_state: HardState,
    /// The log after `snapshot`, read up to the first damage.
    pub entries: Vec<Entry>,
    /// Torn tails and damage, in the order they were met.
    pub problems: Vec<Problem>,
}

/// One WAL segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentReport {
    pub path: PathBuf,
    pub bytes: u64,
    /// Where its intact records end (the rest is reserved zeros, a torn
    /// tail or damage).
    pub used: u64,
    /// Intact records read from its front.
    pub records: u64,
    /// Entry records among them.
    pub entries: u64,
    /// The lowest and highest entry index among them.
    pub entry_range: Option<(Index, Index)>,
}

/// One snapshot file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotReport {
    pub path: PathBuf,
    pub term: Term,
    pub index: Index,
    pub bytes: u64,
    /// It checks out (checksum, lengths, metadata matching its name).
    pub ok: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A write cut short by a crash at the end of the last segment: the
    /// machine cuts it off when it starts; nothing acknowledged is lost.
    TornTail,
    /// Bytes that are not what this etcd wrote: the machine refuses to start.
    Corrupt,
    /// The file could not be read at all.
    Unreadable,
    /// A segment is missing between two others.
    Missing,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::TornTail => "torn tail",
            ProblemKind::Corrupt => "corrupt",
            ProblemKind::Unreadable => "unreadable",
            ProblemKind::Missing => "missing",
        }
    }
}

/// Something wrong in one file, at one offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub offset: u64,
    pub kind: ProblemKind,
    pub reason: String,
}

impl Problem {
    /// Everything but a torn tail, which a restart repairs by itself.
    pub fn is_damage(&self) -> bool {
        self.kind != ProblemKind::TornTail
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at offset {}: {}: {}",
            self.file.display(),
            self.offset,
            self.kind.as_str(),
            self.reason
        )
    }
}

/// Reads `<dir>/wal` and `<dir>/snap` (either may be missing). Fails only
/// when a directory exists but cannot be listed.
pub fn read_only(dir: &Path) -> io::Result<LogReport> {
    let mut report = LogReport::default();
    read_snapshots(&dir.join("snap"), &mut report)?;
    let replay = read_segments(&dir.join("wal"), &mut report)?;
    let (hard_state, entries) = replay.finish(report.snapshot.as_ref().map(|s| &s.meta));
    report.hard_state = hard_state;
    report.entries = entries;
    Ok(report)
}

fn read_snapshots(snap_dir: &Path, report: &mut LogReport) -> io::Result<()> {
    if !snap_dir.is_dir() {
        return Ok(());
    }
    for file in snapshot_file::list(snap_dir)? {
        let bytes = fs::metadata(&file.path).map(|m| m.len()).unwrap_or(0);
        let result = snapshot_file::read(&file);
        report.snapshots.push(SnapshotReport {
            path: file.path.clone(),
            term: file.term,
            index: file.index,
            bytes,
            ok: result.is_ok(),
        });
        match result {
            // Listed oldest first: the last one that checks out wins.
            Ok(snap) => report.snapshot = Some(snap),
            Err(WalError::Corrupt {
                file,
                offset,
                reason,
            }) => report.problems.push(Problem {
                file,
                offset,
                kind: ProblemKind::Corrupt,
                reason,
            }),
            Err(WalError::Io(e)) => report.problems.push(Problem {
                file: file.path,
                offset: 0,
                kind: ProblemKind::Unreadable,
                reason: e.to_string(),
            }),
        }
    }
    Ok(())
}

/// Scans every segment for the report; replays records only up to the
/// first damage, since a log with a hole must not be applied past it.
fn read_segments(wal_dir: &Path, report: &mut LogReport) -> io::Result<Replay> {
    let mut replay = Replay::new();
    if !wal_dir.is_dir() {
        return Ok(replay);
    }
    let found = list_segments(wal_dir)?;
    let mut damaged = false;
    let mut previous_seq = None;
    for (i, (name, path)) in found.iter().enumerate() {
        if let Some(prev) = previous_seq
            && name.seq != prev + 1
        {
            report.problems.push(Problem {
                file: path.clone(),
                offset: 0,
                kind: ProblemKind::Missing,
                reason: format!("segment {} is missing before it", prev + 1),
            });
            damaged = true;
        }
        previous_seq = Some(name.seq);
        let mut segment = SegmentReport {
            path: path.clone(),
            bytes: 0,
            used: 0,
            records: 0,
            entries: 0,
            entry_range: None,
        };
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                report.problems.push(Problem {
                    file: path.clone(),
                    offset: 0,
                    kind: ProblemKind::Unreadable,
                    reason: e.to_string(),
                });
                report.segments.push(segment);
                damaged = true;
                continue;
            }
        };
        segment.bytes = bytes.len() as u64;
        let (records, stop, used) = scan(path, &bytes, i + 1 == found.len());
        segment.used = used as u64;
        drop(bytes);
        segment.records = records.len() as u64;
        for record in records {
            if let Record::Entry(e) = &record {
                segment.entries += 1;
                segment.entry_range = Some(match segment.entry_range {
                    Some((low, high)) => (low.min(e.index), high.max(e.index)),
                    None => (e.index, e.index),
                });
            }
            if !damaged {
                replay.apply(record);
            }
        }
        match stop {
            None => {}
            Some(ScanStop::Torn { offset, reason }) => report.problems.push(Problem {
                file: path.clone(),
                offset,
                kind: ProblemKind::TornTail,
                reason,
            }),
            Some(ScanStop::Corrupt(error)) => {
                damaged = true;
                report.problems.push(match error {
                    WalError::Corrupt {
                        file,
                        offset,
                        reason,
                    } => Problem {
                        file,
                        offset,
                        kind: ProblemKind::Corrupt,
                        reason,
                    },
                    WalError::Io(e) => Problem {
                        file: path.clone(),
                        offset: 0,
                        kind: ProblemKind::Unreadable,
                        reason: e.to_string(),
                    },
                });
            }
        }
        report.segments.push(segment);
    }
    Ok(replay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::types::{ConfState, EntryKind, SnapshotMeta};
    use crate::wal::{Wal, WalOptions};

    fn entry(index: Index) -> Entry {
        Entry {
            term: 1,
            index,
            kind: EntryKind::Normal,
            data: format!("value number {index}, long enough to corrupt").into_bytes(),
        }
    }

    /// A data dir with entries 1..=n, committed, in small segments.
    fn data_dir(n: u64) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(
            dir.path(),
            WalOptions {
                segment_bytes: 1024,
                preallocate: false,
            },
        )
        .unwrap();
        for i in 1..=n {
            let hs = HardState {
                term: 1,
                vote: 7,
                commit: i,
            };
            wal.append(&[entry(i)], Some(&hs)).unwrap();
        }
        wal.sync().unwrap();
        dir
    }

    fn listing(dir: &Path) -> Vec<(PathBuf, u64)> {
        let mut all = Vec::new();
        for sub in ["wal", "snap"] {
            for item in fs::read_dir(dir.join(sub)).unwrap() {
                let item = item.unwrap();
                all.push((item.path(), item.metadata().unwrap().len()));
            }
        }
        all.sort();
        all
    }

    #[test]
    fn a_healthy_log_reads_whole_with_ranges_per_segment() {
        let dir = data_dir(40);
        let report = read_only(dir.path()).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.entries.len(), 40);
        assert_eq!(report.hard_state.commit, 40);
        assert!(report.segments.len() > 1);
        let first = report.segments[0].entry_range.unwrap();
        let last = report.segments.last().unwrap().entry_range.unwrap();
        assert_eq!((first.0, last.1), (1, 40));
        let total: u64 = report.segments.iter().map(|s| s.entries).sum();
        assert_eq!(total, 40);
    }

    #[test]
    fn a_torn_tail_is_reported_and_left_in_place() {
        let dir = data_dir(5);
        let last = list_segments(&dir.path().join("wal"))
            .unwrap()
            .pop()
            .unwrap()
            .1;
        let mut bytes = fs::read(&last).unwrap();
        let end = bytes.len() as u64;
        bytes.extend_from_slice(&[0x40, 0, 0, 0, 0xde, 0xad]);
        fs::write(&last, &bytes).unwrap();
        let before = listing(dir.path());
        let report = read_only(dir.path()).unwrap();
        assert_eq!(listing(dir.path()), before, "nothing may change");
        assert_eq!(report.problems.len(), 1);
        let problem = &report.problems[0];
        assert_eq!(
            (problem.kind, problem.offset, &problem.file),
            (ProblemKind::TornTail, end, &last)
        );
        assert!(!problem.is_damage());
        assert_eq!(report.entries.len(), 5);
    }

    #[test]
    fn damage_in_the_middle_names_file_and_offset_and_stops_the_replay_there() {
        let dir = data_dir(40);
        let segments = list_segments(&dir.path().join("wal")).unwrap();
        let (_, victim) = &segments[1];
        let mut bytes = fs::read(victim).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        fs::write(victim, &bytes).unwrap();
        let report = read_only(dir.path()).unwrap();
        let damage: Vec<_> = report.problems.iter().filter(|p| p.is_damage()).collect();
        assert_eq!(damage.len(), 1, "{:?}", report.problems);
        assert_eq!(&damage[0].file, victim);
        assert!(damage[0].offset <= middle as u64);
        assert!(damage[0].to_string().contains("at offset"));
        // The replay keeps only what precedes the damage, and every segment
        // is still listed.
        assert!(report.entries.len() < 40);
        assert!(!report.entries.is_empty());
        assert_eq!(report.segments.len(), segments.len());
    }

    #[test]
    fn a_corrupt_newest_snapshot_is_listed_and_the_older_one_used() {
        let dir = tempfile::tempdir().unwrap();
        let snap_dir = dir.path().join("snap");
        fs::create_dir_all(&snap_dir).unwrap();
        let snap = |index| Snapshot {
            meta: SnapshotMeta {
                index,
                term: 2,
                conf: ConfState { voters: vec![1] },
            },
            data: b"data".to_vec(),
        };
        snapshot_file::write(&snap_dir, &snap(5)).unwrap();
        let newest = snapshot_file::write(&snap_dir, &snap(9)).unwrap();
        let mut bytes = fs::read(&newest).unwrap();
        bytes[0] ^= 1;
        fs::write(&newest, bytes).unwrap();
        let report = read_only(dir.path()).unwrap();
        assert_eq!(report.snapshot.map(|s| s.meta.index), Some(5));
        assert_eq!(
            report.snapshots.iter().map(|s| s.ok).collect::<Vec<_>>(),
            [true, false]
        );
        assert_eq!(report.problems[0].file, newest);
        assert!(!dir.path().join("wal").exists(), "no directory is created");
    }
}
