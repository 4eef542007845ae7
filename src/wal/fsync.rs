//! Making a directory's entries (created, renamed, removed files) durable.

use std::fs::File;
use std::io;
use std::path::Path;

/// fsyncs the directory itself, so that files created, renamed or removed
/// in it survive a power loss. A file's own fsync does not cover its name.
pub fn fsync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsync_dir_succeeds_on_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(fsync_dir(dir.path()).is_ok());
    }

    #[test]
    fn fsync_dir_fails_on_a_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(fsync_dir(&dir.path().join("absent")).is_err());
    }
}
