//! What a snapshot holds besides Raft's metadata: the key store's own
//! snapshot, the member table and the cluster settings. Framed as
//! `[u32 LE cluster length][cluster JSON][store bytes]` so the (large)
//! store part is not re-encoded. Snapshots written before the settings
//! existed decode with 0.4's defaults; snapshots written before auth
//! existed decode with auth off and no users or roles.

use serde::{Deserialize, Serialize};

use crate::auth::AuthState;
use crate::membership::{ClusterConfig, Members};

pub struct SnapshotData {
    pub store: Vec<u8>,
    pub members: Members,
    pub config: ClusterConfig,
    /// Users, roles and the auth flag (never in the key space).
    pub auth: AuthState,
}

/// The JSON part: the member table's own fields, plus the settings.
#[derive(Serialize, Deserialize)]
struct ClusterPart {
    #[serde(flatten)]
    members: Members,
    #[serde(default)]
    config: ClusterConfig,
    #[serde(default)]
    auth: AuthState,
}

impl SnapshotData {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = SnapshotData::head(&self.members, self.config, &self.auth);
        out.extend_from_slice(&self.store);
        out
    }

    /// Everything before the store bytes; the snapshot thread encodes the
    /// store straight behind it (`StoreImage::encode_after`).
    pub fn head(members: &Members, config: ClusterConfig, auth: &AuthState) -> Vec<u8> {
        let part = ClusterPart {
            members: members.clone(),
            config,
            auth: auth.clone(),
        };
        let cluster = serde_json::to_vec(&part).unwrap_or_default();
        let mut out = Vec::with_capacity(4 + cluster.len());
        out.extend_from_slice(&(cluster.len() as u32).to_le_bytes());
        out.extend_from_slice(&cluster);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<SnapshotData, String> {
        let view = SnapshotData::split(bytes)?;
        Ok(SnapshotData {
            store: view.store.to_vec(),
            members: view.members,
            config: view.config,
            auth: view.auth,
        })
    }

    /// Everything decoded but the store, whose bytes are borrowed: what a
    /// start or an installed snapshot reads, without copying the store.
    pub fn split(bytes: &[u8]) -> Result<SnapshotView<'_>, String> {
        let Some((len, rest)) = bytes.split_first_chunk::<4>() else {
            return Err("snapshot data too short".into());
        };
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err("snapshot data truncated".into());
        }
        let (members, store) = rest.split_at(len);
        let part: ClusterPart =
            serde_json::from_slice(members).map_err(|e| format!("snapshot members: {e}"))?;
        Ok(SnapshotView {
            store,
            members: part.members,
            config: part.config,
            auth: part.auth,
        })
    }
}

/// [`SnapshotData`] with the store's bytes left where they are.
pub struct SnapshotView<'a> {
    pub store: &'a [u8],
    pub members: Members,
    pub config: ClusterConfig,
    pub auth: AuthState,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::Member;

    #[test]
    fn a_store_encoded_behind_the_head_is_the_same_data() {
        let mut store = crate::store::Store::new();
        let set = crate::store::StoreCommand::Set {
            key: crate::store::KeyPath::parse("/a/b"),
            value: "v".repeat(40),
            dir: false,
            ttl: None,
        };
        store.apply(&set, 0).unwrap();
        let mut members = Members::default();
        members.upsert(Member::new(
            "m1",
            "http://127.0.0.1:7001",
            "http://127.0.0.1:4001",
        ));
        let config = ClusterConfig::default();
        let auth = AuthState::default();
        let image = store.image();
        let whole = SnapshotData {
            store: image.encode(),
            members: members.clone(),
            config,
            auth: auth.clone(),
        }
        .encode();
        let in_place = image.encode_after(SnapshotData::head(&members, config, &auth));
        assert_eq!(in_place, whole);
        let back = SnapshotData::decode(&in_place).unwrap();
        assert_eq!(back.store, store.snapshot());
    }

    #[test]
    fn round_trip_and_truncation() {
        let mut members = Members::default();
        members.upsert(Member::new(
            "m1",
            "http://127.0.0.1:7001",
            "http://127.0.0.1:4001",
        ));
        let config = ClusterConfig {
            active_size: 5,
            remove_delay: 2.5,
            sync_interval: 1.0,
        };
        let mut auth = AuthState::default();
        let root = crate::auth::AuthCommand::PutUser(crate::auth::UserChange {
            name: "root".into(),
            password: Some(crate::auth::PasswordHash::with_iterations("pw", 10).unwrap()),
            roles: None,
            grant: vec![],
            revoke: vec![],
        });
        auth.apply(&root).unwrap();
        auth.apply(&crate::auth::AuthCommand::Enable).unwrap();
        let data = SnapshotData {
            store: b"store-bytes".to_vec(),
            members: members.clone(),
            config,
            auth: auth.clone(),
        };
        let bytes = data.encode();
        let back = SnapshotData::decode(&bytes).expect("decodes");
        assert_eq!(back.auth, auth);
        assert_eq!(back.members, members);
        assert_eq!(back.config, config);
        assert_eq!(back.store, b"store-bytes");
        assert!(SnapshotData::decode(&bytes[..6]).is_err());
        assert!(SnapshotData::decode(&[]).is_err());
    }

    /// Found by the `snapshot` fuzz target: serde_json's default float
    /// parser is not correctly rounded, so a setting read from a long
    /// decimal, written back and read again came back one bit off: a
    /// member restored from a snapshot would hold other settings than the
    /// members that applied the log (`float_roundtrip` in Cargo.toml).
    #[test]
    fn settings_survive_a_snapshot_to_the_last_bit() {
        let text = "18003333333333333333333333333333333333333333333333333333333333333333333.0";
        let json = format!(
            r#"{{"by_name":{{}},"config":{{"activeSize":9,"removeDelay":{text},"syncInterval":5.0}}}}"#
        );
        let mut bytes = (json.len() as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(json.as_bytes());
        let mut data = SnapshotData::decode(&bytes).expect("decodes");
        let exact: f64 = text.parse().unwrap();
        assert_eq!(data.config.remove_delay.to_bits(), exact.to_bits());
        for _ in 0..3 {
            data = SnapshotData::decode(&data.encode()).expect("decodes");
            assert_eq!(data.config.remove_delay.to_bits(), exact.to_bits());
        }
    }

    #[test]
    fn a_snapshot_from_before_the_settings_gets_the_defaults() {
        let json = br#"{"by_name":{}}"#;
        let mut bytes = (json.len() as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(json);
        bytes.extend_from_slice(b"store");
        let back = SnapshotData::decode(&bytes).expect("decodes");
        assert_eq!(back.config, ClusterConfig::default());
        assert!(back.members.is_empty());
        assert_eq!(back.auth, AuthState::default());
    }
}
