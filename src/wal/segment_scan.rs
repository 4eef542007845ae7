//! Reading one segment's bytes into records, and telling a torn tail (the
//! process died mid-write: cut it off) from corruption (refuse to start).
//!
//! A bad record is a torn tail only if it is in the last segment and no
//! intact record can be found anywhere after it. Earlier segments were
//! fsynced before the next one was created, so they cannot be torn.
//!
//! Segments are preallocated (`durable_log`), so the records are usually
//! followed by zeros up to the segment's size: nothing but zeros after the
//! last intact record is the clean end of the data, in any segment. Zeros
//! followed by anything else are judged like any other bad record.

use std::path::Path;

use super::error::WalError;
use super::payload::{self, Record};
use super::record::{BadFrame, Frame, HEADER_LEN, read_frame};

#[derive(Debug)]
pub struct ScannedSegment {
    pub records: Vec<Record>,
    /// Where the intact records end: the file should be cut here if the
    /// bytes after it are a torn tail.
    pub torn_at: Option<u64>,
    /// Where the intact records end, whatever follows (the end of the
    /// file, unused preallocated zeros, or a torn tail): the next record
    /// goes here.
    pub data_len: u64,
}

/// Why a scan ended before the end of the segment.
#[derive(Debug)]
pub enum ScanStop {
    /// A torn write at this offset: the process died mid-write. `Wal::open`
    /// cuts it off; a read-only reader reports it.
    Torn { offset: u64, reason: String },
    /// Damage that is not a torn write (the error names file and offset).
    Corrupt(WalError),
}

/// Scans `bytes`, the contents of the segment at `path`. Never panics.
pub fn scan_segment(path: &Path, bytes: &[u8], is_last: bool) -> Result<ScannedSegment, WalError> {
    let (records, stop, end) = scan(path, bytes, is_last);
    let data_len = end as u64;
    match stop {
        None => Ok(ScannedSegment {
            records,
            torn_at: None,
            data_len,
        }),
        Some(ScanStop::Torn { offset, .. }) => Ok(ScannedSegment {
            records,
            torn_at: Some(offset),
            data_len,
        }),
        Some(ScanStop::Corrupt(error)) => Err(error),
    }
}

/// The intact records at the front of the segment, why the scan stopped
/// early if it did, and the offset where those records end. Never panics,
/// never changes anything.
pub fn scan(path: &Path, bytes: &[u8], is_last: bool) -> (Vec<Record>, Option<ScanStop>, usize) {
    let corrupt = |offset: usize, reason: String| {
        Some(ScanStop::Corrupt(WalError::Corrupt {
            file: path.to_path_buf(),
            offset: offset as u64,
            reason,
        }))
    };
    let mut records = Vec::new();
    let mut offset = 0;
    loop {
        match read_frame(bytes, offset) {
            Frame::End => return (records, None, offset),
            Frame::Complete {
                kind,
                payload,
                next,
            } => match payload::decode(kind, payload) {
                Ok(record) => {
                    records.push(record);
                    offset = next;
                }
                Err(e) => {
                    let stop = corrupt(offset, format!("undecodable record: {}", e.0));
                    return (records, stop, offset);
                }
            },
            Frame::Bad(bad @ BadFrame::UnknownType(_)) => {
                return (records, corrupt(offset, bad.describe()), offset);
            }
            // Preallocated and never written: the data ends here.
            Frame::Bad(_) if bytes.get(offset..).is_some_and(all_zero) => {
                return (records, None, offset);
            }
            Frame::Bad(bad) => {
                if !is_last {
                    let reason = format!("{} (not the last segment)", bad.describe());
                    return (records, corrupt(offset, reason), offset);
                }
                if let Some(later) = first_intact_record_after(bytes, offset) {
                    let reason = format!(
                        "{}, with an intact record at offset {later} after it",
                        bad.describe()
                    );
                    return (records, corrupt(offset, reason), offset);
                }
                let stop = ScanStop::Torn {
                    offset: offset as u64,
                    reason: bad.describe(),
                };
                return (records, Some(stop), offset);
            }
        }
    }
}

fn all_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| *b == 0)
}

/// The first offset after `bad` where an intact record starts, if any.
/// Every byte position is tried because a damaged length field hides where
/// the next record really begins; but not in the zeros a preallocated
/// segment ends with: every record's type byte, the last of its header, is
/// non-zero.
fn first_intact_record_after(bytes: &[u8], bad: usize) -> Option<usize> {
    let last_nonzero = bytes.iter().rposition(|b| *b != 0)?;
    let last_start = (last_nonzero + 1).checked_sub(HEADER_LEN)?;
    (bad + 1..=last_start).find(|&at| matches!(read_frame(bytes, at), Frame::Complete { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::types::{Entry, EntryKind, HardState};
    use crate::wal::payload::{encode_entry, encode_hard_state};
    use crate::wal::record::{RecordType, append_frame};

    fn entry(index: u64) -> Entry {
        Entry {
            term: 1,
            index,
            kind: EntryKind::Normal,
            data: format!("value-{index}").into_bytes(),
        }
    }

    /// Three entry records; returns the bytes and each record's start.
    fn three_records() -> (Vec<u8>, Vec<usize>) {
        let mut buf = Vec::new();
        let mut starts = Vec::new();
        for i in 1..=3 {
            starts.push(buf.len());
            append_frame(&mut buf, RecordType::Entry, |b| encode_entry(b, &entry(i)));
        }
        (buf, starts)
    }

    fn path() -> &'static Path {
        Path::new("seg.wal")
    }

    #[test]
    fn intact_records_are_all_returned_in_order() {
        let (buf, _) = three_records();
        let scanned = scan_segment(path(), &buf, true).unwrap();
        let expected: Vec<Record> = (1..=3).map(|i| Record::Entry(entry(i))).collect();
        assert_eq!(scanned.records, expected);
        assert_eq!(scanned.torn_at, None);
    }

    #[test]
    fn a_cut_inside_the_last_record_is_a_torn_tail_at_its_start() {
        let (buf, starts) = three_records();
        for cut in starts[2] + 1..buf.len() {
            let scanned = scan_segment(path(), &buf[..cut], true).unwrap();
            assert_eq!(scanned.records.len(), 2, "cut {cut}");
            assert_eq!(scanned.torn_at, Some(starts[2] as u64), "cut {cut}");
        }
    }

    #[test]
    fn a_damaged_last_record_is_a_torn_tail() {
        let (mut buf, starts) = three_records();
        let last = buf.len() - 1;
        buf[last] ^= 0x40;
        let scanned = scan_segment(path(), &buf, true).unwrap();
        assert_eq!(scanned.torn_at, Some(starts[2] as u64));
    }

    #[test]
    fn a_damaged_record_followed_by_an_intact_one_is_corruption_at_its_offset() {
        let (mut buf, starts) = three_records();
        buf[starts[1] + HEADER_LEN + 3] ^= 0x01;
        match scan_segment(path(), &buf, true) {
            Err(WalError::Corrupt { offset, file, .. }) => {
                assert_eq!(offset, starts[1] as u64);
                assert_eq!(file, path());
            }
            other => panic!("expected corruption, got {other:?}"),
        }
    }

    #[test]
    fn a_damaged_length_field_in_the_middle_is_corruption_not_a_tail() {
        let (mut buf, starts) = three_records();
        buf[starts[1]..starts[1] + 4].copy_from_slice(&100_000u32.to_le_bytes());
        assert!(matches!(
            scan_segment(path(), &buf, true),
            Err(WalError::Corrupt { offset, .. }) if offset == starts[1] as u64
        ));
    }

    #[test]
    fn a_torn_tail_in_a_segment_that_is_not_the_last_is_corruption() {
        let (buf, starts) = three_records();
        assert!(matches!(
            scan_segment(path(), &buf[..buf.len() - 1], false),
            Err(WalError::Corrupt { offset, .. }) if offset == starts[2] as u64
        ));
    }

    #[test]
    fn an_intact_frame_with_an_undecodable_payload_is_corruption() {
        let mut buf = Vec::new();
        append_frame(&mut buf, RecordType::HardState, |b| {
            encode_hard_state(b, &HardState::default());
            b.push(0);
        });
        assert!(matches!(
            scan_segment(path(), &buf, true),
            Err(WalError::Corrupt { offset: 0, .. })
        ));
    }

    #[test]
    fn zeros_after_the_records_are_the_preallocated_end_in_any_segment() {
        let (mut buf, _) = three_records();
        let end = buf.len();
        buf.extend_from_slice(&[0u8; 4096]);
        for is_last in [true, false] {
            let scanned = scan_segment(path(), &buf, is_last).unwrap();
            assert_eq!(scanned.torn_at, None);
            assert_eq!(scanned.data_len, end as u64);
            assert_eq!(scanned.records.len(), 3);
        }
        let empty = scan_segment(path(), &[0u8; 100], false).unwrap();
        assert_eq!((empty.records.len(), empty.data_len), (0, 0));
    }

    #[test]
    fn a_torn_record_in_preallocated_space_is_cut_where_it_starts() {
        let (mut buf, _) = three_records();
        let end = buf.len();
        let mut fourth = Vec::new();
        append_frame(&mut fourth, RecordType::Entry, |b| {
            encode_entry(b, &entry(4))
        });
        // Its header and half its payload reached the disk; zeros follow.
        buf.extend_from_slice(&fourth[..fourth.len() / 2]);
        buf.extend_from_slice(&[0u8; 4096]);
        let scanned = scan_segment(path(), &buf, true).unwrap();
        assert_eq!(scanned.torn_at, Some(end as u64));
        assert_eq!(scanned.data_len, end as u64);
        assert_eq!(scanned.records.len(), 3);
    }

    #[test]
    fn zeros_with_a_record_after_them_are_damage_not_the_end() {
        let (mut buf, _) = three_records();
        let end = buf.len();
        buf.extend_from_slice(&[0u8; 64]);
        append_frame(&mut buf, RecordType::Entry, |b| encode_entry(b, &entry(4)));
        buf.extend_from_slice(&[0u8; 4096]);
        for is_last in [true, false] {
            match scan_segment(path(), &buf, is_last) {
                Err(WalError::Corrupt { offset, .. }) => assert_eq!(offset, end as u64),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A small xorshift generator: deterministic, no dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (good, _) = three_records();
        for round in 0..500 {
            let mut buf = good.clone();
            let len = (next() % 200) as usize;
            if round % 2 == 0 {
                buf.clear();
            }
            buf.extend((0..len).map(|_| next() as u8));
            let flips = next() % 4;
            for _ in 0..flips {
                if !buf.is_empty() {
                    let at = (next() as usize) % buf.len();
                    buf[at] = next() as u8;
                }
            }
            let _ = scan_segment(path(), &buf, round % 3 == 0);
        }
    }
}
