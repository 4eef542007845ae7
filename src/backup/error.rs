//! Why a backup file cannot be read. Each variant is one line a user can
//! act on: a foreign file, a version this etcd does not read, a file cut
//! short (an interrupted download), or damaged bytes at an offset.

use std::fmt;
use std::io;

use super::format::VERSION;

#[derive(Debug)]
pub enum BackupError {
    /// The operating system refused a read.
    Io(io::Error),
    /// The file does not begin with the backup magic.
    Foreign,
    /// A backup, but of a format version this etcd does not read.
    UnknownVersion(u32),
    /// The file ends at `offset`: inside a record, or after whole records
    /// but before the end record.
    Truncated { offset: u64, inside_record: bool },
    /// The bytes at `offset` are not what a backup writer wrote.
    Corrupt { offset: u64, reason: String },
}

impl fmt::Display for BackupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackupError::Io(e) => write!(f, "read error: {e}"),
            BackupError::Foreign => f.write_str(
                "not an etcd backup file (it does not begin with the backup magic bytes)",
            ),
            BackupError::UnknownVersion(v) => write!(
                f,
                "unknown backup format version {v} (this etcd reads version {VERSION})"
            ),
            BackupError::Truncated {
                offset,
                inside_record: true,
            } => write!(
                f,
                "truncated: the file ends at byte {offset}, inside a record (an interrupted copy?)"
            ),
            BackupError::Truncated {
                offset,
                inside_record: false,
            } => write!(
                f,
                "truncated: the file ends at byte {offset} without its end record (an interrupted copy?)"
            ),
            BackupError::Corrupt { offset, reason } => {
                write!(f, "corrupt at byte {offset}: {reason}")
            }
        }
    }
}

impl std::error::Error for BackupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BackupError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for BackupError {
    fn from(e: io::Error) -> Self {
        BackupError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_is_one_line_saying_which_kind() {
        let all = [
            (BackupError::Foreign, "not an etcd backup"),
            (BackupError::UnknownVersion(9), "version 9"),
            (
                BackupError::Truncated {
                    offset: 12,
                    inside_record: true,
                },
                "truncated",
            ),
            (
                BackupError::Truncated {
                    offset: 12,
                    inside_record: false,
                },
                "truncated",
            ),
            (
                BackupError::Corrupt {
                    offset: 40,
                    reason: "record checksum mismatch".into(),
                },
                "corrupt at byte 40",
            ),
        ];
        for (error, needle) in all {
            let text = error.to_string();
            assert!(!text.contains('\n'), "{text}");
            assert!(text.contains(needle), "{text}");
        }
    }
}
