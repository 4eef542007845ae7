//! The one protobuf message etcd 0.4's log holds, goraft's `LogEntry`
//! (`required uint64 Index = 1; required uint64 Term = 2; required string
//! CommandName = 3; optional bytes Command = 4`), decoded by hand: varints
//! and length-delimited fields; fields of other numbers are skipped as
//! protobuf readers do. Never panics on any input.

use super::error::Problem;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub index: u64,
    pub term: u64,
    pub command_name: String,
    /// The command's JSON (empty for `raft:nop`).
    pub command: Vec<u8>,
}

/// Wire types of the protobuf encoding.
const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LENGTH_DELIMITED: u64 = 2;
const FIXED32: u64 = 5;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn fail<T>(&self, why: &str) -> Result<T, (usize, Problem)> {
        Err((self.at, Problem::Protobuf(why.to_string())))
    }

    fn varint(&mut self) -> Result<u64, (usize, Problem)> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.bytes.get(self.at) else {
                return self.fail("a varint runs past the end");
            };
            self.at += 1;
            if shift == 63 && byte > 1 {
                return self.fail("a varint overflows 64 bits");
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        self.fail("a varint is longer than 10 bytes")
    }

    fn take(&mut self, len: u64) -> Result<&[u8], (usize, Problem)> {
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| self.at.checked_add(len))
            .filter(|end| *end <= self.bytes.len());
        let Some(end) = end else {
            return self.fail("a field runs past the end of the entry");
        };
        let field = &self.bytes[self.at..end];
        self.at = end;
        Ok(field)
    }
}

/// Decodes one entry. On failure: the offset within `bytes` and why.
pub fn decode(bytes: &[u8]) -> Result<LogEntry, (usize, Problem)> {
    let mut r = Reader { bytes, at: 0 };
    let (mut index, mut term, mut name, mut command) = (None, None, None, Vec::new());
    while r.at < bytes.len() {
        let key_at = r.at;
        let key = r.varint()?;
        let (field, wire) = (key >> 3, key & 7);
        match (field, wire) {
            (0, _) => return Err((key_at, Problem::Protobuf("field number 0".into()))),
            (1, VARINT) => index = Some(r.varint()?),
            (2, VARINT) => term = Some(r.varint()?),
            (3, LENGTH_DELIMITED) => {
                let len = r.varint()?;
                let at = r.at;
                let text = r.take(len)?;
                let text = std::str::from_utf8(text)
                    .map_err(|_| (at, Problem::Protobuf("CommandName is not UTF-8".into())))?;
                name = Some(text.to_string());
            }
            (4, LENGTH_DELIMITED) => {
                let len = r.varint()?;
                command = r.take(len)?.to_vec();
            }
            (1..=4, _) => {
                return Err((
                    key_at,
                    Problem::Protobuf(format!("field {field} has wire type {wire}")),
                ));
            }
            (_, VARINT) => {
                r.varint()?;
            }
            (_, FIXED64) => {
                r.take(8)?;
            }
            (_, LENGTH_DELIMITED) => {
                let len = r.varint()?;
                r.take(len)?;
            }
            (_, FIXED32) => {
                r.take(4)?;
            }
            _ => {
                return Err((
                    key_at,
                    Problem::Protobuf(format!("unsupported wire type {wire}")),
                ));
            }
        }
    }
    let missing = |field| (0, Problem::MissingField(field));
    Ok(LogEntry {
        index: index.ok_or_else(|| missing("Index"))?,
        term: term.ok_or_else(|| missing("Term"))?,
        command_name: name.ok_or_else(|| missing("CommandName"))?,
        command,
    })
}

/// Encodes an entry as goraft does (fields in order); the tests build
/// 0.4 logs with it.
#[cfg(test)]
pub fn encode(entry: &LogEntry) -> Vec<u8> {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let mut out = Vec::new();
    out.push(0x08);
    varint(&mut out, entry.index);
    out.push(0x10);
    varint(&mut out, entry.term);
    out.push(0x1a);
    varint(&mut out, entry.command_name.len() as u64);
    out.extend_from_slice(entry.command_name.as_bytes());
    if !entry.command.is_empty() {
        out.push(0x22);
        varint(&mut out, entry.command.len() as u64);
        out.extend_from_slice(&entry.command);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_made_entry_decodes_field_by_field() {
        // Index 136 (two-byte varint), Term 0, "etcd:sync", then the JSON.
        let json = br#"{"time":"2026-11-30T10:25:20.761420327Z"}"#;
        let mut bytes = vec![0x08, 0x88, 0x01, 0x10, 0x00, 0x1a, 0x09];
        bytes.extend_from_slice(b"etcd:sync");
        bytes.extend_from_slice(&[0x22, json.len() as u8]);
        bytes.extend_from_slice(json);
        let entry = decode(&bytes).unwrap();
        assert_eq!(
            entry,
            LogEntry {
                index: 136,
                term: 0,
                command_name: "etcd:sync".into(),
                command: json.to_vec(),
            }
        );
        assert_eq!(encode(&entry), bytes);
    }

    #[test]
    fn a_nop_has_no_command_field() {
        let bytes = [
            0x08, 0x02, 0x10, 0x00, 0x1a, 0x08, b'r', b'a', b'f', b't', b':', b'n', b'o', b'p',
        ];
        let entry = decode(&bytes).unwrap();
        assert_eq!(entry.command_name, "raft:nop");
        assert!(entry.command.is_empty());
    }

    #[test]
    fn unknown_fields_are_skipped_in_every_wire_type() {
        let mut bytes = vec![0x08, 0x05];
        bytes.extend_from_slice(&[0x28, 0x96, 0x01]); // field 5 varint
        bytes.extend_from_slice(&[0x31, 1, 2, 3, 4, 5, 6, 7, 8]); // field 6 fixed64
        bytes.extend_from_slice(&[0x3a, 0x02, b'h', b'i']); // field 7 bytes
        bytes.extend_from_slice(&[0x45, 1, 2, 3, 4]); // field 8 fixed32
        bytes.extend_from_slice(&[0x10, 0x03, 0x1a, 0x01, b'x']);
        let entry = decode(&bytes).unwrap();
        assert_eq!(
            (entry.index, entry.term, entry.command_name.as_str()),
            (5, 3, "x")
        );
    }

    #[test]
    fn missing_required_fields_are_named() {
        assert_eq!(
            decode(&[0x10, 0x01, 0x1a, 0x00]),
            Err((0, Problem::MissingField("Index")))
        );
        assert_eq!(
            decode(&[0x08, 0x01, 0x1a, 0x00]),
            Err((0, Problem::MissingField("Term")))
        );
        assert_eq!(
            decode(&[0x08, 0x01, 0x10, 0x01]),
            Err((0, Problem::MissingField("CommandName")))
        );
    }

    #[test]
    fn damage_is_an_error_with_its_offset_never_a_panic() {
        let good = encode(&LogEntry {
            index: 300,
            term: 2,
            command_name: "etcd:set".into(),
            command: br#"{"key":"/a"}"#.to_vec(),
        });
        let command_at = good.len() - 2 - br#"{"key":"/a"}"#.len();
        for cut in 1..good.len() {
            // A cut before the optional Command field leaves a valid nop-like
            // entry; every other cut is an error (the log reader tells a torn
            // tail by the length line, not by this).
            match decode(&good[..cut]) {
                Ok(e) => assert!(cut == command_at && e.command.is_empty(), "cut {cut}"),
                Err(_) => assert_ne!(cut, command_at),
            }
        }
        let mut wrong_wire = good.clone();
        wrong_wire[0] = 0x0a; // field 1 as length-delimited
        assert!(matches!(
            decode(&wrong_wire),
            Err((0, Problem::Protobuf(_)))
        ));
        let mut group = good.clone();
        group[0] = 0x0b; // wire type 3
        assert!(decode(&group).is_err());
        assert!(
            decode(&[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
            ])
            .is_err()
        );
        assert!(decode(&[0x00]).is_err());
        let bad_utf8 = [0x08, 0x01, 0x10, 0x01, 0x1a, 0x01, 0xff];
        assert_eq!(decode(&bad_utf8).unwrap_err().0, 6);
        for byte in 0..=255u8 {
            let mut b = good.clone();
            b[3] = byte;
            let _ = decode(&b);
        }
    }
}
