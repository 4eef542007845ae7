//! Reading and checking a whole backup file into a key space. Everything
//! is checked before anything is returned — magic, version, every record's
//! checksum, the order of the records, the node count and the checksum of
//! the whole file — so a caller that only acts on `Ok` never acts on a
//! truncated or damaged file.

use std::io::{self, Read};

use super::error::BackupError;
use super::format::{
    FRAME_HEADER_LEN, Header, MAGIC, MAX_PAYLOAD, PREAMBLE_LEN, RecordType, VERSION, decode_end,
    decode_node,
};
use crate::store::KeySpace;
use crate::wal::Crc32c;

/// Progress is reported every this many nodes.
const PROGRESS_EVERY: u64 = 4096;

/// A checked backup.
#[derive(Debug)]
pub struct Backup {
    pub header: Header,
    pub key_space: KeySpace,
    /// The file's length.
    pub bytes: u64,
}

/// Reads the whole file from `input`. `progress` hears `(nodes read, nodes
/// announced by the header)` every few thousand nodes.
pub fn read(
    input: &mut dyn Read,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Backup, BackupError> {
    let mut preamble = [0u8; PREAMBLE_LEN];
    let got = read_up_to(input, &mut preamble)?;
    if got < MAGIC.len() || preamble[..MAGIC.len()] != MAGIC {
        return Err(BackupError::Foreign);
    }
    if got < PREAMBLE_LEN {
        return Err(BackupError::Truncated {
            offset: got as u64,
            inside_record: true,
        });
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(&preamble[MAGIC.len()..]);
    let version = u32::from_le_bytes(version);
    if version != VERSION {
        return Err(BackupError::UnknownVersion(version));
    }
    let mut crc = Crc32c::new();
    crc.update(&preamble);
    let mut offset = PREAMBLE_LEN as u64;
    let mut payload = Vec::new();
    let mut started: Option<(Header, KeySpace)> = None;
    let mut nodes = 0u64;
    loop {
        let corrupt = |reason: String| BackupError::Corrupt { offset, reason };
        let mut head = [0u8; FRAME_HEADER_LEN];
        let got = read_up_to(input, &mut head)?;
        if got < FRAME_HEADER_LEN {
            return Err(BackupError::Truncated {
                offset: offset + got as u64,
                inside_record: got > 0,
            });
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let stored_crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if len > MAX_PAYLOAD {
            return Err(corrupt("record length out of range".into()));
        }
        payload.clear();
        // Grows as bytes arrive: a damaged length costs no big allocation.
        let got = input.take(len as u64).read_to_end(&mut payload)?;
        if got < len {
            return Err(BackupError::Truncated {
                offset: offset + (FRAME_HEADER_LEN + got) as u64,
                inside_record: true,
            });
        }
        let mut record_crc = Crc32c::new();
        record_crc.update(&head[8..]);
        record_crc.update(&payload);
        if record_crc.finish() != stored_crc {
            return Err(corrupt("record checksum mismatch".into()));
        }
        let kind = RecordType::from_byte(head[8])
            .ok_or_else(|| corrupt(format!("unknown record type {}", head[8])))?;
        match (kind, &mut started) {
            (RecordType::Header, None) => {
                let header: Header = serde_json::from_slice(&payload)
                    .map_err(|e| corrupt(format!("header does not parse: {e}")))?;
                let space = KeySpace::empty(header.store_index);
                started = Some((header, space));
            }
            (RecordType::Header, Some(_)) => return Err(corrupt("a second header".into())),
            (_, None) => return Err(corrupt("the first record is not the header".into())),
            (RecordType::Node, Some((header, space))) => {
                let record = decode_node(&payload).map_err(corrupt)?;
                space.insert(record).map_err(|e| corrupt(e.to_string()))?;
                nodes += 1;
                if nodes.is_multiple_of(PROGRESS_EVERY) {
                    progress(nodes, header.nodes);
                }
            }
            (RecordType::End, Some(_)) => {
                let (count, file_crc) = decode_end(&payload).map_err(corrupt)?;
                if file_crc != crc.finish() {
                    return Err(corrupt("file checksum mismatch".into()));
                }
                let end = offset + (FRAME_HEADER_LEN + len) as u64;
                let mut extra = [0u8; 1];
                if read_up_to(input, &mut extra)? > 0 {
                    return Err(BackupError::Corrupt {
                        offset: end,
                        reason: "bytes after the end record".into(),
                    });
                }
                let Some((header, key_space)) = started.take() else {
                    return Err(corrupt("no header".into()));
                };
                if count != nodes || header.nodes != nodes {
                    return Err(corrupt(format!(
                        "{nodes} node records, but the end record counts {count} and the \
                         header {}",
                        header.nodes
                    )));
                }
                progress(nodes, header.nodes);
                return Ok(Backup {
                    header,
                    key_space,
                    bytes: end,
                });
            }
        }
        crc.update(&head);
        crc.update(&payload);
        offset += (FRAME_HEADER_LEN + len) as u64;
    }
}

/// Fills `buf` as far as the input goes; fewer bytes means the end.
fn read_up_to(input: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
