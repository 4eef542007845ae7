//! `etcd -restore FILE`: a fresh data dir holding a backup's key space as a
//! new cluster of one machine, ready for the normal start-up to open.
//!
//! The whole file is read and checked before anything is written, and the
//! data dir is built beside its place and renamed into it, so a refused
//! file, a refused data dir or a crash half-way leaves no data dir behind.
//! What it writes is what a running member would have: a snapshot (the key
//! space, this machine as the only member and voter, the backup's cluster
//! settings) and a log whose hard state commits it. It never starts
//! threads or opens ports: `main` goes on to start the machine.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use super::error::BackupError;
use super::progress::Progress;
use super::reader::{self, Backup};
use crate::config::NAME_FILE;
use crate::membership::{MACHINES_DIR, Member, Members};
use crate::raft::types::{ConfState, HardState, Index, Snapshot, SnapshotMeta, Term};
use crate::server::snapshot_data::SnapshotData;
use crate::store::{KeyPath, SNAPSHOT_DEPTH_LIMIT};
use crate::wal::{Wal, WalError, WalOptions, fsync_dir, replace_file, snapshot_file};

/// What a restore produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The backup's store index: the next write gets the one after it.
    pub store_index: u64,
    pub raft_index: Index,
    pub raft_term: Term,
    /// Nodes in the key space (the rewritten registry counted).
    pub nodes: u64,
    pub taken_by: String,
    pub taken_at: String,
}

#[derive(Debug)]
pub enum RestoreError {
    /// The data dir exists and is not empty; `holds` names a few entries.
    NotEmpty {
        dir: PathBuf,
        holds: String,
    },
    NotADirectory {
        dir: PathBuf,
    },
    /// The data dir's parent or the data dir itself cannot be looked at.
    Unreadable {
        dir: PathBuf,
        error: io::Error,
    },
    Open {
        file: PathBuf,
        error: io::Error,
    },
    Backup {
        file: PathBuf,
        error: BackupError,
    },
    /// The tree is deeper than a snapshot can be read back with.
    TooDeep {
        file: PathBuf,
        depth: usize,
    },
    Write {
        dir: PathBuf,
        error: io::Error,
    },
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestoreError::NotEmpty { dir, holds } => write!(
                f,
                "refusing to restore into {}: it already holds data ({holds}); -restore needs \
                 a new or empty -data-dir",
                dir.display()
            ),
            RestoreError::NotADirectory { dir } => write!(
                f,
                "refusing to restore into {}: it exists and is not a directory",
                dir.display()
            ),
            RestoreError::Unreadable { dir, error } => {
                write!(f, "cannot look at the data dir {}: {error}", dir.display())
            }
            RestoreError::Open { file, error } => {
                write!(f, "cannot open the backup {}: {error}", file.display())
            }
            RestoreError::Backup { file, error } => {
                write!(f, "cannot restore from {}: {error}", file.display())
            }
            RestoreError::TooDeep { file, depth } => write!(
                f,
                "cannot restore from {}: its key tree is {depth} levels deep, and this etcd's \
                 snapshots can be read back only up to {SNAPSHOT_DEPTH_LIMIT} levels",
                file.display()
            ),
            RestoreError::Write { dir, error } => write!(
                f,
                "cannot write the restored data dir {}: {error}",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for RestoreError {}

/// Restores `file` into `data_dir` for the member `me`. `progress` gets a
/// line at least every second while the work lasts.
pub fn restore(
    file: &Path,
    data_dir: &Path,
    me: &Member,
    progress: &mut dyn FnMut(String),
) -> Result<Restored, RestoreError> {
    let target = fresh_target(data_dir)?;
    let mut progress = Progress::new("restore", progress);
    let opened = File::open(file).map_err(|error| RestoreError::Open {
        file: file.to_path_buf(),
        error,
    })?;
    let mut input = BufReader::with_capacity(1 << 20, opened);
    let backup = reader::read(&mut input, &mut |done, total| progress.keys(done, total)).map_err(
        |error| RestoreError::Backup {
            file: file.to_path_buf(),
            error,
        },
    )?;
    let depth = backup.key_space.depth();
    if depth > SNAPSHOT_DEPTH_LIMIT {
        // The machine could not start from what would be written.
        return Err(RestoreError::TooDeep {
            file: file.to_path_buf(),
            depth,
        });
    }
    let (snapshot, restored) = build_snapshot(backup, me);
    progress.step(&format!("writing {}", data_dir.display()));
    write_data_dir(&target, &me.name, &snapshot).map_err(|error| RestoreError::Write {
        dir: data_dir.to_path_buf(),
        error,
    })?;
    Ok(restored)
}

/// The key space with this machine as the only registered member, as the
/// snapshot a one-machine cluster starts from. The registry is rewritten in
/// place, using no store index, so the next write gets the index after the
/// backup's.
fn build_snapshot(backup: Backup, me: &Member) -> (Snapshot, Restored) {
    let Backup {
        header,
        mut key_space,
        ..
    } = backup;
    key_space.replace_files_in(
        &KeyPath::parse(MACHINES_DIR),
        &[(me.name.clone(), me.registry_value())],
    );
    let nodes = key_space.counts().total();
    let store = key_space.into_store();
    let mut members = Members::default();
    members.upsert(me.clone());
    let data = SnapshotData {
        store: store.snapshot(),
        members,
        config: header.config.raised(),
        auth: header.auth.clone(),
    };
    // Raft's log starts after the backup's applied index, so X-Raft-Index
    // carries on too; index 0 is reserved for "no snapshot".
    let meta = SnapshotMeta {
        index: header.raft_index.max(1),
        term: header.raft_term.max(1),
        conf: ConfState {
            voters: vec![me.id],
        },
    };
    let restored = Restored {
        store_index: store.index(),
        raft_index: meta.index,
        raft_term: meta.term,
        nodes,
        taken_by: header.taken_by,
        taken_at: header.taken_at,
    };
    let snapshot = Snapshot {
        meta,
        data: data.encode(),
    };
    (snapshot, restored)
}

/// Where the restored data dir goes: `data_dir` itself (or what a symlink
/// there points at), which must not exist or be empty.
fn fresh_target(data_dir: &Path) -> Result<PathBuf, RestoreError> {
    let unreadable = |error| RestoreError::Unreadable {
        dir: data_dir.to_path_buf(),
        error,
    };
    let meta = match fs::metadata(data_dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(data_dir.to_path_buf()),
        Err(e) => return Err(unreadable(e)),
    };
    if !meta.is_dir() {
        return Err(RestoreError::NotADirectory {
            dir: data_dir.to_path_buf(),
        });
    }
    let mut names: Vec<String> = fs::read_dir(data_dir)
        .map_err(unreadable)?
        .filter_map(|item| item.ok())
        .map(|item| item.file_name().to_string_lossy().into_owned())
        .collect();
    if !names.is_empty() {
        names.sort();
        let more = names.len().saturating_sub(4);
        names.truncate(4);
        let mut holds = names.join(", ");
        if more > 0 {
            holds.push_str(&format!(" and {more} more"));
        }
        return Err(RestoreError::NotEmpty {
            dir: data_dir.to_path_buf(),
            holds,
        });
    }
    fs::canonicalize(data_dir).map_err(unreadable)
}

/// Builds the data dir at `<parent>/.<name>.restoring`, then renames it to
/// `target` (replacing an empty directory there) and syncs the parent.
fn write_data_dir(target: &Path, name: &str, snapshot: &Snapshot) -> io::Result<()> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the data dir has no name"))?;
    fs::create_dir_all(&parent)?;
    let staging = parent.join(format!(".{}.restoring", base.to_string_lossy()));
    // Left by an earlier restore that died before its rename; ours by name.
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir(&staging)?;
    replace_file(&staging, NAME_FILE, name.as_bytes())?;
    let snap_dir = staging.join("snap");
    fs::create_dir(&snap_dir)?;
    snapshot_file::write(&snap_dir, snapshot)?;
    let (mut wal, _) = Wal::open(&staging, WalOptions::default()).map_err(|e| match e {
        WalError::Io(e) => e,
        other => io::Error::other(other.to_string()),
    })?;
    let hard_state = HardState {
        term: snapshot.meta.term,
        vote: 0,
        commit: snapshot.meta.index,
    };
    wal.append(&[], Some(&hard_state))?;
    wal.sync()?;
    drop(wal);
    fsync_dir(&staging)?;
    fs::rename(&staging, target)?;
    fsync_dir(&parent)
}
