//! What can go wrong when opening the log.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum WalError {
    /// The operating system refused a read, write, rename or fsync.
    Io(io::Error),
    /// Bytes on disk that are not a torn tail: the process must not start
    /// on them, because something it once made durable is gone or altered.
    Corrupt {
        file: PathBuf,
        offset: u64,
        reason: String,
    },
}

impl fmt::Display for WalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalError::Io(e) => write!(f, "write-ahead log I/O error: {e}"),
            WalError::Corrupt {
                file,
                offset,
                reason,
            } => write!(
                f,
                "corrupt data in {} at offset {offset}: {reason}",
                file.display()
            ),
        }
    }
}

impl std::error::Error for WalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WalError::Io(e) => Some(e),
            WalError::Corrupt { .. } => None,
        }
    }
}

impl From<io::Error> for WalError {
    fn from(e: io::Error) -> Self {
        WalError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_error_displays_one_line_naming_file_and_offset() {
        let err = WalError::Corrupt {
            file: PathBuf::from("/data/wal/0000000000000001-0000000000000001.wal"),
            offset: 4242,
            reason: "checksum mismatch".to_string(),
        };
        let text = err.to_string();
        assert!(!text.contains('\n'));
        assert!(text.contains("/data/wal/0000000000000001-0000000000000001.wal"));
        assert!(text.contains("4242"));
        assert!(text.contains("checksum mismatch"));
    }
}
