//! Snapshot files in `<data-dir>/snap/`, named `<term:016x>-<index:016x>.snap`.
//!
//! Layout: `[u32 CRC-32C LE][u32 meta length LE][u64 data length LE][meta JSON][data]`,
//! the checksum covering everything after itself. A file is written as
//! `<name>.tmp`, fsynced, renamed into place and the directory fsynced, so a
//! crash leaves either the whole new file or none (stray temp files are
//! removed on open). The newest two are kept; loading takes the newest one
//! that checks out and falls back to the older one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::crc32c::Crc32c;
use super::error::WalError;
use super::fsync::{fsync_dir, write_paced};
use crate::raft::types::{Index, Snapshot, SnapshotMeta, Term};

const SUFFIX: &str = ".snap";
const TEMP_SUFFIX: &str = ".tmp";
const HEADER_LEN: usize = 16;

/// How many snapshot files are kept: the newest, plus one to fall back on.
pub const KEEP: usize = 2;

/// A snapshot file found in the directory, known by its name only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapFile {
    pub term: Term,
    pub index: Index,
    pub path: PathBuf,
}

pub fn file_name(term: Term, index: Index) -> String {
    format!("{term:016x}-{index:016x}{SUFFIX}")
}

fn parse_name(name: &str) -> Option<(Term, Index)> {
    let (term, index) = name.strip_suffix(SUFFIX)?.split_once('-')?;
    let hex16 = |s: &str| {
        let ok = s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            u64::from_str_radix(s, 16).ok()
        } else {
            None
        }
    };
    Some((hex16(term)?, hex16(index)?))
}

/// Snapshot files in `dir`, oldest first (by index, then term).
pub fn list(dir: &Path) -> io::Result<Vec<SnapFile>> {
    let mut found = Vec::new();
    for item in fs::read_dir(dir)? {
        let item = item?;
        if let Some((term, index)) = item.file_name().to_str().and_then(parse_name) {
            found.push(SnapFile {
                term,
                index,
                path: item.path(),
            });
        }
    }
    found.sort_by_key(|f| (f.index, f.term));
    Ok(found)
}

/// Removes temp files a crash left behind mid-write.
pub fn remove_temp_files(dir: &Path) -> io::Result<()> {
    let mut removed = false;
    for item in fs::read_dir(dir)? {
        let item = item?;
        if item
            .file_name()
            .to_str()
            .is_some_and(|n| n.ends_with(TEMP_SUFFIX))
        {
            fs::remove_file(item.path())?;
            removed = true;
        }
    }
    if removed {
        fsync_dir(dir)?;
    }
    Ok(())
}

fn too_large(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("snapshot {what} too large"),
    )
}

/// Writes `snap` durably into `dir` and returns its path.
pub fn write(dir: &Path, snap: &Snapshot) -> io::Result<PathBuf> {
    let meta = serde_json::to_vec(&snap.meta).map_err(io::Error::other)?;
    let meta_len = u32::try_from(meta.len()).map_err(|_| too_large("metadata"))?;
    let data_len = u64::try_from(snap.data.len()).map_err(|_| too_large("data"))?;
    let mut lengths = [0u8; HEADER_LEN - 4];
    lengths[..4].copy_from_slice(&meta_len.to_le_bytes());
    lengths[4..].copy_from_slice(&data_len.to_le_bytes());
    let mut crc = Crc32c::new();
    crc.update(&lengths);
    crc.update(&meta);
    crc.update(&snap.data);

    let name = file_name(snap.meta.term, snap.meta.index);
    let final_path = dir.join(&name);
    let temp_path = dir.join(format!("{name}{TEMP_SUFFIX}"));
    let mut head = Vec::with_capacity(HEADER_LEN + meta.len());
    head.extend_from_slice(&crc.finish().to_le_bytes());
    head.extend_from_slice(&lengths);
    head.extend_from_slice(&meta);
    let mut file = File::create(&temp_path)?;
    file.write_all(&head)?;
    // A snapshot is as large as the store: written so that the WAL's
    // fsyncs meanwhile do not wait for all of it (see `write_paced`).
    write_paced(&mut file, &snap.data)?;
    drop(file);
    fs::rename(&temp_path, &final_path)?;
    fsync_dir(dir)?;
    Ok(final_path)
}

/// The snapshot in a file's bytes, or why it cannot be used. The data is
/// moved to the front of the file's buffer rather than copied: a second
/// buffer as large as the store would double the memory a start needs.
pub(crate) fn decode(
    mut bytes: Vec<u8>,
    expect_term: Term,
    expect_index: Index,
) -> Result<Snapshot, String> {
    let header = bytes.get(..HEADER_LEN).ok_or("shorter than its header")?;
    let word = |at: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&header[at..at + 4]);
        u32::from_le_bytes(b)
    };
    let stored_crc = word(0);
    let meta_len = word(4) as usize;
    let mut data_len_bytes = [0u8; 8];
    data_len_bytes.copy_from_slice(&header[8..16]);
    let data_len = u64::from_le_bytes(data_len_bytes);
    let body_len = (bytes.len() - HEADER_LEN) as u64;
    if meta_len as u64 > body_len || data_len != body_len - meta_len as u64 {
        return Err(format!(
            "lengths in header ({meta_len} + {data_len}) do not match the file ({body_len})"
        ));
    }
    let mut crc = Crc32c::new();
    crc.update(&bytes[4..]);
    if crc.finish() != stored_crc {
        return Err("checksum mismatch".to_string());
    }
    let meta_end = HEADER_LEN + meta_len;
    let meta: SnapshotMeta = serde_json::from_slice(&bytes[HEADER_LEN..meta_end])
        .map_err(|e| format!("metadata does not parse: {e}"))?;
    if (meta.term, meta.index) != (expect_term, expect_index) {
        return Err(format!(
            "metadata says term {} index {}, the file name disagrees",
            meta.term, meta.index
        ));
    }
    bytes.drain(..meta_end);
    Ok(Snapshot { meta, data: bytes })
}

/// Reads and checks one snapshot file.
pub fn read(file: &SnapFile) -> Result<Snapshot, WalError> {
    let bytes = fs::read(&file.path)?;
    decode(bytes, file.term, file.index).map_err(|reason| WalError::Corrupt {
        file: file.path.clone(),
        offset: 0,
        reason,
    })
}

/// The newest snapshot that checks out. Broken newer ones are skipped with
/// a warning; if snapshot files exist and none checks out, that is an
/// error, because the log before them may already have been removed.
pub fn load_newest_valid(dir: &Path) -> Result<Option<Snapshot>, WalError> {
    let files = list(dir)?;
    let mut first_error = None;
    for file in files.iter().rev() {
        match read(file) {
            Ok(snap) => return Ok(Some(snap)),
            Err(WalError::Corrupt {
                file,
                offset,
                reason,
            }) => {
                log::warn!("skipping snapshot {}: {reason}", file.display());
                first_error.get_or_insert(WalError::Corrupt {
                    file,
                    offset,
                    reason,
                });
            }
            Err(io_error) => return Err(io_error),
        }
    }
    match first_error {
        Some(err) => Err(err),
        None => Ok(None),
    }
}

/// A snapshot whose data is left in its file: what Raft keeps in memory
/// (a full copy would cost as much as the store itself) and hands to the
/// peer senders, which [`fill`] it just before sending.
pub fn stub(meta: SnapshotMeta) -> Snapshot {
    Snapshot {
        meta,
        data: Vec::new(),
    }
}

/// Whether `snap` is a [`stub`]: real snapshot data is never empty (it
/// carries at least the member table's length).
pub fn is_stub(snap: &Snapshot) -> bool {
    snap.data.is_empty()
}

/// Reads the data of a [`stub`] from its file in `dir`. Fails if that file
/// is gone (a newer snapshot replaced it meanwhile) or does not check out;
/// the caller drops the message and Raft sends the newer one later.
pub fn fill(dir: &Path, snap: &mut Snapshot) -> Result<(), WalError> {
    let file = SnapFile {
        term: snap.meta.term,
        index: snap.meta.index,
        path: dir.join(file_name(snap.meta.term, snap.meta.index)),
    };
    *snap = read(&file)?;
    Ok(())
}

/// Removes all but the newest [`KEEP`] snapshot files; returns those kept,
/// oldest first.
pub fn prune(dir: &Path) -> io::Result<Vec<SnapFile>> {
    let mut files = list(dir)?;
    let excess = files.len().saturating_sub(KEEP);
    let kept = files.split_off(excess);
    for old in &files {
        fs::remove_file(&old.path)?;
    }
    if !files.is_empty() {
        fsync_dir(dir)?;
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::types::ConfState;

    fn snap(term: Term, index: Index, data: &[u8]) -> Snapshot {
        Snapshot {
            meta: SnapshotMeta {
                index,
                term,
                conf: ConfState {
                    voters: vec![1, 2, 3],
                },
            },
            data: data.to_vec(),
        }
    }

    #[test]
    fn a_stub_is_filled_from_its_file_and_fails_once_the_file_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let s = snap(2, 10, b"tree bytes");
        let path = write(dir.path(), &s).unwrap();
        let mut held = stub(s.meta.clone());
        assert!(is_stub(&held));
        fill(dir.path(), &mut held).unwrap();
        assert_eq!(held, s);
        assert!(!is_stub(&held));
        fs::remove_file(path).unwrap();
        let mut held = stub(s.meta.clone());
        assert!(fill(dir.path(), &mut held).is_err());
    }

    #[test]
    fn a_written_snapshot_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let s = snap(2, 10, b"tree bytes");
        let path = write(dir.path(), &s).unwrap();
        assert_eq!(
            path.file_name().unwrap(),
            "0000000000000002-000000000000000a.snap"
        );
        assert_eq!(load_newest_valid(dir.path()).unwrap(), Some(s));
    }

    #[test]
    fn no_temp_file_is_left_after_a_write() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &snap(1, 1, b"")).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn stray_temp_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("x.snap.tmp"), b"half").unwrap();
        remove_temp_files(dir.path()).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_empty_directory_has_no_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_newest_valid(dir.path()).unwrap(), None);
    }

    #[test]
    fn a_corrupt_newest_snapshot_falls_back_to_the_previous_one() {
        let dir = tempfile::tempdir().unwrap();
        let older = snap(1, 5, b"older");
        write(dir.path(), &older).unwrap();
        let newest = write(dir.path(), &snap(1, 9, b"newest")).unwrap();
        let mut bytes = fs::read(&newest).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xFF;
        fs::write(&newest, bytes).unwrap();
        assert_eq!(load_newest_valid(dir.path()).unwrap(), Some(older));
    }

    #[test]
    fn every_truncation_of_a_snapshot_file_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &snap(1, 5, b"some data")).unwrap();
        let bytes = fs::read(&path).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode(bytes[..cut].to_vec(), 1, 5).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn a_snapshot_renamed_to_another_position_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &snap(1, 5, b"x")).unwrap();
        fs::rename(&path, dir.path().join(file_name(1, 6))).unwrap();
        assert!(matches!(
            load_newest_valid(dir.path()),
            Err(WalError::Corrupt { .. })
        ));
    }

    #[test]
    fn only_corrupt_snapshots_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file_name(1, 5));
        fs::write(&path, b"garbage garbage garbage").unwrap();
        match load_newest_valid(dir.path()) {
            Err(WalError::Corrupt { file, .. }) => assert_eq!(file, path),
            other => panic!("expected corruption, got {other:?}"),
        }
    }

    #[test]
    fn pruning_keeps_the_newest_two() {
        let dir = tempfile::tempdir().unwrap();
        for index in [3, 1, 4, 2] {
            write(dir.path(), &snap(1, index, b"")).unwrap();
        }
        let kept: Vec<Index> = prune(dir.path()).unwrap().iter().map(|f| f.index).collect();
        assert_eq!(kept, vec![3, 4]);
        let left: Vec<Index> = list(dir.path()).unwrap().iter().map(|f| f.index).collect();
        assert_eq!(left, vec![3, 4]);
    }
}
