//! Record framing: `[u32 payload length LE][u32 CRC-32C LE][u8 type][payload]`.
//!
//! The checksum covers the type byte and the payload, so a flipped type is
//! caught like a flipped payload byte. The length counts the payload only.

use super::crc32c::Crc32c;

/// Bytes before the payload: length, checksum, type.
pub const HEADER_LEN: usize = 9;

/// No record is longer than this; a longer length field is garbage, not a
/// record we wrote (and reading it must not allocate or scan gigabytes).
pub const MAX_PAYLOAD: usize = 1 << 30;

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordType {
    /// One log entry.
    Entry = 1,
    /// The durable Raft state; the last one in record order wins.
    HardState = 2,
    /// A snapshot from the leader was installed: every entry written before
    /// this record is dead.
    SnapshotMarker = 3,
}

impl RecordType {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(RecordType::Entry),
            2 => Some(RecordType::HardState),
            3 => Some(RecordType::SnapshotMarker),
            _ => None,
        }
    }
}

/// Appends one framed record to `out`; `write_payload` appends the payload.
/// Framing in place keeps the hot path free of a second buffer.
pub fn append_frame(out: &mut Vec<u8>, kind: RecordType, write_payload: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0u8; 8]);
    out.push(kind as u8);
    write_payload(out);
    let payload_len = out.len() - start - HEADER_LEN;
    let mut crc = Crc32c::new();
    crc.update(&out[start + 8..]);
    // A payload over u32::MAX cannot be framed; the caller checks
    // MAX_PAYLOAD before getting here, so saturating never happens in use.
    let len = u32::try_from(payload_len).unwrap_or(u32::MAX);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.finish().to_le_bytes());
}

/// Why the bytes at an offset are not a whole, intact record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadFrame {
    /// Fewer than [`HEADER_LEN`] bytes remain.
    ShortHeader,
    /// The length field points past the end of the file.
    ShortPayload,
    /// The length field exceeds [`MAX_PAYLOAD`].
    TooLong,
    /// The checksum does not match the type and payload.
    Checksum,
    /// The checksum matches but the type is unknown: written by something
    /// else, never a torn write.
    UnknownType(u8),
}

impl BadFrame {
    pub fn describe(self) -> String {
        match self {
            BadFrame::ShortHeader => "record header cut short".to_string(),
            BadFrame::ShortPayload => "record payload cut short".to_string(),
            BadFrame::TooLong => "record length field out of range".to_string(),
            BadFrame::Checksum => "record checksum mismatch".to_string(),
            BadFrame::UnknownType(t) => format!("unknown record type {t}"),
        }
    }
}

/// The outcome of reading a record at an offset.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// An intact record; the next one starts at `next`.
    Complete {
        kind: RecordType,
        payload: &'a [u8],
        next: usize,
    },
    /// The offset is exactly the end of the bytes.
    End,
    Bad(BadFrame),
}

fn le_u32(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(word)
}

/// Reads the record starting at `offset` of `buf`. Never panics.
pub fn read_frame(buf: &[u8], offset: usize) -> Frame<'_> {
    let Some(rest) = buf.get(offset..) else {
        return Frame::Bad(BadFrame::ShortHeader);
    };
    if rest.is_empty() {
        return Frame::End;
    }
    if rest.len() < HEADER_LEN {
        return Frame::Bad(BadFrame::ShortHeader);
    }
    let len = le_u32(&rest[0..4]) as usize;
    let stored_crc = le_u32(&rest[4..8]);
    if len > MAX_PAYLOAD {
        return Frame::Bad(BadFrame::TooLong);
    }
    let Some(body) = rest.get(8..HEADER_LEN + len) else {
        return Frame::Bad(BadFrame::ShortPayload);
    };
    let mut crc = Crc32c::new();
    crc.update(body);
    if crc.finish() != stored_crc {
        return Frame::Bad(BadFrame::Checksum);
    }
    match RecordType::from_byte(body[0]) {
        Some(kind) => Frame::Complete {
            kind,
            payload: &body[1..],
            next: offset + HEADER_LEN + len,
        },
        None => Frame::Bad(BadFrame::UnknownType(body[0])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(kind: RecordType, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        append_frame(&mut out, kind, |b| b.extend_from_slice(payload));
        out
    }

    #[test]
    fn a_framed_record_reads_back_with_its_type_and_payload() {
        let mut buf = framed(RecordType::Entry, b"hello");
        buf.extend(framed(RecordType::HardState, b""));
        let Frame::Complete {
            kind,
            payload,
            next,
        } = read_frame(&buf, 0)
        else {
            panic!("first record not read");
        };
        assert_eq!((kind, payload), (RecordType::Entry, &b"hello"[..]));
        assert_eq!(next, HEADER_LEN + 5);
        let Frame::Complete {
            kind,
            payload,
            next,
        } = read_frame(&buf, next)
        else {
            panic!("second record not read");
        };
        assert_eq!((kind, payload), (RecordType::HardState, &b""[..]));
        assert_eq!(read_frame(&buf, next), Frame::End);
    }

    #[test]
    fn header_layout_is_length_then_checksum_then_type() {
        let buf = framed(RecordType::SnapshotMarker, b"ab");
        assert_eq!(&buf[0..4], &2u32.to_le_bytes());
        assert_eq!(
            &buf[4..8],
            &super::super::crc32c::crc32c(&[3, b'a', b'b']).to_le_bytes()
        );
        assert_eq!(buf[8], 3);
    }

    #[test]
    fn fewer_bytes_than_a_header_is_a_short_header() {
        let buf = framed(RecordType::Entry, b"hello");
        for cut in 1..HEADER_LEN {
            assert_eq!(
                read_frame(&buf[..cut], 0),
                Frame::Bad(BadFrame::ShortHeader)
            );
        }
    }

    #[test]
    fn a_payload_cut_before_its_length_is_a_short_payload() {
        let buf = framed(RecordType::Entry, b"hello");
        for cut in HEADER_LEN..buf.len() {
            assert_eq!(
                read_frame(&buf[..cut], 0),
                Frame::Bad(BadFrame::ShortPayload)
            );
        }
    }

    #[test]
    fn any_flipped_bit_after_the_length_is_a_checksum_mismatch() {
        let buf = framed(RecordType::Entry, b"hello");
        for i in 4..buf.len() {
            for bit in 0..8 {
                let mut bad = buf.clone();
                bad[i] ^= 1 << bit;
                assert!(
                    matches!(read_frame(&bad, 0), Frame::Bad(_)),
                    "byte {i} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn an_unknown_type_with_a_valid_checksum_is_reported_as_such() {
        let mut buf = framed(RecordType::Entry, b"x");
        buf[8] = 77;
        let crc = super::super::crc32c::crc32c(&buf[8..]);
        buf[4..8].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(read_frame(&buf, 0), Frame::Bad(BadFrame::UnknownType(77)));
    }

    #[test]
    fn a_huge_length_field_is_rejected_without_reading_it() {
        let mut buf = framed(RecordType::Entry, b"x");
        buf[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(read_frame(&buf, 0), Frame::Bad(BadFrame::TooLong));
    }

    #[test]
    fn an_offset_past_the_end_is_not_a_panic() {
        assert_eq!(read_frame(b"abc", 10), Frame::Bad(BadFrame::ShortHeader));
    }
}
