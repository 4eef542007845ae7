//! CRC-32C (Castagnoli), table-driven, one byte per step.
//!
//! Chosen over CRC-32 (IEEE) because it detects more error patterns in the
//! short records a log is made of; the table is built at compile time.

/// The reflected Castagnoli polynomial.
const POLY: u32 = 0x82F6_3B78;

const TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = byte as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[byte] = crc;
        byte += 1;
    }
    table
}

/// A checksum being computed over bytes fed in pieces.
#[derive(Debug, Clone, Copy)]
pub struct Crc32c {
    state: u32,
}

impl Default for Crc32c {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32c {
    pub fn new() -> Self {
        Crc32c { state: !0 }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("sse4.2") {
            // SAFETY: the CPU has SSE4.2, checked just above.
            self.state = unsafe { update_sse42(self.state, bytes) };
            return;
        }
        self.state = update_table(self.state, bytes);
    }

    pub fn finish(&self) -> u32 {
        !self.state
    }
}

/// One byte per step: about 0.4 GB/s, the fallback.
fn update_table(mut crc: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        crc = TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

/// SSE4.2's `crc32` instruction computes this very polynomial, eight bytes
/// per step (several GB/s): snapshot files of a few hundred MB are checked
/// at every start, so the table alone cost half a second there.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
fn update_sse42(crc: u32, bytes: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u8, _mm_crc32_u64};
    let mut words = bytes.chunks_exact(8);
    let mut wide = u64::from(crc);
    for word in &mut words {
        let mut le = [0u8; 8];
        le.copy_from_slice(word);
        wide = _mm_crc32_u64(wide, u64::from_le_bytes(le));
    }
    // The instruction leaves the upper half zero.
    let mut crc = wide as u32;
    for &b in words.remainder() {
        crc = _mm_crc32_u8(crc, b);
    }
    crc
}

/// The CRC-32C of `bytes` in one go.
pub fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = Crc32c::new();
    crc.update(bytes);
    crc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_of_the_standard_test_string_is_e3069283() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn empty_input_has_checksum_zero() {
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn thirty_two_zero_bytes_match_the_rfc3720_vector() {
        // RFC 3720 (iSCSI) B.4: 32 bytes of zeros.
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
    }

    #[test]
    fn the_instruction_and_the_table_agree_at_every_length_and_offset() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + i / 5) as u8).collect();
        for start in 0..9 {
            for end in start..data.len() {
                let mut crc = Crc32c::new();
                crc.update(&data[start..end]);
                assert_eq!(crc.state, update_table(!0, &data[start..end]));
            }
        }
    }

    #[test]
    fn feeding_in_pieces_equals_feeding_at_once() {
        let data = b"the quick brown fox jumps over the lazy dog";
        let mut crc = Crc32c::new();
        for chunk in data.chunks(5) {
            crc.update(chunk);
        }
        assert_eq!(crc.finish(), crc32c(data));
    }
}
