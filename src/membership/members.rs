//! The cluster's members as the application sees them: a name, a Raft id
//! and two advertised URLs. Raft itself only knows ids; this table maps them
//! back to names and addresses for redirects, `/v2/machines` and the peer
//! senders. It changes only when a `Join` or `Remove` entry is applied, so
//! every replica holds the same table.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::raft::types::NodeId;
use crate::store::KeyPath;

/// The registry directory in the key space.
pub const MACHINES_DIR: &str = "/_etcd/machines";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: NodeId,
    pub name: String,
    pub peer_url: String,
    pub client_url: String,
}

impl Member {
    pub fn new(name: &str, peer_url: &str, client_url: &str) -> Member {
        Member {
            id: node_id_for(name),
            name: name.to_string(),
            peer_url: peer_url.to_string(),
            client_url: client_url.to_string(),
        }
    }

    /// The registry value, in the seed's form (ruling on step 3.4):
    /// `raft=<peer URL>&etcd=<client URL>`.
    pub fn registry_value(&self) -> String {
        format!("raft={}&etcd={}", self.peer_url, self.client_url)
    }

    pub fn registry_key(&self) -> KeyPath {
        KeyPath::parse(&format!("{MACHINES_DIR}/{}", self.name))
    }

    /// Whether a registry value already says this member's addresses, in
    /// whichever form it was written (ours, or 0.4's taken over with its data).
    pub fn registered_as(&self, value: &str) -> bool {
        parse_registry_value(value)
            .is_some_and(|(peer, client)| peer == self.peer_url && client == self.client_url)
    }
}

/// The peer and client URL of a registry value, in either form: etcd
/// 0.4's query string with escaped URLs (`etcd=http%3A%2F%2F…&raft=…`,
/// what a data dir taken over from 0.4 holds) or the seed's
/// (`raft=http://…&etcd=http://…`, what we write). None when either is
/// missing or an escape is broken.
pub fn parse_registry_value(value: &str) -> Option<(String, String)> {
    let (mut peer, mut client) = (None, None);
    for pair in value.split('&').filter(|p| !p.is_empty()) {
        let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = unescape_query(raw)?;
        // As url.ParseQuery reads it: the first value of a key counts.
        match unescape_query(key)?.as_str() {
            "raft" => peer = peer.or(Some(decoded)),
            "etcd" => client = client.or(Some(decoded)),
            _ => {}
        }
    }
    Some((peer?, client?))
}

/// Query-string unescaping: `%XX` is a byte, `+` a space; the result must
/// be UTF-8.
fn unescape_query(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A member's Raft id is derived from its name, so a machine restarted under
/// the same name (even with a fresh data dir) is the same Raft member.
/// FNV-1a, 64 bit; 0 is reserved by Raft for "nobody".
pub fn node_id_for(name: &str) -> NodeId {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    if hash == 0 { 1 } else { hash }
}

/// Members by name (sorted, so every listing is deterministic).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Members {
    by_name: BTreeMap<String, Member>,
}

impl Members {
    pub fn get(&self, name: &str) -> Option<&Member> {
        self.by_name.get(name)
    }

    pub fn by_id(&self, id: NodeId) -> Option<&Member> {
        self.by_name.values().find(|m| m.id == id)
    }

    pub fn by_peer_url(&self, peer_url: &str) -> Option<&Member> {
        self.by_name.values().find(|m| m.peer_url == peer_url)
    }

    pub fn upsert(&mut self, member: Member) {
        self.by_name.insert(member.name.clone(), member);
    }

    pub fn remove(&mut self, name: &str) -> Option<Member> {
        self.by_name.remove(name)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&Member) -> bool) {
        self.by_name.retain(|_, m| keep(m));
    }

    pub fn iter(&self) -> impl Iterator<Item = &Member> {
        self.by_name.values()
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The leader first, then the others by name (go-etcd takes entry 0 of
    /// `/v2/machines` as the leader).
    pub fn leader_first(&self, leader: Option<NodeId>) -> Vec<Member> {
        let mut out = Vec::with_capacity(self.len());
        out.extend(leader.and_then(|id| self.by_id(id)).cloned());
        out.extend(self.iter().filter(|m| Some(m.id) != leader).cloned());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_value_is_the_seed_form() {
        let m = Member::new("machine1", "http://127.0.0.1:7001", "http://127.0.0.1:4001");
        assert_eq!(
            m.registry_value(),
            "raft=http://127.0.0.1:7001&etcd=http://127.0.0.1:4001"
        );
        assert_eq!(m.registry_key().as_str(), "/_etcd/machines/machine1");
    }

    #[test]
    fn registry_values_parse_in_both_forms() {
        let ours = "raft=http://127.0.0.1:7001&etcd=http://127.0.0.1:4001";
        let theirs = "etcd=http%3A%2F%2F127.0.0.1%3A4001&raft=http%3A%2F%2F127.0.0.1%3A7001";
        let want = Some((
            "http://127.0.0.1:7001".to_string(),
            "http://127.0.0.1:4001".to_string(),
        ));
        assert_eq!(parse_registry_value(ours), want);
        assert_eq!(parse_registry_value(theirs), want);
        let m = Member::new("m1", "http://127.0.0.1:7001", "http://127.0.0.1:4001");
        assert!(m.registered_as(ours) && m.registered_as(theirs));
        assert!(!m.registered_as("raft=http://127.0.0.1:7009&etcd=http://127.0.0.1:4001"));
        for bad in [
            "raft=x",
            "etcd=y",
            "raft=%zz&etcd=y",
            "raft=%4&etcd=y",
            "raft=%+1&etcd=y",
            "",
        ] {
            assert_eq!(parse_registry_value(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_are_stable_per_name_and_distinct() {
        assert_eq!(node_id_for("machine1"), node_id_for("machine1"));
        assert_ne!(node_id_for("machine1"), node_id_for("machine2"));
        assert_ne!(node_id_for(""), 0);
    }

    #[test]
    fn leader_is_listed_first_then_names_in_order() {
        let mut ms = Members::default();
        for i in 1..=3 {
            ms.upsert(Member::new(
                &format!("machine{i}"),
                &format!("http://127.0.0.1:700{i}"),
                &format!("http://127.0.0.1:400{i}"),
            ));
        }
        let leader = ms.get("machine2").map(|m| m.id);
        let urls: Vec<String> = ms
            .leader_first(leader)
            .into_iter()
            .map(|m| m.client_url)
            .collect();
        assert_eq!(
            urls,
            vec![
                "http://127.0.0.1:4002",
                "http://127.0.0.1:4001",
                "http://127.0.0.1:4003"
            ]
        );
        assert_eq!(ms.leader_first(None).len(), 3);
    }
}
