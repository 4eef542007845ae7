//! Whom the leader removes, one at a time: a member it has not reached for
//! `removeDelay` (0.4's automatic removal; a standby then takes its place),
//! or, while the cluster has more members than `activeSize`, one of the
//! others (0.4's demotion: the removed machine waits as a standby).
//!
//! Never the leader, and never a removal after which the members still
//! reachable would not hold a majority of the smaller configuration: the
//! cluster must be able to commit the next change, and the one after.

use std::collections::BTreeMap;

use crate::raft::types::NodeId;

use super::config::ClusterConfig;
use super::members::Members;

/// What the leader knows when it decides.
#[derive(Debug, Clone)]
pub struct RemovalInput<'a> {
    pub members: &'a Members,
    pub leader: NodeId,
    pub config: &'a ClusterConfig,
    /// For each other member: milliseconds since the leader last reached it,
    /// at most the time it has led (a new leader gives everyone a fresh
    /// start). A member missing here counts as just reached.
    pub silent_ms: &'a BTreeMap<NodeId, u64>,
    /// A member reached within this many milliseconds counts as alive when
    /// the quorum that remains is counted.
    pub alive_within_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RemovalReason {
    /// Not reached for longer than `removeDelay`.
    Unresponsive { silent_ms: u64 },
    /// More members than `activeSize`.
    AboveActiveSize { members: usize, active_size: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Removal {
    pub id: NodeId,
    pub name: String,
    pub reason: RemovalReason,
}

impl std::fmt::Display for RemovalReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemovalReason::Unresponsive { silent_ms } => {
                write!(f, "not reached for {:.1} s", *silent_ms as f64 / 1000.0)
            }
            RemovalReason::AboveActiveSize {
                members,
                active_size,
            } => write!(f, "{members} members, activeSize is {active_size}"),
        }
    }
}

/// The next member to remove, if any.
pub fn next_removal(input: &RemovalInput) -> Option<Removal> {
    let n = input.members.len();
    if input.members.by_id(input.leader).is_none() || n < 2 {
        return None;
    }
    let silent = |id: NodeId| input.silent_ms.get(&id).copied().unwrap_or(0);
    let alive = |id: NodeId| id == input.leader || silent(id) < input.alive_within_ms;
    let alive_count = input.members.iter().filter(|m| alive(m.id)).count();
    // The most silent other member; ties go to the later name, so that the
    // choice is the same on every run.
    let candidate = input
        .members
        .iter()
        .filter(|m| m.id != input.leader)
        .max_by(|a, b| silent(a.id).cmp(&silent(b.id)).then(a.name.cmp(&b.name)))?;
    let remove_delay_ms = input.config.remove_delay().as_millis() as u64;
    let reason = if silent(candidate.id) >= remove_delay_ms {
        RemovalReason::Unresponsive {
            silent_ms: silent(candidate.id),
        }
    } else if n > input.config.active_size as usize {
        RemovalReason::AboveActiveSize {
            members: n,
            active_size: input.config.active_size,
        }
    } else {
        return None;
    };
    let alive_after = alive_count - usize::from(alive(candidate.id));
    if alive_after < crate::raft::majority(n - 1) {
        return None;
    }
    Some(Removal {
        id: candidate.id,
        name: candidate.name.clone(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::Member;

    fn members(n: u32) -> Members {
        let mut ms = Members::default();
        for i in 1..=n {
            ms.upsert(Member::new(
                &format!("m{i}"),
                &format!("http://127.0.0.1:70{i:02}"),
                &format!("http://127.0.0.1:40{i:02}"),
            ));
        }
        ms
    }

    fn id(ms: &Members, name: &str) -> NodeId {
        ms.get(name).map(|m| m.id).unwrap_or(0)
    }

    fn config(active_size: u32, remove_delay: f64) -> ClusterConfig {
        ClusterConfig {
            active_size,
            remove_delay,
            sync_interval: 1.0,
        }
    }

    /// Silence per member name, in ms.
    fn silence(ms: &Members, pairs: &[(&str, u64)]) -> BTreeMap<NodeId, u64> {
        pairs.iter().map(|(n, s)| (id(ms, n), *s)).collect()
    }

    fn decide(ms: &Members, cfg: &ClusterConfig, silent: &BTreeMap<NodeId, u64>) -> Option<String> {
        next_removal(&RemovalInput {
            members: ms,
            leader: id(ms, "m1"),
            config: cfg,
            silent_ms: silent,
            alive_within_ms: 1000,
        })
        .map(|r| r.name)
    }

    #[test]
    fn a_member_silent_past_the_remove_delay_is_removed() {
        let ms = members(3);
        let cfg = config(9, 2.0);
        let s = silence(&ms, &[("m2", 10), ("m3", 1999)]);
        assert_eq!(decide(&ms, &cfg, &s), None);
        let s = silence(&ms, &[("m2", 10), ("m3", 2000)]);
        assert_eq!(decide(&ms, &cfg, &s), Some("m3".into()));
    }

    #[test]
    fn the_most_silent_goes_first_and_one_at_a_time() {
        let ms = members(5);
        let cfg = config(9, 2.0);
        let s = silence(&ms, &[("m2", 5000), ("m3", 9000), ("m4", 0), ("m5", 0)]);
        assert_eq!(decide(&ms, &cfg, &s), Some("m3".into()));
    }

    #[test]
    fn never_the_leader_even_above_the_active_size() {
        let ms = members(4);
        let cfg = config(3, 1800.0);
        let s = silence(&ms, &[("m2", 0), ("m3", 0), ("m4", 0)]);
        // All equally silent: the later name goes.
        assert_eq!(decide(&ms, &cfg, &s), Some("m4".into()));
        let r = next_removal(&RemovalInput {
            members: &ms,
            leader: id(&ms, "m4"),
            config: &cfg,
            silent_ms: &s,
            alive_within_ms: 1000,
        })
        .unwrap();
        assert_eq!(r.name, "m3");
        assert_eq!(
            r.reason,
            RemovalReason::AboveActiveSize {
                members: 4,
                active_size: 3
            }
        );
    }

    #[test]
    fn a_demotion_that_would_leave_no_reachable_majority_waits() {
        // 5 members, 2 of them unreachable (but not yet past removeDelay),
        // activeSize lowered to 3: demoting a live member would leave 2
        // reachable of 4; the unreachable ones must go first.
        let ms = members(5);
        let cfg = config(3, 60.0);
        let s = silence(&ms, &[("m2", 0), ("m3", 0), ("m4", 5000), ("m5", 4000)]);
        // The most silent (m4) is unreachable: removing it keeps 3 of 4.
        assert_eq!(decide(&ms, &cfg, &s), Some("m4".into()));
        // With only 2 of 4 reachable, even removing an unreachable one
        // keeps 2 of 3: allowed.
        let ms4 = members(4);
        let s = silence(&ms4, &[("m2", 0), ("m3", 5000), ("m4", 5000)]);
        assert_eq!(decide(&ms4, &cfg, &s), Some("m4".into()));
        // A leader that reaches only one other of five removes nobody, not
        // even the unreachable: the rest would not be a majority of four.
        let ms5 = members(5);
        let s = silence(
            &ms5,
            &[("m2", 0), ("m3", 5000), ("m4", 5000), ("m5", 90_000)],
        );
        assert_eq!(decide(&ms5, &cfg, &s), None);
        // Nor demotes a live member of a full-strength cluster at activeSize.
        let ms3 = members(3);
        let s = silence(&ms3, &[("m2", 0), ("m3", 0)]);
        assert_eq!(decide(&ms3, &cfg, &s), None);
    }

    #[test]
    fn removing_a_live_member_keeps_a_reachable_majority() {
        // 4 members, one unreachable for a short while, activeSize 3: the
        // unreachable one is the candidate (most silent) and removing it
        // leaves 3 reachable of 3.
        let ms = members(4);
        let cfg = config(3, 60.0);
        let s = silence(&ms, &[("m2", 0), ("m3", 0), ("m4", 3000)]);
        assert_eq!(decide(&ms, &cfg, &s), Some("m4".into()));
        // 4 members, 2 unreachable, activeSize 3: removing the most silent
        // leaves 2 reachable of 3: still a majority.
        let s = silence(&ms, &[("m2", 0), ("m3", 2500), ("m4", 3000)]);
        assert_eq!(decide(&ms, &cfg, &s), Some("m4".into()));
    }

    #[test]
    fn nothing_happens_without_the_leader_in_the_table() {
        let ms = members(3);
        let s = silence(&ms, &[("m2", 1 << 40), ("m3", 1 << 40)]);
        let r = next_removal(&RemovalInput {
            members: &ms,
            leader: 12345,
            config: &config(3, 2.0),
            silent_ms: &s,
            alive_within_ms: 1000,
        });
        assert_eq!(r, None);
    }

    #[test]
    fn exhaustively_no_removal_leaves_a_minority_reachable() {
        // Every cluster of 2..=7 members, every pattern of reachable /
        // unreachable / past-the-delay members, every active size.
        for n in 2..=7u32 {
            let ms = members(n);
            let others: Vec<NodeId> = ms
                .iter()
                .map(|m| m.id)
                .filter(|i| *i != id(&ms, "m1"))
                .collect();
            let patterns = 3u32.pow(n - 1);
            for p in 0..patterns {
                let mut s = BTreeMap::new();
                let mut code = p;
                for o in &others {
                    let ms_silent = match code % 3 {
                        0 => 0,
                        1 => 1500,
                        _ => 10_000,
                    };
                    code /= 3;
                    s.insert(*o, ms_silent);
                }
                for active in 3..=8 {
                    let cfg = config(active, 5.0);
                    let Some(r) = next_removal(&RemovalInput {
                        members: &ms,
                        leader: id(&ms, "m1"),
                        config: &cfg,
                        silent_ms: &s,
                        alive_within_ms: 1000,
                    }) else {
                        continue;
                    };
                    assert_ne!(r.name, "m1");
                    let alive_after = ms
                        .iter()
                        .filter(|m| m.id != r.id)
                        .filter(|m| m.name == "m1" || s[&m.id] < 1000)
                        .count();
                    assert!(
                        alive_after >= crate::raft::majority(n as usize - 1),
                        "n={n} pattern={p} active={active}: {r:?}"
                    );
                    match r.reason {
                        RemovalReason::Unresponsive { silent_ms } => assert!(silent_ms >= 5000),
                        RemovalReason::AboveActiveSize { .. } => assert!(n > active),
                    }
                }
            }
        }
    }
}
