//! What a snapshot holds besides Raft's metadata: the key store's own
//! snapshot and the member table. Framed as `[u32 LE members length]
//! [members JSON][store bytes]` so the (large) store part is not re-encoded.

use super::members::Members;

pub struct SnapshotData {
    pub store: Vec<u8>,
    pub members: Members,
}

impl SnapshotData {
    pub fn encode(&self) -> Vec<u8> {
        let members = serde_json::to_vec(&self.members).unwrap_or_default();
        let mut out = Vec::with_capacity(4 + members.len() + self.store.len());
        out.extend_from_slice(&(members.len() as u32).to_le_bytes());
        out.extend_from_slice(&members);
        out.extend_from_slice(&self.store);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<SnapshotData, String> {
        let Some((len, rest)) = bytes.split_first_chunk::<4>() else {
            return Err("snapshot data too short".into());
        };
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err("snapshot data truncated".into());
        }
        let (members, store) = rest.split_at(len);
        let members =
            serde_json::from_slice(members).map_err(|e| format!("snapshot members: {e}"))?;
        Ok(SnapshotData {
            store: store.to_vec(),
            members,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::members::Member;

    #[test]
    fn round_trip_and_truncation() {
        let mut members = Members::default();
        members.upsert(Member::new(
            "m1",
            "http://127.0.0.1:7001",
            "http://127.0.0.1:4001",
        ));
        let data = SnapshotData {
            store: b"store-bytes".to_vec(),
            members: members.clone(),
        };
        let bytes = data.encode();
        let back = SnapshotData::decode(&bytes).expect("decodes");
        assert_eq!(back.members, members);
        assert_eq!(back.store, b"store-bytes");
        assert!(SnapshotData::decode(&bytes[..6]).is_err());
        assert!(SnapshotData::decode(&[]).is_err());
    }
}
