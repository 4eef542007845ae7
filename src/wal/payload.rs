//! Binary payload encoding of each record type: fixed little-endian
//! integers and length-prefixed bytes. Compact and allocation-light,
//! because entries are the hot path.
//!
//! - Entry: `term u64, index u64, kind u8 (0 normal, 1 conf change), len u32, data`
//! - HardState: `term u64, vote u64, commit u64`
//! - SnapshotMarker: `index u64, term u64`

use super::record::RecordType;
use crate::raft::types::{Entry, EntryKind, HardState, Index, Term};

/// A decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Entry(Entry),
    HardState(HardState),
    SnapshotMarker { index: Index, term: Term },
}

/// A payload that its checksum vouches for but that does not decode: a bug
/// or a foreign writer, never a torn write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

pub fn encode_entry(out: &mut Vec<u8>, entry: &Entry) {
    out.extend_from_slice(&entry.term.to_le_bytes());
    out.extend_from_slice(&entry.index.to_le_bytes());
    out.push(match entry.kind {
        EntryKind::Normal => 0,
        EntryKind::ConfChange => 1,
    });
    // Callers reject data longer than the record limit first.
    let len = u32::try_from(entry.data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&entry.data);
}

/// Bytes an entry payload takes besides its data.
pub const ENTRY_OVERHEAD: usize = 8 + 8 + 1 + 4;

pub fn encode_hard_state(out: &mut Vec<u8>, hs: &HardState) {
    out.extend_from_slice(&hs.term.to_le_bytes());
    out.extend_from_slice(&hs.vote.to_le_bytes());
    out.extend_from_slice(&hs.commit.to_le_bytes());
}

pub fn encode_snapshot_marker(out: &mut Vec<u8>, index: Index, term: Term) {
    out.extend_from_slice(&index.to_le_bytes());
    out.extend_from_slice(&term.to_le_bytes());
}

/// Reads fields off the front of a payload, failing instead of panicking.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError("payload shorter than its fields"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError("payload longer than its fields"))
        }
    }
}

pub fn decode(kind: RecordType, payload: &[u8]) -> Result<Record, DecodeError> {
    let mut r = Reader { rest: payload };
    let record = match kind {
        RecordType::Entry => {
            let term = r.u64()?;
            let index = r.u64()?;
            let kind = match r.u8()? {
                0 => EntryKind::Normal,
                1 => EntryKind::ConfChange,
                _ => return Err(DecodeError("unknown entry kind")),
            };
            let len = r.u32()? as usize;
            let data = r.take(len)?.to_vec();
            Record::Entry(Entry {
                term,
                index,
                kind,
                data,
            })
        }
        RecordType::HardState => Record::HardState(HardState {
            term: r.u64()?,
            vote: r.u64()?,
            commit: r.u64()?,
        }),
        RecordType::SnapshotMarker => Record::SnapshotMarker {
            index: r.u64()?,
            term: r.u64()?,
        },
    };
    r.finish()?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: Index, kind: EntryKind, data: &[u8]) -> Entry {
        Entry {
            term: 7,
            index,
            kind,
            data: data.to_vec(),
        }
    }

    #[test]
    fn entries_of_both_kinds_round_trip() {
        for e in [
            entry(1, EntryKind::Normal, b""),
            entry(u64::MAX, EntryKind::ConfChange, b"\x00\xffdata"),
        ] {
            let mut buf = Vec::new();
            encode_entry(&mut buf, &e);
            assert_eq!(buf.len(), ENTRY_OVERHEAD + e.data.len());
            assert_eq!(decode(RecordType::Entry, &buf), Ok(Record::Entry(e)));
        }
    }

    #[test]
    fn hard_state_round_trips() {
        let hs = HardState {
            term: 3,
            vote: 2,
            commit: 99,
        };
        let mut buf = Vec::new();
        encode_hard_state(&mut buf, &hs);
        assert_eq!(
            decode(RecordType::HardState, &buf),
            Ok(Record::HardState(hs))
        );
    }

    #[test]
    fn snapshot_marker_round_trips() {
        let mut buf = Vec::new();
        encode_snapshot_marker(&mut buf, 500, 4);
        assert_eq!(
            decode(RecordType::SnapshotMarker, &buf),
            Ok(Record::SnapshotMarker {
                index: 500,
                term: 4
            })
        );
    }

    #[test]
    fn every_truncation_of_a_payload_fails_to_decode() {
        let mut buf = Vec::new();
        encode_entry(&mut buf, &entry(5, EntryKind::Normal, b"abc"));
        for cut in 0..buf.len() {
            assert!(decode(RecordType::Entry, &buf[..cut]).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn trailing_bytes_fail_to_decode() {
        let mut buf = Vec::new();
        encode_hard_state(&mut buf, &HardState::default());
        buf.push(0);
        assert!(decode(RecordType::HardState, &buf).is_err());
    }

    #[test]
    fn an_unknown_entry_kind_fails_to_decode() {
        let mut buf = Vec::new();
        encode_entry(&mut buf, &entry(5, EntryKind::Normal, b""));
        buf[16] = 9;
        assert!(decode(RecordType::Entry, &buf).is_err());
    }
}
