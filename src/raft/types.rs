//! The vocabulary shared by Raft, the write-ahead log and the server:
//! terms, indices, member ids, log entries and the durable hard state.
//!
//! These are plain data. Nothing here decides anything.

use serde::{Deserialize, Serialize};

/// A Raft term. Terms only grow.
pub type Term = u64;
/// A position in the Raft log (1-based; 0 means "before the first entry").
pub type Index = u64;
/// A member of the Raft group. 0 is never a valid id.
pub type NodeId = u64;

/// What a log entry carries, as Raft sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    /// Opaque application data (a command for the key store), or empty:
    /// a new leader appends one empty entry of its own term.
    Normal,
    /// A single-member configuration change; `data` is an encoded
    /// [`ConfChange`]. It takes effect when applied.
    ConfChange,
}

/// One record of the replicated log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub term: Term,
    pub index: Index,
    pub kind: EntryKind,
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
}

/// What must be on disk before this machine may answer anyone:
/// the current term, whom it voted for in that term, and how far the log
/// is known to be committed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardState {
    pub term: Term,
    /// 0 when no vote was cast in `term`.
    pub vote: NodeId,
    pub commit: Index,
}

/// The voting members of the group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfState {
    /// Sorted, without duplicates.
    pub voters: Vec<NodeId>,
}

/// A single-member change of the voting configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfChange {
    AddNode(NodeId),
    RemoveNode(NodeId),
}

/// Where a snapshot sits in the log, and the configuration at that point.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    pub index: Index,
    pub term: Term,
    pub conf: ConfState,
}

/// A snapshot: its position plus the application's opaque state bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub meta: SnapshotMeta,
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
}

/// Opaque bytes as a base64 string when serialised (peer messages are
/// JSON; an array of numbers would cost three to four bytes per byte).
pub(crate) mod base64_bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        decode(&text).ok_or_else(|| D::Error::custom("invalid base64"))
    }

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let text = text.as_bytes();
        if !text.len().is_multiple_of(4) {
            return None;
        }
        let value = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|v| v as u32);
        let mut out = Vec::with_capacity(text.len() / 4 * 3);
        for (i, quad) in text.chunks(4).enumerate() {
            let last = i + 1 == text.len() / 4;
            let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
            if pad > 2 || (pad > 0 && !last) {
                return None;
            }
            let mut n = 0u32;
            for &c in &quad[..4 - pad] {
                n = (n << 6) | value(c)?;
            }
            n <<= 6 * pad as u32;
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out.extend_from_slice(&bytes[..3 - pad]);
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        use super::{decode, encode};

        #[test]
        fn rfc4648_vectors_round_trip() {
            for (plain, coded) in [
                ("", ""),
                ("f", "Zg=="),
                ("fo", "Zm8="),
                ("foo", "Zm9v"),
                ("foob", "Zm9vYg=="),
                ("fooba", "Zm9vYmE="),
                ("foobar", "Zm9vYmFy"),
            ] {
                assert_eq!(encode(plain.as_bytes()), coded);
                assert_eq!(decode(coded).as_deref(), Some(plain.as_bytes()));
            }
            let all: Vec<u8> = (0..=255).collect();
            assert_eq!(decode(&encode(&all)), Some(all));
        }

        #[test]
        fn bad_input_is_refused() {
            for bad in ["Zg=", "Z===", "Zg==Zg==", "Zm9*", "===="] {
                assert_eq!(decode(bad), None, "{bad}");
            }
        }
    }
}
