//! The bytes of a backup file: preamble, record framing, and the payload of
//! each record type (the layout is documented in `backup/mod.rs`). Pure:
//! encoding appends to a buffer, decoding reads a slice and never panics.

use serde::{Deserialize, Serialize};

use crate::auth::AuthState;
use crate::membership::{ClusterConfig, Member};
use crate::store::{KeyPath, NodeRecord, NodeRef};
use crate::wal::Crc32c;

/// The first bytes of every backup file. The high first byte and the line
/// feed catch transfers that mangle text (as PNG's signature does).
pub const MAGIC: [u8; 8] = *b"\x89ETCDBK\n";
/// The format this etcd writes and reads.
pub const VERSION: u32 = 1;
/// Magic plus version.
pub const PREAMBLE_LEN: usize = 12;
/// Length, checksum, type.
pub const FRAME_HEADER_LEN: usize = 9;
/// No record is longer: a node holds at most a 10 MiB value, and a longer
/// length field is damage, not a record.
pub const MAX_PAYLOAD: usize = 64 << 20;

const DIR_FLAG: u8 = 1;
const EXPIRATION_FLAG: u8 = 2;

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordType {
    Header = 1,
    Node = 2,
    End = 3,
}

impl RecordType {
    pub fn from_byte(b: u8) -> Option<RecordType> {
        match b {
            1 => Some(RecordType::Header),
            2 => Some(RecordType::Node),
            3 => Some(RecordType::End),
            _ => None,
        }
    }
}

/// Where the copy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// `GET /v2/admin/backup` on a running member.
    Online,
    /// `etcd -backup-data-dir` on a stopped member's data dir.
    Offline,
}

/// A member as the header lists it (its Raft id follows from its name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupMember {
    pub name: String,
    #[serde(rename = "peerURL")]
    pub peer_url: String,
    #[serde(rename = "clientURL")]
    pub client_url: String,
}

impl From<&Member> for BackupMember {
    fn from(m: &Member) -> BackupMember {
        BackupMember {
            name: m.name.clone(),
            peer_url: m.peer_url.clone(),
            client_url: m.client_url.clone(),
        }
    }
}

/// The first record: where the copy stands and who the cluster was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// The store index of the copy: every change up to it is in the file,
    /// none after it.
    pub store_index: u64,
    /// The Raft log index and term the copying machine had applied.
    pub raft_index: u64,
    pub raft_term: u64,
    /// The member whose copy this is.
    pub taken_by: String,
    /// RFC 3339, the copying machine's clock.
    pub taken_at: String,
    pub origin: Origin,
    /// How many node records follow (every node but the root).
    pub nodes: u64,
    pub members: Vec<BackupMember>,
    pub config: ClusterConfig,
    /// Users, roles (password hashes only) and the auth flag; left out
    /// when there are none, and absent from files written before auth.
    #[serde(default, skip_serializing_if = "AuthState::is_empty")]
    pub auth: AuthState,
    /// The version of the etcd that wrote the file.
    pub etcd_version: String,
}

/// Appends one framed record to `out`:
/// `[u32 payload length][u32 CRC-32C of type and payload][u8 type][payload]`.
pub fn append_frame(out: &mut Vec<u8>, kind: RecordType, write_payload: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0u8; 8]);
    out.push(kind as u8);
    write_payload(out);
    let payload_len = out.len() - start - FRAME_HEADER_LEN;
    let mut crc = Crc32c::new();
    crc.update(&out[start + 8..]);
    // Payloads are bounded by MAX_PAYLOAD, far below u32::MAX.
    let len = u32::try_from(payload_len).unwrap_or(u32::MAX);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.finish().to_le_bytes());
}

/// The preamble: magic, then the version, little-endian.
pub fn preamble() -> [u8; PREAMBLE_LEN] {
    let mut out = [0u8; PREAMBLE_LEN];
    out[..8].copy_from_slice(&MAGIC);
    out[8..].copy_from_slice(&VERSION.to_le_bytes());
    out
}

/// A node record's payload:
/// `u8 flags (1 dir, 2 has expiration), u64 createdIndex, u64 modifiedIndex,
/// [i64 expiration], u32 key length, key, [u32 value length, value]`.
pub fn encode_node(out: &mut Vec<u8>, node: &NodeRef<'_>) {
    let mut flags = 0;
    if node.value.is_none() {
        flags |= DIR_FLAG;
    }
    if node.expiration.is_some() {
        flags |= EXPIRATION_FLAG;
    }
    out.push(flags);
    out.extend_from_slice(&node.created_index.to_le_bytes());
    out.extend_from_slice(&node.modified_index.to_le_bytes());
    if let Some(at) = node.expiration {
        out.extend_from_slice(&at.to_le_bytes());
    }
    push_bytes(out, node.key.as_bytes());
    if let Some(value) = node.value {
        push_bytes(out, value.as_bytes());
    }
}

fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Keys and values are bounded by the request body cap (10 MiB).
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}

pub fn decode_node(payload: &[u8]) -> Result<NodeRecord, String> {
    let mut r = Reader { rest: payload };
    let flags = r.u8()?;
    if flags & !(DIR_FLAG | EXPIRATION_FLAG) != 0 {
        return Err(format!("unknown node flags {flags:#04x}"));
    }
    let created_index = r.u64()?;
    let modified_index = r.u64()?;
    let expiration = if flags & EXPIRATION_FLAG != 0 {
        Some(r.u64()? as i64)
    } else {
        None
    };
    let key = r.text("key")?;
    let path = KeyPath::parse(key);
    if path.as_str() != key || path.is_root() {
        return Err(format!(
            "node key {key:?} is not a canonical key below the root"
        ));
    }
    let value = if flags & DIR_FLAG != 0 {
        None
    } else {
        Some(r.text("value")?.to_string())
    };
    r.finish()?;
    Ok(NodeRecord {
        key: path,
        value,
        created_index,
        modified_index,
        expiration,
    })
}

/// The end record's payload: `u64 node count, u32 CRC-32C of every byte of
/// the file before this record`.
pub fn encode_end(out: &mut Vec<u8>, nodes: u64, file_crc: u32) {
    out.extend_from_slice(&nodes.to_le_bytes());
    out.extend_from_slice(&file_crc.to_le_bytes());
}

pub fn decode_end(payload: &[u8]) -> Result<(u64, u32), String> {
    let mut r = Reader { rest: payload };
    let nodes = r.u64()?;
    let crc = r.u32()?;
    r.finish()?;
    Ok((nodes, crc))
}

/// Reads fields off the front of a payload, failing instead of panicking.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err("record shorter than its fields".into());
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn text(&mut self, what: &str) -> Result<&'a str, String> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| format!("node {what} is not UTF-8"))
    }

    fn finish(self) -> Result<(), String> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err("record longer than its fields".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node<'a>(key: &'a str, value: Option<&'a str>, expiration: Option<i64>) -> NodeRef<'a> {
        NodeRef {
            key,
            value,
            created_index: 3,
            modified_index: 7,
            expiration,
        }
    }

    #[test]
    fn node_records_round_trip_files_dirs_and_expirations() {
        for n in [
            node("/a", Some("value"), None),
            node("/a/_hidden", Some(""), Some(1_700_000_000_123_456_789)),
            node("/dir", None, Some(-5)),
            node("/dir/ü/x", Some("\u{0}\u{7f}ÿ"), None),
        ] {
            let mut buf = Vec::new();
            encode_node(&mut buf, &n);
            let back = decode_node(&buf).expect("decodes");
            assert_eq!(back.key.as_str(), n.key);
            assert_eq!(back.value.as_deref(), n.value);
            assert_eq!(back.expiration, n.expiration);
            assert_eq!((back.created_index, back.modified_index), (3, 7));
        }
    }

    #[test]
    fn every_cut_of_a_node_record_fails_to_decode() {
        let mut buf = Vec::new();
        encode_node(&mut buf, &node("/key", Some("value"), Some(9)));
        for cut in 0..buf.len() {
            assert!(decode_node(&buf[..cut]).is_err(), "cut {cut}");
        }
        buf.push(0);
        assert!(decode_node(&buf).is_err());
    }

    #[test]
    fn odd_keys_and_flags_are_refused() {
        for key in ["/", "a", "/a/", "/a//b", "/a/../b"] {
            let mut buf = Vec::new();
            encode_node(&mut buf, &node(key, Some("v"), None));
            assert!(decode_node(&buf).is_err(), "{key}");
        }
        let mut buf = Vec::new();
        encode_node(&mut buf, &node("/a", Some("v"), None));
        buf[0] = 0x80;
        assert!(decode_node(&buf).is_err());
    }

    #[test]
    fn the_frame_layout_is_the_wal_s() {
        let mut buf = Vec::new();
        append_frame(&mut buf, RecordType::End, |b| encode_end(b, 2, 0xabcd));
        assert_eq!(&buf[0..4], &12u32.to_le_bytes());
        assert_eq!(
            &buf[4..8],
            &crate::wal::crc32c(&buf[8..]).to_le_bytes(),
            "the checksum covers the type and the payload"
        );
        assert_eq!(buf[8], RecordType::End as u8);
        assert_eq!(decode_end(&buf[9..]), Ok((2, 0xabcd)));
    }

    #[test]
    fn the_preamble_is_magic_then_version() {
        let p = preamble();
        assert_eq!(&p[..8], b"\x89ETCDBK\n");
        assert_eq!(&p[8..], &1u32.to_le_bytes());
    }
}
