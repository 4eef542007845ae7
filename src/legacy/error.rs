//! What can be wrong with an etcd 0.4 data dir: always a file, a byte
//! offset in it and a reason, so the one line start-up stops with says
//! where to look.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyError {
    pub file: PathBuf,
    /// Where in `file` the problem starts (0 for the file as a whole).
    pub offset: u64,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An entry's first line is not `%8x\n`.
    BadLengthLine,
    /// An entry runs past the end of the file although complete entries
    /// follow where it says it ends: its length line was altered, this is
    /// not a torn write.
    LengthPastEnd {
        declared: usize,
        present: usize,
    },
    /// The bytes of an entry are not a protobuf `LogEntry`.
    Protobuf(String),
    /// A field the `LogEntry` message requires is absent.
    MissingField(&'static str),
    /// Entries must count up by one.
    IndexOrder {
        previous: u64,
        found: u64,
    },
    /// Terms never go down along a Raft log.
    TermOrder {
        previous: u64,
        found: u64,
    },
    /// A command name etcd 0.4.x never wrote.
    UnknownCommand(String),
    /// A known command whose JSON does not decode.
    BadCommand {
        name: String,
        reason: String,
    },
    /// Entries are missing between what the snapshot covers and the log.
    LogGap {
        first: u64,
        covered: u64,
    },
    /// The log's entry at the snapshot's index is from another term.
    SnapshotTermMismatch {
        index: u64,
        log_term: u64,
        snapshot_term: u64,
    },
    /// A snapshot's first line is not eight hex digits and a newline.
    BadChecksumLine,
    ChecksumMismatch {
        stored: u32,
        computed: u32,
    },
    /// JSON (of `conf`, a snapshot, or the store inside it) does not decode.
    BadJson(String),
    /// The file name `<term>_<index>.ss` and the contents disagree.
    NameMismatch {
        name: String,
        term: u64,
        index: u64,
    },
    /// The store state inside a snapshot is inconsistent.
    BadState(String),
    /// The data dir is another machine's.
    NotThisMachine {
        name: String,
        reason: String,
    },
}

impl LegacyError {
    /// A JSON decoding error in `json`, which starts at byte `base` of `file`.
    pub fn json(file: &std::path::Path, base: u64, json: &[u8], err: &serde_json::Error) -> Self {
        LegacyError {
            file: file.to_path_buf(),
            offset: base + json_offset(json, err),
            problem: Problem::BadJson(err.to_string()),
        }
    }
}

/// serde_json reports a line and a column; the byte they point at.
fn json_offset(json: &[u8], err: &serde_json::Error) -> u64 {
    let line_start = json
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(err.line().saturating_sub(2))
        .map_or(0, |(i, _)| i + 1);
    let line_start = if err.line() <= 1 { 0 } else { line_start };
    (line_start + err.column().saturating_sub(1)).min(json.len()) as u64
}

impl fmt::Display for LegacyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at byte {}: {}",
            self.file.display(),
            self.offset,
            self.problem
        )
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BadLengthLine => {
                write!(
                    f,
                    "the entry's length line is not 8 hex digits and a newline"
                )
            }
            Problem::LengthPastEnd { declared, present } => write!(
                f,
                "the entry says it is {declared} bytes but only {present} remain, \
                 and complete entries follow: its length line is damaged"
            ),
            Problem::Protobuf(why) => write!(f, "the entry is not a protobuf LogEntry: {why}"),
            Problem::MissingField(field) => write!(f, "the entry has no {field} field"),
            Problem::IndexOrder { previous, found } => {
                write!(f, "entry {found} follows entry {previous}")
            }
            Problem::TermOrder { previous, found } => {
                write!(
                    f,
                    "the entry's term {found} is below the previous entry's {previous}"
                )
            }
            Problem::UnknownCommand(name) => write!(f, "unknown command name {name:?}"),
            Problem::BadCommand { name, reason } => write!(f, "bad {name} command: {reason}"),
            Problem::LogGap { first, covered } => write!(
                f,
                "the log starts at entry {first} but the snapshot only covers up to {covered}: \
                 entries are missing"
            ),
            Problem::SnapshotTermMismatch {
                index,
                log_term,
                snapshot_term,
            } => write!(
                f,
                "entry {index} has term {log_term} but the snapshot at that index says term \
                 {snapshot_term}"
            ),
            Problem::BadChecksumLine => {
                write!(
                    f,
                    "the first line is not an 8-hex-digit checksum and a newline"
                )
            }
            Problem::ChecksumMismatch { stored, computed } => write!(
                f,
                "CRC-32 mismatch: the file says {stored:08x}, its contents give {computed:08x}"
            ),
            Problem::BadJson(why) => write!(f, "bad JSON: {why}"),
            Problem::NameMismatch { name, term, index } => write!(
                f,
                "the file is named {name} but holds term {term} index {index}"
            ),
            Problem::BadState(why) => write!(f, "bad store state: {why}"),
            Problem::NotThisMachine { name, reason } => {
                write!(
                    f,
                    "this is not the data dir of a member named {name}: {reason}"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_point_at_the_byte() {
        let json = b"{\"a\":1,\n\"b\":x}";
        let err = serde_json::from_slice::<serde_json::Value>(json).unwrap_err();
        let e = LegacyError::json(std::path::Path::new("conf"), 9, json, &err);
        assert_eq!(json[(e.offset - 9) as usize], b'x');
        let one_line = b"[1,2,}";
        let err = serde_json::from_slice::<serde_json::Value>(one_line).unwrap_err();
        let e = LegacyError::json(std::path::Path::new("conf"), 0, one_line, &err);
        assert_eq!(one_line[e.offset as usize], b'}');
    }

    #[test]
    fn errors_are_one_line_naming_file_offset_and_reason() {
        let err = LegacyError {
            file: PathBuf::from("/data/m1/log"),
            offset: 5123,
            problem: Problem::UnknownCommand("etcd:frobnicate".into()),
        };
        let text = err.to_string();
        assert_eq!(
            text,
            "/data/m1/log at byte 5123: unknown command name \"etcd:frobnicate\""
        );
        let long = LegacyError {
            file: PathBuf::from("log"),
            offset: 0,
            problem: Problem::LengthPastEnd {
                declared: 9,
                present: 2,
            },
        };
        assert!(!long.to_string().contains('\n'));
    }
}
