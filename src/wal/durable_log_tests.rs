//! The log as the server sees it: open, append, sync, snapshot, reopen.

use std::fs;
use std::path::{Path, PathBuf};

use super::snapshot_file;
use super::{Recovered, Wal, WalError, WalOptions};
use crate::raft::types::{
    ConfState, Entry, EntryKind, HardState, Index, Snapshot, SnapshotMeta, Term,
};

fn entry(term: Term, index: Index) -> Entry {
    Entry {
        term,
        index,
        kind: if index.is_multiple_of(7) {
            EntryKind::ConfChange
        } else {
            EntryKind::Normal
        },
        data: format!("set /key/{index} = value at term {term}").into_bytes(),
    }
}

fn entries(term: Term, indices: std::ops::RangeInclusive<Index>) -> Vec<Entry> {
    indices.map(|i| entry(term, i)).collect()
}

fn hard_state(term: Term, commit: Index) -> HardState {
    HardState {
        term,
        vote: 2,
        commit,
    }
}

fn snapshot(term: Term, index: Index) -> Snapshot {
    Snapshot {
        meta: SnapshotMeta {
            index,
            term,
            conf: ConfState {
                voters: vec![1, 2, 3],
            },
        },
        data: format!("tree as of {index}").into_bytes(),
    }
}

/// Segments that are exactly as long as what was written to them (no
/// preallocation), so a test can cut or flip bytes by file length.
fn small(segment_bytes: u64) -> WalOptions {
    WalOptions {
        segment_bytes,
        preallocate: false,
    }
}

fn open(dir: &Path, opts: WalOptions) -> (Wal, Recovered) {
    match Wal::open(dir, opts) {
        Ok(opened) => opened,
        Err(e) => panic!("open failed: {e}"),
    }
}

fn segment_paths(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for item in fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            fs::copy(item.path(), target).unwrap();
        }
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .unwrap()
        .map(|item| {
            let item = item.unwrap();
            if item.file_type().unwrap().is_dir() {
                dir_bytes(&item.path())
            } else {
                item.metadata().unwrap().len()
            }
        })
        .sum()
}

fn truncate(path: &Path, len: u64) {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

#[test]
fn open_creates_the_wal_and_snap_directories_and_an_empty_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (wal, rec) = open(&data, WalOptions::default());
    assert!(data.join("wal").is_dir() && data.join("snap").is_dir());
    assert_eq!(wal.last_index(), 0);
    assert_eq!(rec.hard_state, HardState::default());
    assert_eq!(
        (rec.snapshot, rec.entries, rec.truncated_tail),
        (None, vec![], None)
    );
}

#[test]
fn appended_and_synced_entries_and_hard_state_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), WalOptions::default());
    wal.append(&entries(1, 1..=5), Some(&hard_state(1, 3)))
        .unwrap();
    wal.append(&entries(1, 6..=10), Some(&hard_state(1, 9)))
        .unwrap();
    wal.sync().unwrap();
    assert_eq!(wal.last_index(), 10);
    drop(wal);

    let (wal, rec) = open(dir.path(), WalOptions::default());
    assert_eq!(rec.entries, entries(1, 1..=10));
    assert_eq!(rec.hard_state, hard_state(1, 9));
    assert_eq!(rec.truncated_tail, None);
    assert_eq!(wal.last_index(), 10);
}

#[test]
fn an_entry_at_or_below_the_last_index_truncates_the_log_in_record_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), WalOptions::default());
    wal.append(&entries(1, 1..=5), None).unwrap();
    wal.append(&entries(2, 3..=4), Some(&hard_state(2, 2)))
        .unwrap();
    assert_eq!(wal.last_index(), 4);
    wal.sync().unwrap();
    drop(wal);

    let (mut wal, rec) = open(dir.path(), WalOptions::default());
    let mut expected = entries(1, 1..=2);
    expected.extend(entries(2, 3..=4));
    assert_eq!(rec.entries, expected);

    // The overwrite holds across a reopen too: later appends continue it.
    wal.append(&entries(2, 5..=5), None).unwrap();
    wal.sync().unwrap();
    drop(wal);
    let (_, rec) = open(dir.path(), WalOptions::default());
    expected.extend(entries(2, 5..=5));
    assert_eq!(rec.entries, expected);
}

#[test]
fn a_torn_last_record_is_cut_at_every_byte_offset_and_the_log_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let (mut wal, _) = open(&source, WalOptions::default());
    wal.append(&entries(1, 1..=2), Some(&hard_state(1, 1)))
        .unwrap();
    wal.sync().unwrap();
    let segment = segment_paths(&source).remove(0);
    let intact_len = fs::metadata(&segment).unwrap().len();
    wal.append(&entries(1, 3..=3), None).unwrap();
    wal.sync().unwrap();
    let full_len = fs::metadata(&segment).unwrap().len();
    drop(wal);

    for cut in intact_len + 1..full_len {
        let copy = dir.path().join(format!("cut-{cut}"));
        copy_dir(&source, &copy);
        let copied_segment = copy.join("wal").join(segment.file_name().unwrap());
        truncate(&copied_segment, cut);

        let (mut wal, rec) = open(&copy, WalOptions::default());
        assert_eq!(rec.entries, entries(1, 1..=2), "cut {cut}");
        assert_eq!(rec.hard_state, hard_state(1, 1), "cut {cut}");
        assert_eq!(
            rec.truncated_tail,
            Some((copied_segment.clone(), intact_len)),
            "cut {cut}"
        );
        assert_eq!(wal.last_index(), 2);

        wal.append(&entries(2, 3..=4), None).unwrap();
        wal.sync().unwrap();
        drop(wal);
        let (_, rec) = open(&copy, WalOptions::default());
        let mut expected = entries(1, 1..=2);
        expected.extend(entries(2, 3..=4));
        assert_eq!(rec.entries, expected, "cut {cut}");
        assert_eq!(rec.truncated_tail, None, "cut {cut}");
        fs::remove_dir_all(&copy).unwrap();
    }
}

#[test]
fn a_flipped_byte_in_the_middle_refuses_to_open_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), small(64 * 1024 * 1024));
    let mut record_starts = Vec::new();
    let segment = segment_paths(dir.path()).remove(0);
    for i in 1..=5 {
        wal.sync().unwrap();
        record_starts.push(fs::metadata(&segment).unwrap().len());
        wal.append(&entries(1, i..=i), None).unwrap();
    }
    wal.sync().unwrap();
    drop(wal);

    let mut bytes = fs::read(&segment).unwrap();
    bytes[record_starts[2] as usize + 12] ^= 0x10;
    fs::write(&segment, bytes).unwrap();

    match Wal::open(dir.path(), WalOptions::default()) {
        Err(err @ WalError::Corrupt { .. }) => {
            let text = err.to_string();
            let WalError::Corrupt { file, offset, .. } = err else {
                unreachable!()
            };
            assert_eq!(
                (file.as_path(), offset),
                (segment.as_path(), record_starts[2])
            );
            assert!(
                text.contains(&segment.display().to_string()) && text.contains(&offset.to_string())
            );
        }
        Err(other) => panic!("expected corruption, got {other}"),
        Ok(_) => panic!("a corrupt log opened"),
    }
}

#[test]
fn segments_rotate_at_the_size_limit_and_recover_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), small(300));
    for i in 1..=100 {
        wal.append(&entries(1, i..=i), Some(&hard_state(1, i - 1)))
            .unwrap();
    }
    wal.sync().unwrap();
    drop(wal);

    let segments = segment_paths(dir.path());
    assert!(segments.len() > 10, "only {} segments", segments.len());
    for path in &segments {
        assert!(
            fs::metadata(path).unwrap().len() <= 300,
            "{} too big",
            path.display()
        );
    }
    let (_, rec) = open(dir.path(), small(300));
    assert_eq!(rec.entries, entries(1, 1..=100));
    assert_eq!(rec.hard_state, hard_state(1, 99));
}

#[test]
fn a_torn_segment_that_is_not_the_last_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), small(300));
    wal.append(&entries(1, 1..=20), None).unwrap();
    wal.sync().unwrap();
    drop(wal);
    let first = segment_paths(dir.path()).remove(0);
    let len = fs::metadata(&first).unwrap().len();
    truncate(&first, len - 1);
    assert!(matches!(
        Wal::open(dir.path(), small(300)),
        Err(WalError::Corrupt { file, .. }) if file == first
    ));
}

#[test]
fn a_missing_segment_in_the_middle_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), small(300));
    wal.append(&entries(1, 1..=20), None).unwrap();
    wal.sync().unwrap();
    drop(wal);
    let segments = segment_paths(dir.path());
    assert!(segments.len() >= 3);
    fs::remove_file(&segments[1]).unwrap();
    assert!(matches!(
        Wal::open(dir.path(), small(300)),
        Err(WalError::Corrupt { .. })
    ));
}

#[test]
fn after_a_snapshot_only_later_entries_are_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), WalOptions::default());
    wal.append(&entries(1, 1..=20), Some(&hard_state(1, 20)))
        .unwrap();
    wal.sync().unwrap();
    wal.save_snapshot(&snapshot(1, 10), false).unwrap();
    assert_eq!(wal.last_index(), 20);
    wal.append(&entries(1, 21..=25), None).unwrap();
    wal.sync().unwrap();
    drop(wal);

    let (wal, rec) = open(dir.path(), WalOptions::default());
    assert_eq!(rec.snapshot, Some(snapshot(1, 10)));
    assert_eq!(rec.entries, entries(1, 11..=25));
    assert_eq!(rec.hard_state, hard_state(1, 20));
    assert_eq!(wal.last_index(), 25);
}

#[test]
fn a_snapshot_from_the_leader_drops_every_earlier_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), WalOptions::default());
    // The old log runs past the snapshot in a term the leader never had.
    wal.append(&entries(1, 1..=60), Some(&hard_state(1, 5)))
        .unwrap();
    wal.sync().unwrap();
    wal.save_snapshot(&snapshot(3, 50), true).unwrap();
    assert_eq!(wal.last_index(), 50);
    drop(wal);

    let (mut wal, rec) = open(dir.path(), WalOptions::default());
    assert_eq!(rec.snapshot, Some(snapshot(3, 50)));
    assert_eq!(rec.entries, vec![]);
    assert_eq!(wal.last_index(), 50);

    wal.append(&entries(3, 51..=52), Some(&hard_state(3, 52)))
        .unwrap();
    wal.sync().unwrap();
    drop(wal);
    let (_, rec) = open(dir.path(), WalOptions::default());
    assert_eq!(rec.entries, entries(3, 51..=52));
    assert_eq!(rec.hard_state, hard_state(3, 52));
}

#[test]
fn a_crash_between_a_leader_snapshot_and_its_marker_drops_the_diverged_log() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), WalOptions::default());
    wal.append(&entries(1, 1..=60), None).unwrap();
    wal.sync().unwrap();
    drop(wal);
    // Only the snapshot file made it; entry 50 on disk has another term.
    snapshot_file::write(&dir.path().join("snap"), &snapshot(3, 50)).unwrap();

    let (wal, rec) = open(dir.path(), WalOptions::default());
    assert_eq!(rec.entries, vec![]);
    assert_eq!(wal.last_index(), 50);
}

#[test]
fn old_segments_are_removed_so_the_directory_stays_bounded_under_steady_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), small(4096));
    let mut written = 0u64;
    for round in 0..50u64 {
        let first = round * 100 + 1;
        let batch = entries(1, first..=first + 99);
        written += batch.iter().map(|e| e.data.len() as u64).sum::<u64>();
        wal.append(&batch, Some(&hard_state(1, first + 99)))
            .unwrap();
        wal.sync().unwrap();
        wal.save_snapshot(&snapshot(1, first + 99), false).unwrap();
        let size = dir_bytes(dir.path());
        assert!(size < 40 * 1024, "round {round}: {size} bytes on disk");
    }
    assert!(
        written > 150 * 1024,
        "the loop must write far more than the bound"
    );
    assert_eq!(fs::read_dir(dir.path().join("snap")).unwrap().count(), 2);
    drop(wal);

    let (_, rec) = open(dir.path(), small(4096));
    assert_eq!(rec.snapshot, Some(snapshot(1, 5000)));
    assert_eq!(rec.entries, vec![]);
    assert_eq!(rec.hard_state, hard_state(1, 5000));
}

#[test]
fn the_hard_state_survives_the_removal_of_the_segment_that_held_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), small(512));
    wal.append(&entries(1, 1..=1), Some(&hard_state(4, 1)))
        .unwrap();
    wal.append(&entries(1, 2..=100), None).unwrap();
    wal.sync().unwrap();
    wal.save_snapshot(&snapshot(1, 90), false).unwrap();
    assert!(!segment_paths(dir.path())[0].ends_with("0000000000000001-0000000000000001.wal"));
    drop(wal);

    let (_, rec) = open(dir.path(), small(512));
    assert_eq!(rec.hard_state, hard_state(4, 1));
    assert_eq!(rec.entries, entries(1, 91..=100));
}

#[test]
fn a_corrupt_newest_snapshot_falls_back_to_the_previous_one_with_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), small(512));
    wal.append(&entries(1, 1..=30), None).unwrap();
    wal.sync().unwrap();
    wal.save_snapshot(&snapshot(1, 10), false).unwrap();
    wal.save_snapshot(&snapshot(1, 20), false).unwrap();
    drop(wal);

    let newest = dir
        .path()
        .join("snap")
        .join(snapshot_file::file_name(1, 20));
    let mut bytes = fs::read(&newest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&newest, bytes).unwrap();

    let (_, rec) = open(dir.path(), small(512));
    assert_eq!(rec.snapshot, Some(snapshot(1, 10)));
    assert_eq!(rec.entries, entries(1, 11..=30));
}

#[test]
fn a_copy_taken_mid_write_after_a_sync_recovers_a_prefix_holding_everything_synced() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let (mut wal, _) = open(&source, WalOptions::default());
    wal.append(&entries(1, 1..=10), Some(&hard_state(1, 10)))
        .unwrap();
    wal.sync().unwrap();
    let segment = segment_paths(&source).remove(0);
    let synced_len = fs::metadata(&segment).unwrap().len();
    wal.append(&entries(1, 11..=20), Some(&hard_state(1, 20)))
        .unwrap();
    wal.sync().unwrap();
    let full_len = fs::metadata(&segment).unwrap().len();
    drop(wal);

    // A crash after the first sync leaves any prefix of the later writes.
    let all = entries(1, 1..=20);
    for cut in (synced_len..=full_len).step_by(7).chain([full_len]) {
        let copy = dir.path().join(format!("crash-{cut}"));
        copy_dir(&source, &copy);
        truncate(&copy.join("wal").join(segment.file_name().unwrap()), cut);
        let (_, rec) = open(&copy, WalOptions::default());
        let n = rec.entries.len();
        assert!(n >= 10, "cut {cut}: synced entries lost");
        assert_eq!(rec.entries, all[..n], "cut {cut}");
        assert!(rec.hard_state == hard_state(1, 10) || rec.hard_state == hard_state(1, 20));
        // A second start from the same files sees the same log.
        let (_, again) = open(&copy, WalOptions::default());
        assert_eq!(again.entries, rec.entries, "cut {cut}");
        assert_eq!(again.truncated_tail, None, "cut {cut}");
        fs::remove_dir_all(&copy).unwrap();
    }
}

#[test]
fn the_hard_state_survives_a_crash_that_emptied_the_newest_segment() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), small(512));
    wal.append(&entries(1, 1..=1), Some(&hard_state(5, 1)))
        .unwrap();
    wal.append(&entries(1, 2..=30), None).unwrap();
    wal.sync().unwrap();
    drop(wal);
    // The crash came right after a rotation: the new segment lost everything.
    let newest = segment_paths(dir.path()).pop().unwrap();
    truncate(&newest, 0);

    let (mut wal, rec) = open(dir.path(), small(512));
    assert_eq!(rec.hard_state, hard_state(5, 1));
    let last = wal.last_index();
    // Few enough entries to stay in that segment; the snapshot then
    // removes every older segment, the ones that held the hard state.
    wal.append(&entries(1, last + 1..=last + 2), None).unwrap();
    wal.sync().unwrap();
    wal.save_snapshot(&snapshot(1, last + 2), false).unwrap();
    assert_eq!(segment_paths(dir.path()), vec![newest]);
    drop(wal);

    let (_, rec) = open(dir.path(), small(512));
    assert_eq!(rec.hard_state, hard_state(5, 1));
    assert_eq!(rec.entries, vec![]);
}

#[test]
fn a_snapshot_from_the_leader_drops_later_entries_even_where_terms_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), WalOptions::default());
    wal.append(&entries(3, 1..=60), None).unwrap();
    wal.sync().unwrap();
    wal.save_snapshot(&snapshot(3, 50), true).unwrap();
    drop(wal);

    let (wal, rec) = open(dir.path(), WalOptions::default());
    assert_eq!(rec.entries, vec![]);
    assert_eq!(wal.last_index(), 50);
}

#[test]
fn a_local_snapshot_keeps_the_entries_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), WalOptions::default());
    wal.append(&entries(3, 1..=60), None).unwrap();
    wal.sync().unwrap();
    wal.save_snapshot(&snapshot(3, 50), false).unwrap();
    drop(wal);

    let (wal, rec) = open(dir.path(), WalOptions::default());
    assert_eq!(rec.entries, entries(3, 51..=60));
    assert_eq!(wal.last_index(), 60);
}

#[test]
fn a_snapshot_file_written_elsewhere_compacts_the_log_like_save_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = open(dir.path(), small(4096));
    for round in 0..20u64 {
        let first = round * 100 + 1;
        wal.append(
            &entries(1, first..=first + 99),
            Some(&hard_state(1, first + 99)),
        )
        .unwrap();
        let snap = snapshot(1, first + 99);
        snapshot_file::write(&dir.path().join("snap"), &snap).unwrap();
        wal.compact_to(&snap.meta).unwrap();
        assert!(dir_bytes(dir.path()) < 40 * 1024, "round {round}");
    }
    wal.append(&entries(1, 2001..=2005), Some(&hard_state(1, 2005)))
        .unwrap();
    wal.sync().unwrap();
    drop(wal);
    let (_, rec) = open(dir.path(), small(4096));
    assert_eq!(rec.snapshot, Some(snapshot(1, 2000)));
    assert_eq!(rec.entries, entries(1, 2001..=2005));
}

/// Preallocated segments of 64 KiB: what a server writes, shrunk.
fn reserved(segment_bytes: u64) -> WalOptions {
    WalOptions {
        segment_bytes,
        preallocate: true,
    }
}

#[test]
fn preallocated_segments_reopen_whole_and_go_on_where_the_records_end() {
    let dir = tempfile::tempdir().unwrap();
    let opts = reserved(64 * 1024);
    let (mut wal, _) = open(dir.path(), opts);
    for i in 1..=1500 {
        wal.append(&entries(1, i..=i), Some(&hard_state(1, i)))
            .unwrap();
        if i % 100 == 0 {
            wal.sync().unwrap();
        }
    }
    wal.sync().unwrap();
    drop(wal);
    let segments = segment_paths(dir.path());
    assert!(segments.len() >= 3, "{} segments", segments.len());
    let reserved_here = fs::metadata(&segments[0]).unwrap().len() == 64 * 1024;

    for round in 0..2u64 {
        let (mut wal, rec) = open(dir.path(), opts);
        let last = 1500 + round * 10;
        assert_eq!(rec.truncated_tail, None, "zeros are not a torn write");
        assert_eq!(rec.entries, entries(1, 1..=last));
        assert_eq!(rec.hard_state, hard_state(1, last));
        let current = segment_paths(dir.path()).pop().unwrap();
        if reserved_here {
            assert_eq!(fs::metadata(&current).unwrap().len(), 64 * 1024);
        }
        wal.append(
            &entries(1, last + 1..=last + 10),
            Some(&hard_state(1, last + 10)),
        )
        .unwrap();
        wal.sync().unwrap();
    }
    let (_, rec) = open(dir.path(), opts);
    assert_eq!(rec.entries, entries(1, 1..=1520));
}

#[test]
fn a_torn_write_into_preallocated_space_is_cut_and_the_space_reserved_again() {
    let dir = tempfile::tempdir().unwrap();
    let opts = reserved(64 * 1024);
    let (mut wal, _) = open(dir.path(), opts);
    wal.append(&entries(1, 1..=5), Some(&hard_state(1, 5)))
        .unwrap();
    wal.sync().unwrap();
    drop(wal);
    let segment = segment_paths(dir.path()).pop().unwrap();
    let bytes = fs::read(&segment).unwrap();
    let end = super::segment_scan::scan_segment(&segment, &bytes, true)
        .unwrap()
        .data_len as usize;
    assert!(bytes[end..].iter().all(|b| *b == 0) && end > 0);
    // Half a record landed after the last one; the rest is still zeros.
    let mut torn = bytes.clone();
    torn[end..end + 20].copy_from_slice(&bytes[40..60]);
    fs::write(&segment, &torn).unwrap();

    let (mut wal, rec) = open(dir.path(), opts);
    assert_eq!(rec.entries, entries(1, 1..=5));
    let (cut_file, cut_at) = rec.truncated_tail.clone().expect("a torn tail");
    assert_eq!(cut_file, segment);
    assert_eq!(cut_at as usize, end);
    let len = fs::metadata(&segment).unwrap().len();
    assert!(len == 64 * 1024 || len == cut_at, "length {len}");
    wal.append(&entries(1, 6..=8), Some(&hard_state(1, 8)))
        .unwrap();
    wal.sync().unwrap();
    drop(wal);
    let (_, rec) = open(dir.path(), opts);
    assert_eq!(rec.entries, entries(1, 1..=8));
    assert_eq!(rec.truncated_tail, None);
}
