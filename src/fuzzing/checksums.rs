//! Repairing the checksums of fuzzed bytes, so that mutations reach the
//! decoders behind them. A random change almost never keeps a CRC right,
//! so without this the fuzzer would only ever test the checksum check.
//! Targets run both the bytes as given and the repaired copy.

use crate::wal::{Crc32c, crc32c};

/// Length, checksum, type: the frame header of WAL and backup records.
const FRAME_HEADER: usize = 9;

/// Walks `[u32 len][u32 crc][u8 type][payload]` frames from `start` and
/// rewrites each whole frame's checksum (over type and payload). When
/// `end_type` is given, the last 4 bytes of a 12-byte frame of that type
/// become the CRC-32C of everything before the frame (a backup's end
/// record) before its own checksum is set. Stops at the first frame that
/// runs past the end; the rest is left as it was.
pub(super) fn fix_frames(bytes: &[u8], start: usize, end_type: Option<u8>) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut at = start;
    while at + FRAME_HEADER <= out.len() {
        let len = u32::from_le_bytes([out[at], out[at + 1], out[at + 2], out[at + 3]]) as usize;
        let Some(end) = (at + FRAME_HEADER)
            .checked_add(len)
            .filter(|e| *e <= out.len())
        else {
            break;
        };
        if end_type == Some(out[at + 8]) && len == 12 {
            let file_crc = crc32c(&out[..at]);
            out[end - 4..end].copy_from_slice(&file_crc.to_le_bytes());
        }
        let mut crc = Crc32c::new();
        crc.update(&out[at + 8..end]);
        out[at + 4..at + 8].copy_from_slice(&crc.finish().to_le_bytes());
        at = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::crc32c;

    #[test]
    fn a_frame_with_a_wrong_checksum_is_repaired_and_a_cut_one_left() {
        let mut bytes = vec![2, 0, 0, 0, 0, 0, 0, 0, 1, b'h', b'i'];
        bytes.extend_from_slice(&[9, 0, 0, 0, 1, 2, 3]);
        let fixed = fix_frames(&bytes, 0, None);
        assert_eq!(&fixed[4..8], &crc32c(&[1, b'h', b'i']).to_le_bytes());
        assert_eq!(&fixed[11..], &bytes[11..]);
    }
}
