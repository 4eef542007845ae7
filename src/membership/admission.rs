//! What the leader does with a join request (`PUT /join`): nothing (the
//! machine is a member already), add it, record its new addresses, or
//! refuse — another name holds its peer URL, a live member already has its
//! name, or the cluster has `activeSize` members (the machine then waits as
//! a standby).
//!
//! Decided against the applied member table while no other change is
//! pending, so the count of members is exact.

use crate::raft::types::NodeId;

use super::config::ClusterConfig;
use super::members::{Member, Members};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// A voting member already, at these addresses: nothing to commit.
    AlreadyMember,
    /// Propose adding it as a voter (and registering it).
    Add,
    /// A known member at new addresses (restarted elsewhere): record them.
    UpdateAddresses,
    Refuse(Refusal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Another name is registered with this peer URL (0.4's error 109).
    PeerUrlTaken { by: String },
    /// A member with this name still answers at its own address (105).
    NameInUse { name: String, peer_url: String },
    /// The cluster has `activeSize` members already (103): wait as a standby.
    Full { members: usize, active_size: u32 },
}

/// `voters` are Raft's; `is_alive` says whether a member answered at its
/// registered address recently.
pub fn admit(
    members: &Members,
    voters: &[NodeId],
    config: &ClusterConfig,
    joiner: &Member,
    is_alive: impl Fn(&Member) -> bool,
) -> Admission {
    if let Some(other) = members.by_peer_url(&joiner.peer_url)
        && other.name != joiner.name
    {
        return Admission::Refuse(Refusal::PeerUrlTaken {
            by: other.name.clone(),
        });
    }
    match members.get(&joiner.name) {
        Some(known) if known == joiner => {
            if voters.contains(&joiner.id) {
                Admission::AlreadyMember
            } else {
                // Registered but not voting (a change that never completed).
                Admission::Add
            }
        }
        Some(known) if is_alive(known) => Admission::Refuse(Refusal::NameInUse {
            name: known.name.clone(),
            peer_url: known.peer_url.clone(),
        }),
        Some(_) => Admission::UpdateAddresses,
        None if members.len() >= config.active_size as usize => Admission::Refuse(Refusal::Full {
            members: members.len(),
            active_size: config.active_size,
        }),
        None => Admission::Add,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(i: u32) -> Member {
        Member::new(
            &format!("m{i}"),
            &format!("http://127.0.0.1:70{i:02}"),
            &format!("http://127.0.0.1:40{i:02}"),
        )
    }

    fn cluster(n: u32) -> (Members, Vec<NodeId>) {
        let mut ms = Members::default();
        for i in 1..=n {
            ms.upsert(member(i));
        }
        let voters = ms.iter().map(|m| m.id).collect();
        (ms, voters)
    }

    fn config(active_size: u32) -> ClusterConfig {
        ClusterConfig {
            active_size,
            ..ClusterConfig::default()
        }
    }

    #[test]
    fn a_new_machine_is_added_until_the_active_size_is_reached() {
        let (ms, voters) = cluster(2);
        assert_eq!(
            admit(&ms, &voters, &config(3), &member(3), |_| true),
            Admission::Add
        );
        let (ms, voters) = cluster(3);
        assert_eq!(
            admit(&ms, &voters, &config(3), &member(4), |_| true),
            Admission::Refuse(Refusal::Full {
                members: 3,
                active_size: 3
            })
        );
    }

    #[test]
    fn a_member_asking_again_changes_nothing_even_when_full() {
        let (ms, voters) = cluster(3);
        assert_eq!(
            admit(&ms, &voters, &config(3), &member(2), |_| true),
            Admission::AlreadyMember
        );
        assert_eq!(
            admit(&ms, &[], &config(3), &member(2), |_| true),
            Admission::Add
        );
    }

    #[test]
    fn a_moved_member_is_updated_unless_its_old_address_still_answers() {
        let (ms, voters) = cluster(3);
        let moved = Member::new("m2", "http://127.0.0.1:7999", "http://127.0.0.1:4999");
        assert_eq!(
            admit(&ms, &voters, &config(3), &moved, |_| false),
            Admission::UpdateAddresses
        );
        assert_eq!(
            admit(&ms, &voters, &config(3), &moved, |_| true),
            Admission::Refuse(Refusal::NameInUse {
                name: "m2".into(),
                peer_url: "http://127.0.0.1:7002".into()
            })
        );
    }

    #[test]
    fn a_peer_url_of_another_name_is_refused_first() {
        let (ms, voters) = cluster(3);
        let intruder = Member::new("x", "http://127.0.0.1:7003", "http://127.0.0.1:4999");
        assert_eq!(
            admit(&ms, &voters, &config(9), &intruder, |_| false),
            Admission::Refuse(Refusal::PeerUrlTaken { by: "m3".into() })
        );
    }
}
