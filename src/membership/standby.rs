//! What a machine concludes from a member list it fetched from the cluster
//! (`GET /v2/admin/machines` and `/v2/admin/config` on some peer).
//!
//! A standby asks every `syncInterval`: it joins through the leader as soon
//! as there is room, or finds it is a member already. A member that has
//! known no leader for a while asks too: if the leader itself says it is no
//! longer a member, it was removed while away and becomes a standby. Only
//! the leader's own answer is trusted for that (a follower's table may lag).

use super::config::ClusterConfig;
use super::listing::MachineEntry;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StandbyStep {
    /// Listed as a member: the cluster has us already.
    AlreadyMember,
    /// There is room: ask the leader (its peer URL) to let us join.
    Join { leader_peer_url: String },
    /// Keep waiting, and why (for the debug log).
    Wait(&'static str),
}

/// The next step of a standby named `me`, given what a peer listed.
pub fn next_standby_step(
    listing: &[MachineEntry],
    config: &ClusterConfig,
    me: &str,
) -> StandbyStep {
    if listing.iter().any(|m| m.name == me) {
        return StandbyStep::AlreadyMember;
    }
    let Some(leader) = listing.iter().find(|m| m.is_leader()) else {
        return StandbyStep::Wait("the cluster has no leader");
    };
    if listing.len() >= config.active_size as usize {
        return StandbyStep::Wait("the cluster is full");
    }
    StandbyStep::Join {
        leader_peer_url: leader.peer_url.clone(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipVerdict {
    /// The answering leader lists us.
    StillMember,
    /// The answering leader does not list us: we were removed.
    Removed,
    /// The answer is not the leader's own (or names no leader): no verdict.
    Unknown,
}

/// What a member named `me` learns from the listing answered by the
/// machine whose peer URL is `answered_by`.
pub fn judge_membership(
    answered_by: &str,
    listing: &[MachineEntry],
    me: &str,
) -> MembershipVerdict {
    let from_leader = listing
        .iter()
        .any(|m| m.is_leader() && same_peer(&m.peer_url, answered_by));
    if !from_leader {
        return MembershipVerdict::Unknown;
    }
    if listing.iter().any(|m| m.name == me) {
        MembershipVerdict::StillMember
    } else {
        MembershipVerdict::Removed
    }
}

/// Peer URLs compared without scheme and trailing slash (`-peers` entries
/// are `host:port`).
fn same_peer(a: &str, b: &str) -> bool {
    crate::transport::host_port(a) == crate::transport::host_port(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::{MachineState, Member};

    fn entry(i: u32, leader: bool) -> MachineEntry {
        let m = Member::new(
            &format!("m{i}"),
            &format!("http://127.0.0.1:70{i:02}"),
            &format!("http://127.0.0.1:40{i:02}"),
        );
        MachineEntry::of(&m, leader)
    }

    fn size(active_size: u32) -> ClusterConfig {
        ClusterConfig {
            active_size,
            ..ClusterConfig::default()
        }
    }

    #[test]
    fn a_standby_joins_through_the_leader_when_there_is_room() {
        let listing = vec![entry(1, false), entry(2, true)];
        assert_eq!(
            next_standby_step(&listing, &size(3), "m9"),
            StandbyStep::Join {
                leader_peer_url: "http://127.0.0.1:7002".into()
            }
        );
        let full = vec![entry(1, false), entry(2, true), entry(3, false)];
        assert_eq!(
            next_standby_step(&full, &size(3), "m9"),
            StandbyStep::Wait("the cluster is full")
        );
        let leaderless = vec![entry(1, false)];
        assert!(matches!(
            next_standby_step(&leaderless, &size(3), "m9"),
            StandbyStep::Wait(_)
        ));
        assert_eq!(
            next_standby_step(&full, &size(3), "m3"),
            StandbyStep::AlreadyMember
        );
    }

    #[test]
    fn only_the_leader_s_own_answer_says_removed() {
        let listing = vec![entry(1, true), entry(2, false)];
        assert_eq!(
            judge_membership("127.0.0.1:7001", &listing, "m3"),
            MembershipVerdict::Removed
        );
        assert_eq!(
            judge_membership("http://127.0.0.1:7001", &listing, "m2"),
            MembershipVerdict::StillMember
        );
        // m2 answered: a follower's view may lag.
        assert_eq!(
            judge_membership("127.0.0.1:7002", &listing, "m3"),
            MembershipVerdict::Unknown
        );
        let mut leaderless = listing.clone();
        leaderless[0].state = MachineState::Follower;
        assert_eq!(
            judge_membership("127.0.0.1:7001", &leaderless, "m3"),
            MembershipVerdict::Unknown
        );
    }
}
