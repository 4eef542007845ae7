//! Taking over a data dir that etcd 0.4 wrote, at start-up, before `boot`
//! opens it as ours: when it holds 0.4's files (`conf`, `log`,
//! `snapshot/`) and none of ours (`wal/`), they are read and checked as a
//! whole (`legacy`), our snapshot and WAL are written from them, and the
//! 0.4 files are moved, untouched, into `etcd-0.4/`. It never changes the
//! 0.4 files and never decides anything about their contents.
//!
//! Steps, each durable before the next (file and directory fsyncs):
//!
//! 1. read and check everything; a problem stops start-up with one line
//!    (file, byte offset, reason) and nothing on disk has changed;
//! 2. build `snap/` and `wal/` inside `etcd-0.4-takeover/`;
//! 3. rename `etcd-0.4-takeover/snap` to `snap/`, then
//!    `etcd-0.4-takeover/wal` to `wal/`: from here on the dir is ours
//!    (`wal/` marks it), and `boot` starts from it as from any of ours;
//! 4. move the 0.4 files into `etcd-0.4/` one by one, then remove
//!    `etcd-0.4-takeover/`.
//!
//! A crash anywhere restarts cleanly: before `wal/` exists, the 0.4 files
//! are all in place and whatever steps 2-3 left (the work dir, a `snap/`
//! renamed from it) is removed and the takeover done again; once `wal/`
//! exists, a remaining `etcd-0.4-takeover/` says step 4 is unfinished and
//! it is finished.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use log::{info, warn};

use crate::legacy::{self, Files, Plan};
use crate::wal::{Wal, WalOptions, fsync_dir, snapshot_file};

/// Where the 0.4 files end up.
pub const ORIGINALS_DIR: &str = "etcd-0.4";
/// Where ours are built; while it exists the takeover is unfinished.
const WORK_DIR: &str = "etcd-0.4-takeover";
/// What 0.4 (goraft) leaves in a data dir: the files that say it is one,
/// then leftovers of its own interrupted writes and pre-0.3's `info`.
/// (`standby_info` has the same name and form in ours; it stays.)
const SIGNS: [&str; 3] = ["conf", "log", "snapshot"];
const LEFTOVERS: [&str; 3] = ["conf.tmp", "log.new", "info"];

fn io_error(what: &str, path: &Path, e: std::io::Error) -> String {
    format!("cannot {what} {}: {e}", path.display())
}

fn present(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn holds_0_4_files(data_dir: &Path) -> bool {
    SIGNS.iter().any(|name| present(&data_dir.join(name)))
}

/// Takes over `data_dir` if it holds etcd 0.4's files and not ours, or
/// finishes a takeover a crash interrupted. `name` is this machine's.
pub fn take_over(data_dir: &Path, name: &str, wal_options: WalOptions) -> Result<(), String> {
    let work = data_dir.join(WORK_DIR);
    if present(&data_dir.join("wal")) {
        if present(&work) {
            set_files_aside(data_dir)?;
            remove_work_dir(data_dir)?;
            info!(
                "finished moving the etcd 0.4 files of {} into {ORIGINALS_DIR}/",
                data_dir.display()
            );
        }
        return Ok(());
    }
    if !holds_0_4_files(data_dir) {
        return Ok(());
    }
    let started = Instant::now();
    let plan = legacy::plan(read_files(data_dir)?, name)
        .map_err(|e| format!("cannot take over the etcd 0.4 data dir: {e}; nothing was changed"))?;
    for skipped in &plan.report.skipped {
        warn!("skipping etcd 0.4 snapshot {skipped}");
    }
    if let Some((path, tail)) = &plan.report.torn {
        warn!(
            "dropping a torn last entry of the etcd 0.4 log {} at byte {} ({} bytes{}): \
             0.4 did not fsync every write",
            path.display(),
            tail.offset,
            tail.present,
            tail.declared
                .map(|d| format!(" of {}", d + 9))
                .unwrap_or_default()
        );
    }
    if present(&work) {
        // An earlier attempt crashed before `wal/` was in place.
        remove_dir(&work)?;
        remove_dir(&data_dir.join("snap"))?;
        sync_dir(data_dir)?;
    } else if present(&data_dir.join("snap")) {
        return Err(format!(
            "{} holds etcd 0.4 files and a snap/ directory but no wal/: move one of them away",
            data_dir.display()
        ));
    }
    build(&work, &plan, wal_options)?;
    pause_after("built");
    for sub in ["snap", "wal"] {
        let (from, to) = (work.join(sub), data_dir.join(sub));
        fs::rename(&from, &to).map_err(|e| io_error("move into place", &from, e))?;
        sync_dir(data_dir)?;
        pause_after(sub);
    }
    set_files_aside(data_dir)?;
    remove_work_dir(data_dir)?;
    info!("{}", summary(data_dir, &plan, started));
    Ok(())
}

/// `-force` on a dir 0.4 wrote: start over, but keep its files aside
/// (unread) instead of taking them over.
pub fn set_aside_for_force(data_dir: &Path) -> Result<(), String> {
    let work = data_dir.join(WORK_DIR);
    if present(&work) {
        remove_dir(&work)?;
        sync_dir(data_dir)?;
    }
    if holds_0_4_files(data_dir) {
        set_files_aside(data_dir)?;
        warn!(
            "-force: moved the etcd 0.4 files of {} into {ORIGINALS_DIR}/ without taking them over",
            data_dir.display()
        );
    }
    Ok(())
}

fn read_files(data_dir: &Path) -> Result<Files, String> {
    let read = |path: PathBuf| match fs::read(&path) {
        Ok(bytes) => Ok(Some((path, bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read", &path, e)),
    };
    let mut files = Files {
        conf: read(data_dir.join("conf"))?,
        log: read(data_dir.join("log"))?,
        snapshots: Vec::new(),
    };
    let dir = data_dir.join("snapshot");
    if dir.is_dir() {
        let listing = fs::read_dir(&dir).map_err(|e| io_error("list", &dir, e))?;
        for item in listing {
            let path = item.map_err(|e| io_error("list", &dir, e))?.path();
            if path.extension().is_some_and(|x| x == "ss")
                && let Some(file) = read(path)?
            {
                files.snapshots.push(file);
            }
        }
    }
    Ok(files)
}

/// Our snapshot and WAL, complete and durable, inside `work`.
fn build(work: &Path, plan: &Plan, wal_options: WalOptions) -> Result<(), String> {
    let parent = work.parent().unwrap_or(Path::new("."));
    fs::create_dir(work).map_err(|e| io_error("create", work, e))?;
    sync_dir(parent)?;
    pause_after("started");
    let snap_dir = work.join("snap");
    fs::create_dir(&snap_dir).map_err(|e| io_error("create", &snap_dir, e))?;
    if let Some(snap) = &plan.snapshot {
        snapshot_file::write(&snap_dir, snap)
            .map_err(|e| io_error("write a snapshot in", &snap_dir, e))?;
    }
    let (mut wal, found) = Wal::open(work, wal_options).map_err(|e| e.to_string())?;
    if found.snapshot.as_ref().map(|s| &s.meta) != plan.snapshot.as_ref().map(|s| &s.meta) {
        return Err(format!(
            "the snapshot just written in {} does not read back",
            snap_dir.display()
        ));
    }
    if !plan.is_empty() {
        let wal_dir = work.join("wal");
        wal.append(&plan.entries, Some(&plan.hard_state))
            .and_then(|()| wal.sync())
            .map_err(|e| io_error("write the log in", &wal_dir, e))?;
    }
    drop(wal);
    for dir in [work.join("wal"), snap_dir, work.to_path_buf()] {
        sync_dir(&dir)?;
    }
    Ok(())
}

/// Moves each 0.4 file still in the data dir into `etcd-0.4/` (a rename:
/// its bytes are untouched).
fn set_files_aside(data_dir: &Path) -> Result<(), String> {
    let originals = data_dir.join(ORIGINALS_DIR);
    if !present(&originals) {
        fs::create_dir(&originals).map_err(|e| io_error("create", &originals, e))?;
        sync_dir(data_dir)?;
    }
    for name in SIGNS.iter().chain(LEFTOVERS.iter()) {
        let from = data_dir.join(name);
        if !present(&from) {
            continue;
        }
        let to = originals.join(name);
        if present(&to) {
            return Err(format!(
                "cannot move {} aside: {} already exists",
                from.display(),
                to.display()
            ));
        }
        fs::rename(&from, &to).map_err(|e| io_error("move aside", &from, e))?;
        sync_dir(&originals)?;
        sync_dir(data_dir)?;
        pause_after(&format!("moved-{name}"));
    }
    Ok(())
}

fn remove_work_dir(data_dir: &Path) -> Result<(), String> {
    remove_dir(&data_dir.join(WORK_DIR))?;
    sync_dir(data_dir)
}

fn remove_dir(path: &Path) -> Result<(), String> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("remove", path, e)),
    }
}

fn sync_dir(path: &Path) -> Result<(), String> {
    fsync_dir(path).map_err(|e| io_error("fsync", path, e))
}

/// The one line saying what was taken over.
fn summary(data_dir: &Path, plan: &Plan, started: Instant) -> String {
    let r = &plan.report;
    let found = match &r.snapshot {
        Some((path, index, term)) => format!(
            "snapshot {} at index {index} (term {term}), {} keys, members {}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            r.keys,
            r.members.join(", ")
        ),
        None => "no snapshot".to_string(),
    };
    format!(
        "took over the etcd 0.4 data dir {}: {found}; {} log entries, {} after the snapshot, \
         committed up to {}; the 0.4 files are kept in {ORIGINALS_DIR}/ ({} ms)",
        data_dir.display(),
        r.log_entries,
        plan.entries.len(),
        plan.hard_state.commit,
        started.elapsed().as_millis()
    )
}

/// A test hook, not a setting: `ETCD_TAKEOVER_PAUSE_AFTER=<step>` stops
/// the takeover after that step (`started`, `built`, `snap`, `wal`,
/// `moved-conf`, `moved-log`, `moved-snapshot`), logs one line and waits
/// for ever, so that a test can `kill -9` the process exactly there.
fn pause_after(step: &str) {
    if std::env::var("ETCD_TAKEOVER_PAUSE_AFTER").is_ok_and(|s| s == step) {
        warn!("takeover paused after step {step} (ETCD_TAKEOVER_PAUSE_AFTER)");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, bytes: &[u8]) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    #[test]
    fn a_dir_without_0_4_files_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        take_over(dir.path(), "m1", WalOptions::default()).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_empty_0_4_dir_becomes_a_new_machine_with_its_files_aside() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("log"), b"");
        fs::create_dir(dir.path().join("snapshot")).unwrap();
        take_over(dir.path(), "m1", WalOptions::default()).unwrap();
        assert!(dir.path().join("wal").is_dir());
        assert!(dir.path().join("snap").is_dir());
        assert!(dir.path().join(ORIGINALS_DIR).join("log").is_file());
        assert!(dir.path().join(ORIGINALS_DIR).join("snapshot").is_dir());
        assert!(!present(&dir.path().join(WORK_DIR)));
        assert!(!present(&dir.path().join("log")));
        let (_, rec) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        assert!(rec.entries.is_empty() && rec.snapshot.is_none());
        assert_eq!(rec.hard_state, Default::default());
    }

    #[test]
    fn a_bad_log_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("log"), b"      zz\nrubbish");
        let err = take_over(dir.path(), "m1", WalOptions::default()).unwrap_err();
        assert!(err.contains("log at byte 0"), "{err}");
        assert!(err.contains("nothing was changed"));
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["log"]);
    }

    #[test]
    fn an_unfinished_move_is_finished_once_wal_exists() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("wal")).unwrap();
        fs::create_dir(dir.path().join(WORK_DIR)).unwrap();
        write(&dir.path().join("log"), b"x");
        fs::create_dir_all(dir.path().join(ORIGINALS_DIR)).unwrap();
        write(&dir.path().join(ORIGINALS_DIR).join("conf"), b"{}");
        take_over(dir.path(), "m1", WalOptions::default()).unwrap();
        assert_eq!(
            fs::read(dir.path().join(ORIGINALS_DIR).join("log")).unwrap(),
            b"x"
        );
        assert!(!present(&dir.path().join(WORK_DIR)));
        // Our own dir (wal/, no work dir) keeps even a file named `log`.
        write(&dir.path().join("log"), b"mine");
        take_over(dir.path(), "m1", WalOptions::default()).unwrap();
        assert_eq!(fs::read(dir.path().join("log")).unwrap(), b"mine");
    }

    #[test]
    fn leftovers_of_a_crash_before_wal_are_redone() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("log"), b"");
        write(&dir.path().join(WORK_DIR).join("wal").join("junk"), b"half");
        write(&dir.path().join("snap").join("junk"), b"half");
        take_over(dir.path(), "m1", WalOptions::default()).unwrap();
        assert!(!present(&dir.path().join("snap").join("junk")));
        assert!(!present(&dir.path().join("wal").join("junk")));
        assert!(dir.path().join(ORIGINALS_DIR).join("log").is_file());
    }

    #[test]
    fn a_snap_dir_of_unknown_origin_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("log"), b"");
        write(&dir.path().join("snap").join("precious"), b"x");
        let err = take_over(dir.path(), "m1", WalOptions::default()).unwrap_err();
        assert!(err.contains("no wal/"), "{err}");
        assert!(present(&dir.path().join("snap").join("precious")));
    }

    #[test]
    fn force_sets_the_files_aside_unread() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("log"), b"      zz\nnot even readable");
        write(&dir.path().join("conf"), b"{");
        set_aside_for_force(dir.path()).unwrap();
        assert!(!present(&dir.path().join("log")));
        assert_eq!(
            fs::read(dir.path().join(ORIGINALS_DIR).join("conf")).unwrap(),
            b"{"
        );
    }
}
