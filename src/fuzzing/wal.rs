//! The write-ahead log as the disk hands it back: `wal_record` (one
//! record's framing and payload) and `wal_segment` (a whole segment file:
//! the scanner that tells a torn tail from corruption, then replay).
//!
//! Checked: every record read writes back to exactly the bytes it was
//! read from, so the scanner accepts nothing our writer would not have
//! written; only the last segment can have a torn tail; a scan stops at an
//! offset inside the file; and replay gives a log that starts right after
//! its snapshot and counts up by one, with the last hard state read.

use std::path::Path;

use super::checksums::fix_frames;
use crate::raft::{HardState, SnapshotMeta};
use crate::wal::{
    Frame, Record, RecordType, Replay, ScanStop, WalError, append_frame, decode_payload,
    encode_entry, encode_hard_state, encode_snapshot_marker, read_frame, scan, scan_segment,
};

fn frame(record: &Record) -> Vec<u8> {
    let mut out = Vec::new();
    match record {
        Record::Entry(e) => append_frame(&mut out, RecordType::Entry, |b| encode_entry(b, e)),
        Record::HardState(hs) => append_frame(&mut out, RecordType::HardState, |b| {
            encode_hard_state(b, hs)
        }),
        Record::SnapshotMarker { index, term } => {
            append_frame(&mut out, RecordType::SnapshotMarker, |b| {
                encode_snapshot_marker(b, *index, *term)
            })
        }
    }
    out
}

fn record_type(byte: u8) -> Option<RecordType> {
    match byte {
        1 => Some(RecordType::Entry),
        2 => Some(RecordType::HardState),
        3 => Some(RecordType::SnapshotMarker),
        _ => None,
    }
}

pub fn wal_record(data: &[u8]) {
    for bytes in [data.to_vec(), fix_frames(data, 0, None)] {
        for offset in [0, 1, bytes.len(), bytes.len() + 1] {
            let _ = read_frame(&bytes, offset);
        }
        if let Frame::Complete {
            kind,
            payload,
            next,
        } = read_frame(&bytes, 0)
            && let Ok(record) = decode_payload(kind, payload)
        {
            assert_eq!(frame(&record), bytes[..next], "record round trip");
        }
    }
    // The payload alone, its type from the first byte.
    if let Some((&kind, payload)) = data.split_first()
        && let Some(kind) = record_type(kind)
        && let Ok(record) = decode_payload(kind, payload)
    {
        assert_eq!(frame(&record)[9..], *payload, "payload round trip");
    }
}

fn check_scan(bytes: &[u8], is_last: bool) {
    let path = Path::new("0000000000000001-0000000000000001.wal");
    let (records, stop, records_end) = scan(path, bytes, is_last);
    let written: usize = records.iter().map(|r| frame(r).len()).sum();
    assert_eq!(records_end, written, "the records end where they say");
    let end = match &stop {
        None => {
            // The records, then nothing or only zeros (a preallocated segment).
            assert!(
                bytes[written.min(bytes.len())..].iter().all(|b| *b == 0),
                "a clean end with more than zeros after the records"
            );
            written as u64
        }
        Some(ScanStop::Torn { offset, .. }) => {
            assert!(is_last, "a torn tail in a segment that is not the last");
            *offset
        }
        Some(ScanStop::Corrupt(WalError::Corrupt { offset, .. })) => *offset,
        Some(ScanStop::Corrupt(other)) => panic!("a scan of bytes failed with {other}"),
    };
    assert!(end <= bytes.len() as u64, "stopped past the end");
    let rewritten: Vec<u8> = records.iter().flat_map(frame).collect();
    assert_eq!(
        rewritten,
        bytes[..end as usize],
        "records do not write back"
    );
    match (scan_segment(path, bytes, is_last), &stop) {
        (Ok(s), None) => assert_eq!(
            (s.records, s.torn_at, s.data_len),
            (records.clone(), None, end)
        ),
        (Ok(s), Some(ScanStop::Torn { offset, .. })) => assert_eq!(
            (s.records, s.torn_at, s.data_len),
            (records.clone(), Some(*offset), *offset)
        ),
        (Err(_), Some(ScanStop::Corrupt(_))) => {}
        (got, _) => panic!("scan_segment disagrees with scan: {got:?}"),
    }
    check_replay(records);
}

fn check_replay(records: Vec<Record>) {
    let marker = records.iter().rev().find_map(|r| match r {
        Record::SnapshotMarker { index, term } => Some(SnapshotMeta {
            index: *index,
            term: *term,
            conf: Default::default(),
        }),
        _ => None,
    });
    let last_hard_state = records.iter().rev().find_map(|r| match r {
        Record::HardState(hs) => Some(*hs),
        _ => None,
    });
    for snapshot in [None, marker] {
        let mut replay = Replay::new();
        for r in records.iter().cloned() {
            replay.apply(r);
        }
        let (hs, entries) = replay.finish(snapshot.as_ref());
        assert_eq!(hs, last_hard_state.unwrap_or(HardState::default()));
        let base = snapshot.as_ref().map_or(0, |m| m.index);
        if let Some(first) = entries.first() {
            assert_eq!(
                Some(first.index),
                base.checked_add(1),
                "log does not follow its base"
            );
        }
        for pair in entries.windows(2) {
            assert_eq!(
                Some(pair[1].index),
                pair[0].index.checked_add(1),
                "log has a hole"
            );
        }
    }
}

pub fn wal_segment(data: &[u8]) {
    for bytes in [data.to_vec(), fix_frames(data, 0, None)] {
        check_scan(&bytes, true);
        check_scan(&bytes, false);
    }
}
