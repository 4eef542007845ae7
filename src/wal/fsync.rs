//! Making a directory's entries (created, renamed, removed files) durable,
//! and replacing a small file so that a crash leaves the old or the new.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// fsyncs the directory itself, so that files created, renamed or removed
/// in it survive a power loss. A file's own fsync does not cover its name.
pub fn fsync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// Writes `bytes` to `dir/name` through a temp file: written, fsynced,
/// renamed over the old one, and the directory fsynced.
pub fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, dir.join(name))?;
    fsync_dir(dir)
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
