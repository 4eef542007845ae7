//! Opening a data dir read-only: its recorded name, whether a running etcd
//! holds it, whether it was a standby, and its log and snapshots.
//!
//! No file is created or changed. The lock is probed with a shared lock on
//! the existing `lock` file (none is created); holding it while reading
//! keeps an etcd from starting on the directory half-way through.

use std::fmt;
use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use crate::cluster::standby_info;
use crate::config::NAME_FILE;
use crate::membership::node_id_for;
use crate::raft::types::NodeId;
use crate::wal::read_only::{self, LogReport};

/// Whether a running etcd holds the data dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockState {
    /// There is no `lock` file: no etcd ever ran here, or it was removed.
    NoLockFile,
    /// No process holds it (and this reader holds it shared meanwhile).
    Free,
    /// A running etcd holds it: what is read may be behind what it writes.
    InUse,
    /// The lock could not be probed.
    Unknown(String),
}

/// What a data dir holds, read without changing it.
#[derive(Debug)]
pub struct DataDir {
    pub path: PathBuf,
    /// The name recorded in `<dir>/name`.
    pub name: Option<String>,
    pub lock: LockState,
    /// `standby_info` says the machine waited as a standby when it stopped.
    pub standby: bool,
    pub log: LogReport,
    /// Keeps the shared lock while this value lives.
    _lock: Option<File>,
}

#[derive(Debug)]
pub enum DataDirError {
    NotFound(PathBuf),
    /// It exists but holds none of `wal/`, `snap/` or `name`.
    NotADataDir(PathBuf),
    Unreadable {
        path: PathBuf,
        error: io::Error,
    },
}

impl fmt::Display for DataDirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataDirError::NotFound(dir) => write!(f, "no data dir at {}", dir.display()),
            DataDirError::NotADataDir(dir) => write!(
                f,
                "{} is not an etcd data dir (it has no wal/, snap/ or name)",
                dir.display()
            ),
            DataDirError::Unreadable { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for DataDirError {}

impl DataDir {
    pub fn open(dir: &Path) -> Result<DataDir, DataDirError> {
        let unreadable = |path: &Path, error| DataDirError::Unreadable {
            path: path.to_path_buf(),
            error,
        };
        match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(DataDirError::NotADataDir(dir.to_path_buf())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(DataDirError::NotFound(dir.to_path_buf()));
            }
            Err(e) => return Err(unreadable(dir, e)),
        }
        let looks_like_one = ["wal", "snap", NAME_FILE]
            .iter()
            .any(|entry| dir.join(entry).exists());
        if !looks_like_one {
            return Err(DataDirError::NotADataDir(dir.to_path_buf()));
        }
        let (lock, held) = probe_lock(dir);
        let name_path = dir.join(NAME_FILE);
        let name = match fs::read_to_string(&name_path) {
            Ok(text) => Some(text.trim().to_string()).filter(|n| !n.is_empty()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(unreadable(&name_path, e)),
        };
        let standby = matches!(standby_info::load(dir), Ok(Some(info)) if info.running);
        let log = read_only::read_only(dir).map_err(|e| unreadable(dir, e))?;
        Ok(DataDir {
            path: dir.to_path_buf(),
            name,
            lock,
            standby,
            log,
            _lock: held,
        })
    }

    /// The Raft id of the recorded name.
    pub fn member_id(&self) -> Option<NodeId> {
        self.name.as_deref().map(node_id_for)
    }
}

fn probe_lock(dir: &Path) -> (LockState, Option<File>) {
    let file = match File::open(dir.join("lock")) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return (LockState::NoLockFile, None),
        Err(e) => return (LockState::Unknown(e.to_string()), None),
    };
    match file.try_lock_shared() {
        Ok(()) => (LockState::Free, Some(file)),
        Err(TryLockError::WouldBlock) => (LockState::InUse, None),
        Err(TryLockError::Error(e)) => (LockState::Unknown(e.to_string()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_foreign_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            DataDir::open(&dir.path().join("absent")),
            Err(DataDirError::NotFound(_))
        ));
        assert!(matches!(
            DataDir::open(dir.path()),
            Err(DataDirError::NotADataDir(_))
        ));
    }

    #[test]
    fn a_held_lock_is_seen_and_nothing_is_created() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(NAME_FILE), "m1\n").unwrap();
        let opened = DataDir::open(dir.path()).unwrap();
        assert_eq!(opened.lock, LockState::NoLockFile);
        assert_eq!(opened.name.as_deref(), Some("m1"));
        assert!(!dir.path().join("lock").exists());
        assert!(!dir.path().join("wal").exists());
        drop(opened);

        let lock = File::create(dir.path().join("lock")).unwrap();
        assert_eq!(DataDir::open(dir.path()).unwrap().lock, LockState::Free);
        lock.try_lock().unwrap();
        assert_eq!(DataDir::open(dir.path()).unwrap().lock, LockState::InUse);
    }
}
