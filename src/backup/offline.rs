//! `etcd -backup-data-dir DIR -backup-file FILE`: the same backup file as
//! `GET /v2/admin/backup`, written from a stopped member's data dir — one
//! that may even refuse to start. The data dir is read through `datadir`
//! (read-only, no lock file created, nothing repaired) and rebuilt as of
//! its commit index, which is what the member would hold after a restart.
//!
//! A log damaged in the middle is read up to the damage: the backup then
//! holds the last consistent state before it, and each damage is reported
//! (file and offset) so the caller can exit with a distinct status.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::format::Origin;
use super::progress::Progress;
use super::writer::{self, Source, Written};
use crate::datadir::{self, DataDir, DataDirError, LockState};
use crate::server::clock::now_nanos;
use crate::wal::fsync_dir;

/// What was written, and what was wrong with the data dir.
#[derive(Debug)]
pub struct OfflineBackup {
    pub written: Written,
    pub raft_index: u64,
    pub raft_term: u64,
    /// One line per damaged part, naming file and offset; the backup stops
    /// before the first one.
    pub damage: Vec<String>,
}

#[derive(Debug)]
pub enum OfflineError {
    DataDir(DataDirError),
    /// A running etcd holds the data dir.
    InUse(PathBuf),
    /// The snapshot's contents do not decode: there is nothing to start from.
    Unusable {
        dir: PathBuf,
        reason: String,
    },
    Write {
        file: PathBuf,
        error: io::Error,
    },
}

impl fmt::Display for OfflineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OfflineError::DataDir(e) => e.fmt(f),
            OfflineError::InUse(dir) => write!(
                f,
                "{} is in use by a running etcd: take an online backup instead \
                 (GET /v2/admin/backup on its peer port)",
                dir.display()
            ),
            OfflineError::Unusable { dir, reason } => {
                write!(f, "cannot rebuild the data of {}: {reason}", dir.display())
            }
            OfflineError::Write { file, error } => {
                write!(f, "cannot write the backup {}: {error}", file.display())
            }
        }
    }
}

impl std::error::Error for OfflineError {}

/// Writes a backup of the data dir `dir` to `file` (`-` for stdout).
/// A file is written beside its name and renamed into place once complete
/// and synced. `progress` gets a line at least every second.
pub fn backup_data_dir(
    dir: &Path,
    file: &Path,
    progress: &mut dyn FnMut(String),
) -> Result<OfflineBackup, OfflineError> {
    let data_dir = DataDir::open(dir).map_err(OfflineError::DataDir)?;
    if data_dir.lock == LockState::InUse {
        return Err(OfflineError::InUse(dir.to_path_buf()));
    }
    let mut progress = Progress::new("backup", progress);
    let state = datadir::replay(&data_dir.log, &mut |done, total| {
        progress.keys(done, total);
    })
    .map_err(|reason| OfflineError::Unusable {
        dir: dir.to_path_buf(),
        reason,
    })?;
    let damage = data_dir
        .log
        .problems
        .iter()
        .filter(|p| p.is_damage())
        .map(|p| p.to_string())
        .collect();
    let source = Source {
        key_space: state.store.key_space(),
        members: state.members,
        config: state.config,
        auth: state.auth,
        raft_index: state.applied.0,
        raft_term: state.applied.1,
        taken_by: data_dir.name.clone().unwrap_or_default(),
        taken_at: now_nanos(),
        origin: Origin::Offline,
    };
    let write_error = |error| OfflineError::Write {
        file: file.to_path_buf(),
        error,
    };
    let mut on_keys = |done, total| progress.keys(done, total);
    let written = if file == Path::new("-") {
        let stdout = io::stdout();
        let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
        writer::write(&mut out, &source, &mut on_keys).map_err(write_error)?
    } else {
        write_file(file, &source, &mut on_keys).map_err(write_error)?
    };
    Ok(OfflineBackup {
        written,
        raft_index: source.raft_index,
        raft_term: source.raft_term,
        damage,
    })
}

fn write_file(
    file: &Path,
    source: &Source,
    progress: &mut dyn FnMut(u64, u64),
) -> io::Result<Written> {
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = file
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let temp = dir.join(format!(".{}.partial", name.to_string_lossy()));
    let result = (|| {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&temp)?);
        let written = writer::write(&mut out, source, progress)?;
        out.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()?;
        fs::rename(&temp, file)?;
        fsync_dir(&dir)?;
        Ok(written)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// The command line's `-backup-data-dir DIR -backup-file FILE`: progress,
/// damage and the result go to `err`; returns the exit status (0 written
/// whole, 2 written up to damage in the log, 1 nothing written).
pub fn backup_command(dir: &Path, file: &Path, err: &mut dyn Write) -> i32 {
    let result = {
        let mut sink = |line: String| {
            let _ = writeln!(err, "{line}");
        };
        backup_data_dir(dir, file, &mut sink)
    };
    match result {
        Ok(done) => {
            for line in &done.damage {
                let _ = writeln!(err, "etcd: damaged data dir: {line}");
            }
            let _ = writeln!(
                err,
                "wrote {}: store index {} (raft index {}, term {}), {} keys, {} bytes{}",
                file.display(),
                done.written.store_index,
                done.raft_index,
                done.raft_term,
                done.written.nodes,
                done.written.bytes,
                if done.damage.is_empty() {
                    ""
                } else {
                    "; the log is damaged, so the backup stops before the first damage"
                }
            );
            if done.damage.is_empty() { 0 } else { 2 }
        }
        Err(e) => {
            let _ = writeln!(err, "etcd: {e}");
            1
        }
    }
}
