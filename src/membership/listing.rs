//! One member as `GET /v2/admin/machines` lists it (0.4's shape:
//! `{"name","state","clientURL","peerURL"}`). The peer API writes it; the
//! standby loop and the removal probe read it back from other machines.

use serde::{Deserialize, Serialize};

use super::members::Member;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MachineState {
    Leader,
    Follower,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineEntry {
    pub name: String,
    pub state: MachineState,
    #[serde(rename = "clientURL")]
    pub client_url: String,
    #[serde(rename = "peerURL")]
    pub peer_url: String,
}

impl MachineEntry {
    pub fn of(member: &Member, leader: bool) -> MachineEntry {
        MachineEntry {
            name: member.name.clone(),
            state: if leader {
                MachineState::Leader
            } else {
                MachineState::Follower
            },
            client_url: member.client_url.clone(),
            peer_url: member.peer_url.clone(),
        }
    }

    pub fn is_leader(&self) -> bool {
        self.state == MachineState::Leader
    }

    /// The member this entry describes (its Raft id follows from its name).
    pub fn member(&self) -> Member {
        Member::new(&self.name, &self.peer_url, &self.client_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_is_0_4_s() {
        let m = Member::new("m1", "http://127.0.0.1:7001", "http://127.0.0.1:4001");
        let text = serde_json::to_string(&MachineEntry::of(&m, true)).unwrap();
        assert_eq!(
            text,
            r#"{"name":"m1","state":"leader","clientURL":"http://127.0.0.1:4001","peerURL":"http://127.0.0.1:7001"}"#
        );
        let back: MachineEntry = serde_json::from_str(&text).unwrap();
        assert!(back.is_leader());
        assert_eq!(back.member(), m);
    }
}
