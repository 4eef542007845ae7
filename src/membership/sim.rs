//! The membership policy driving real Raft machines in the simulated
//! network of `raft::tests::harness`: seven machines, three founders and
//! four standbys, under random message loss, delays, duplicates,
//! partitions, crashes and restarts, while the leader admits joins,
//! removes unreachable members after `removeDelay`, demotes members above
//! `activeSize` (which changes at random), and members are removed by hand.
//!
//! Standbys tick like members (as the state thread does): a re-added
//! standby that has not caught up may be needed for a quorum.
//!
//! Checked on every step: Raft's own safety properties (one leader per
//! term, log matching, state machine safety, leader completeness), and that
//! every committed membership change was durable on a majority of the
//! configuration before it. After healing everything, the cluster must
//! settle at `min(activeSize, 7)` voters and commit a new entry on all of
//! them. A failure names its seed; `MEMBERSHIP_SEED=n cargo test
//! replay_one_membership_seed -- --ignored --nocapture` replays it.

use std::collections::{BTreeMap, BTreeSet};

use crate::membership::{
    Admission, ClusterConfig, Member, Members, RemovalInput, admit, next_removal,
};
use crate::raft::tests::harness::{Cluster, test_config};
use crate::raft::types::{ConfChange, Index, NodeId, Term};
use crate::raft::{Config, majority};

const MACHINES: u64 = 7;
const FOUNDERS: u64 = 3;
/// Simulated seconds: one per step.
const REMOVE_DELAY_S: f64 = 60.0;
const ALIVE_WITHIN_S: u64 = 15;

/// What a membership entry says: `join:<id>:<n>`, `remove:<id>:<n>`
/// (conf-change entries) and `size:<activeSize>:<n>` (normal entries).
fn decode_change(data: &[u8]) -> Option<ConfChange> {
    // The founders' entries are bare conf changes, as in the server.
    if let Some(cc) = ConfChange::decode(data) {
        return Some(cc);
    }
    let text = std::str::from_utf8(data).ok()?;
    let mut parts = text.split(':');
    let kind = parts.next()?;
    let id = parts.next()?.parse().ok()?;
    match kind {
        "join" => Some(ConfChange::AddNode(id)),
        "remove" => Some(ConfChange::RemoveNode(id)),
        _ => None,
    }
}

fn member(id: NodeId) -> Member {
    Member {
        id,
        name: format!("m{id}"),
        peer_url: format!("http://10.0.0.{id}:7001"),
        client_url: format!("http://10.0.0.{id}:4001"),
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct MembershipStats {
    pub joins: usize,
    pub removals: usize,
    pub demotions: usize,
    pub size_changes: usize,
    pub leaders: usize,
}

struct Sim {
    c: Cluster,
    now: u64,
    /// Standbys (sim's "mode"): they ask to join.
    standby: BTreeSet<NodeId>,
    /// Applied index at which each machine last changed mode.
    mode_changed_at: BTreeMap<NodeId, Index>,
    /// (receiver, sender) -> when the receiver last got a message.
    heard: BTreeMap<(NodeId, NodeId), u64>,
    /// (leader, term) -> when it started leading.
    leading_since: BTreeMap<(NodeId, Term), u64>,
    initial_size: u32,
    seq: u64,
    /// Committed membership payloads checked so far.
    checked: BTreeSet<Index>,
    stats: MembershipStats,
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let founders: Vec<NodeId> = (1..=FOUNDERS).collect();
        let cfg = Config {
            election_tick: 4,
            heartbeat_tick: 1,
            ..test_config(0)
        };
        let mut c = Cluster::with_config(seed, &founders, cfg);
        c.conf_decoder = decode_change;
        c.deliveries = Some(Vec::new());
        for id in FOUNDERS + 1..=MACHINES {
            c.add_machine(id, &[]);
        }
        c.drop_permille = c.rng.in_range(0, 120);
        c.dup_permille = c.rng.in_range(0, 60);
        let initial_size = c.rng.in_range(3, 7) as u32;
        Sim {
            c,
            now: 0,
            standby: (FOUNDERS + 1..=MACHINES).collect(),
            mode_changed_at: BTreeMap::new(),
            heard: BTreeMap::new(),
            leading_since: BTreeMap::new(),
            initial_size,
            seq: 0,
            checked: BTreeSet::new(),
            stats: MembershipStats::default(),
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            return None;
        }
        let k = self.c.rng.in_range(0, items.len() as u64) as usize;
        Some(items[k])
    }

    fn payload(&mut self, kind: &str, value: u64) -> Vec<u8> {
        self.seq += 1;
        format!("{kind}:{value}:{}", self.seq).into_bytes()
    }

    /// Committed payloads of `kind` (`join`, `remove`, `size`): (index, value).
    fn committed(&self, kind: &str) -> Vec<(Index, u64)> {
        let mut out: Vec<(Index, u64)> = self
            .c
            .checker
            .first_index_of
            .iter()
            .filter_map(|(data, index)| {
                let text = std::str::from_utf8(data).ok()?;
                let mut parts = text.split(':');
                (parts.next()? == kind).then_some(())?;
                Some((*index, parts.next()?.parse().ok()?))
            })
            .collect();
        out.sort_unstable();
        out
    }

    fn applied(&self, id: NodeId) -> Index {
        self.c.nodes[&id].app.applied
    }

    /// The settings a machine has applied.
    fn config_of(&self, id: NodeId) -> ClusterConfig {
        let applied = self.applied(id);
        let size = self
            .committed("size")
            .into_iter()
            .filter(|(i, _)| *i <= applied)
            .map(|(_, v)| v as u32)
            .next_back()
            .unwrap_or(self.initial_size);
        ClusterConfig {
            active_size: size,
            remove_delay: REMOVE_DELAY_S,
            sync_interval: 1.0,
        }
    }

    fn members_of(&self, id: NodeId) -> Members {
        let mut ms = Members::default();
        for v in self.c.nodes[&id].voters() {
            ms.upsert(member(v));
        }
        ms
    }

    fn leaders(&self) -> Vec<NodeId> {
        self.c
            .leaders()
            .into_iter()
            .filter(|l| !self.standby.contains(l))
            .collect()
    }

    fn connected(&self, a: NodeId, b: NodeId) -> bool {
        self.c.is_up(a) && self.c.is_up(b) && self.c.group.get(&a) == self.c.group.get(&b)
    }

    // ---- what the machines do -------------------------------------------

    fn policy_tick(&mut self) {
        for l in self.leaders() {
            let term = self.c.raft(l).status().term;
            let since = *self.leading_since.entry((l, term)).or_insert(self.now);
            if self.c.raft(l).membership_change_pending() {
                continue;
            }
            let members = self.members_of(l);
            let config = self.config_of(l);
            let silent_ms: BTreeMap<NodeId, u64> = members
                .iter()
                .filter(|m| m.id != l)
                .map(|m| {
                    let last = self.heard.get(&(l, m.id)).copied().unwrap_or(0).max(since);
                    (m.id, (self.now - last) * 1000)
                })
                .collect();
            let input = RemovalInput {
                members: &members,
                leader: l,
                config: &config,
                silent_ms: &silent_ms,
                alive_within_ms: ALIVE_WITHIN_S * 1000,
            };
            if let Some(r) = next_removal(&input) {
                assert_ne!(
                    r.id, l,
                    "seed {}: the policy removes its leader",
                    self.c.seed
                );
                let data = self.payload("remove", r.id);
                if self
                    .c
                    .raft(l)
                    .propose_membership_change(ConfChange::RemoveNode(r.id), data)
                    .is_ok()
                {
                    match r.reason {
                        crate::membership::RemovalReason::Unresponsive { .. } => {
                            self.stats.removals += 1
                        }
                        crate::membership::RemovalReason::AboveActiveSize { .. } => {
                            self.stats.demotions += 1
                        }
                    }
                }
                self.c.settle();
            }
        }
    }

    /// A standby looks at the cluster through a leader it can reach and
    /// joins when there is room (or finds it is listed already).
    fn standby_round(&mut self) {
        let standbys: Vec<NodeId> = self.standby.iter().copied().collect();
        let Some(s) = self.pick(&standbys) else {
            return;
        };
        let leaders: Vec<NodeId> = self
            .leaders()
            .into_iter()
            .filter(|l| self.connected(*l, s))
            .collect();
        let Some(l) = self.pick(&leaders) else {
            return;
        };
        let voters = self.c.raft(l).status().voters;
        if voters.contains(&s) {
            // Listed: a member again once its own log says so too (it may
            // have been taken for removed by a stale leader's answer).
            if self.c.nodes[&s].voters().contains(&s) {
                self.set_mode(s, false);
            }
            return;
        }
        let members = self.members_of(l);
        let config = self.config_of(l);
        let heard = |m: &Member| {
            self.heard
                .get(&(l, m.id))
                .is_some_and(|t| self.now - t < ALIVE_WITHIN_S)
        };
        if admit(&members, &voters, &config, &member(s), heard) == Admission::Add {
            let data = self.payload("join", s);
            if self
                .c
                .raft(l)
                .propose_membership_change(ConfChange::AddNode(s), data)
                .is_ok()
            {
                self.stats.joins += 1;
            }
            self.c.settle();
        }
    }

    /// A member without a leader asks a leader it can reach whether it is
    /// still listed; the leader's own answer decides.
    fn probe(&mut self) {
        let lost: Vec<NodeId> = self
            .c
            .up_ids()
            .into_iter()
            .filter(|id| !self.standby.contains(id))
            .filter(|id| {
                self.c.nodes[id]
                    .raft
                    .as_ref()
                    .is_some_and(|r| r.status().leader.is_none())
            })
            .collect();
        for x in lost {
            let removed = self
                .leaders()
                .into_iter()
                .filter(|l| self.connected(*l, x))
                .any(|l| !self.c.nodes[&l].voters().contains(&x));
            if removed {
                self.set_mode(x, true);
            }
        }
    }

    fn set_mode(&mut self, id: NodeId, standby: bool) {
        if standby {
            self.standby.insert(id);
        } else {
            self.standby.remove(&id);
        }
        let applied = self.applied(id);
        self.mode_changed_at.insert(id, applied);
    }

    /// A machine switches mode when it applies its own join or removal
    /// (after its last switch), as the state thread does.
    fn follow_own_entries(&mut self) {
        let joins = self.committed("join");
        let removes = self.committed("remove");
        for id in self.c.up_ids() {
            let applied = self.applied(id);
            let since = self.mode_changed_at.get(&id).copied().unwrap_or(0);
            let latest = joins
                .iter()
                .map(|(i, v)| (*i, *v, true))
                .chain(removes.iter().map(|(i, v)| (*i, *v, false)))
                .filter(|(i, v, _)| *v == id && *i > since && *i <= applied)
                .max();
            match latest {
                Some((_, _, true)) if self.standby.contains(&id) => self.set_mode(id, false),
                Some((_, _, false)) if !self.standby.contains(&id) => self.set_mode(id, true),
                _ => {}
            }
        }
    }

    fn record_deliveries(&mut self) {
        let now = self.now;
        if let Some(log) = self.c.deliveries.as_mut() {
            for (from, to) in log.drain(..) {
                self.heard.insert((to, from), now);
            }
        }
    }

    /// Every membership change first applied since the last look was
    /// durable on a majority of the configuration it changed.
    fn check_changes(&mut self) {
        let mut changes: Vec<(Index, ConfChange)> = self
            .committed("join")
            .into_iter()
            .map(|(i, v)| (i, ConfChange::AddNode(v)))
            .chain(
                self.committed("remove")
                    .into_iter()
                    .map(|(i, v)| (i, ConfChange::RemoveNode(v))),
            )
            .collect();
        changes.sort_by_key(|(i, _)| *i);
        let mut config: BTreeSet<NodeId> = (1..=FOUNDERS).collect();
        for (index, cc) in changes {
            if !self.checked.contains(&index) {
                let term = self.c.checker.committed_term(index);
                let holders = config
                    .iter()
                    .filter(|id| term.is_some_and(|t| self.c.nodes[id].disk.holds(index, t)))
                    .count();
                assert!(
                    holders >= majority(config.len()),
                    "seed {}: change {cc:?} at {index} committed on {holders} of {config:?}",
                    self.c.seed
                );
                self.checked.insert(index);
            }
            match cc {
                ConfChange::AddNode(id) => {
                    config.insert(id);
                }
                ConfChange::RemoveNode(id) => {
                    config.remove(&id);
                }
            }
        }
    }

    fn tick_all(&mut self) {
        self.c.tick_all();
    }

    fn after_step(&mut self) {
        self.record_deliveries();
        self.follow_own_entries();
        self.check_changes();
    }

    // ---- the schedule -----------------------------------------------------

    fn step(&mut self) {
        self.now += 1;
        for _ in 0..self.c.rng.in_range(0, 4) {
            if !self.c.net.is_empty() {
                let k = self.c.rng.in_range(0, self.c.net.len() as u64) as usize;
                self.c.deliver_at(k, true);
            }
        }
        if self.c.rng.in_range(0, 10) < 6 {
            let busy: Vec<NodeId> = self
                .c
                .nodes
                .values()
                .filter(|n| !n.pending.is_empty())
                .map(|n| n.id)
                .collect();
            if let Some(id) = self.pick(&busy) {
                self.c.flush_one(id);
                self.c.settle();
            }
        }
        let up = self.c.up_ids();
        let ids: Vec<NodeId> = (1..=MACHINES).collect();
        let down: Vec<NodeId> = ids.iter().copied().filter(|i| !self.c.is_up(*i)).collect();
        match self.c.rng.in_range(0, 100) {
            0..=39 => {
                if let Some(id) = self.pick(&up) {
                    self.c.tick(id);
                }
            }
            40..=49 => self.tick_all(),
            50..=59 => {
                let leaders = self.leaders();
                if let Some(l) = self.pick(&leaders) {
                    let data = format!("v-{}", self.c.rng.next_u64()).into_bytes();
                    let _ = self.c.raft(l).propose(data);
                    self.c.settle();
                }
            }
            60..=69 => self.policy_tick(),
            70..=76 => self.standby_round(),
            77..=79 => self.probe(),
            80..=81 => {
                let leaders = self.leaders();
                if let Some(l) = self.pick(&leaders) {
                    let size = self.c.rng.in_range(3, 7);
                    let data = self.payload("size", size);
                    if self.c.raft(l).propose(data).is_ok() {
                        self.stats.size_changes += 1;
                    }
                    self.c.settle();
                }
            }
            82 => {
                // An operator removes a member by hand.
                let leaders = self.leaders();
                if let Some(l) = self.pick(&leaders) {
                    let voters = self.c.raft(l).status().voters;
                    if voters.len() > 2
                        && let Some(v) = self.pick(&voters)
                    {
                        let data = self.payload("remove", v);
                        let _ = self
                            .c
                            .raft(l)
                            .propose_membership_change(ConfChange::RemoveNode(v), data);
                        self.c.settle();
                    }
                }
            }
            83..=85 => {
                if let Some(id) = self.pick(&up) {
                    self.c.compact(id);
                }
            }
            86..=89 => {
                if down.len() < 3
                    && let Some(id) = self.pick(&up)
                {
                    self.c.crash(id);
                }
            }
            90..=93 => {
                if let Some(id) = self.pick(&down) {
                    self.c.restart(id);
                }
            }
            94 => {
                let k = self.c.rng.in_range(1, MACHINES);
                let mut side = Vec::new();
                for _ in 0..k {
                    if let Some(id) = self.pick(&ids) {
                        side.push(id);
                    }
                }
                self.c.isolate(&side);
            }
            95..=96 => self.c.heal(),
            _ => {
                if !self.c.net.is_empty() {
                    let k = self.c.rng.in_range(0, self.c.net.len() as u64) as usize;
                    let m = self.c.net.remove(k);
                    self.c.net.push(m);
                }
            }
        }
        self.after_step();
    }

    /// Heal everything: the cluster must settle at `min(activeSize, 7)`
    /// voters, all of them serving, and commit a new entry on each.
    fn require_settled(&mut self) {
        let seed = self.c.seed;
        self.c.heal();
        self.c.drop_permille = 0;
        self.c.dup_permille = 0;
        for id in 1..=MACHINES {
            self.c.restart(id);
        }
        let token = format!("final-{seed}").into_bytes();
        for round in 0..2000 {
            self.now += 1;
            self.tick_all();
            self.c.stabilize();
            self.after_step();
            self.policy_tick();
            self.standby_round();
            self.probe();
            self.after_step();
            let leaders = self.leaders();
            let Some(&l) = leaders.first() else {
                continue;
            };
            let voters = self.c.nodes[&l].voters();
            let want = self.config_of(l).active_size.min(MACHINES as u32) as usize;
            let settled = voters.len() == want
                && voters.iter().all(|v| !self.standby.contains(v))
                && !self.c.raft(l).membership_change_pending();
            if !settled {
                continue;
            }
            match self.c.checker.first_index_of.get(&token).copied() {
                Some(idx) if voters.iter().all(|v| self.applied(*v) >= idx) => return,
                Some(_) => {}
                None if round % 5 == 0 => {
                    let _ = self.c.raft(l).propose(token.clone());
                    self.c.settle();
                }
                None => {}
            }
        }
        let states: Vec<String> = self
            .c
            .nodes
            .values()
            .map(|n| match &n.raft {
                Some(r) => format!(
                    "{} standby={} {:?}",
                    n.id,
                    self.standby.contains(&n.id),
                    r.status()
                ),
                None => format!("{} down", n.id),
            })
            .collect();
        panic!("seed {seed}: membership never settled: {states:#?}");
    }
}

pub fn run_membership_policy_seed(seed: u64, steps: usize) -> MembershipStats {
    let mut sim = Sim::new(seed);
    for _ in 0..steps {
        sim.step();
    }
    sim.stats.leaders = sim.c.checker.leader_count();
    sim.require_settled();
    sim.stats
}

#[test]
fn membership_policy_with_raft_stays_safe_and_settles_under_random_faults() {
    let mut total = MembershipStats::default();
    for seed in 70_000..71_000 {
        let s = run_membership_policy_seed(seed, 800);
        total.joins += s.joins;
        total.removals += s.removals;
        total.demotions += s.demotions;
        total.size_changes += s.size_changes;
        total.leaders += s.leaders;
    }
    // The schedules must exercise every decision, or they test nothing.
    assert!(total.joins > 1000, "too few joins: {total:?}");
    assert!(
        total.removals > 100,
        "too few automatic removals: {total:?}"
    );
    assert!(total.demotions > 100, "too few demotions: {total:?}");
    assert!(total.leaders > 2000, "too few elections: {total:?}");
}

#[test]
#[ignore = "long run: cargo test -- --ignored"]
fn many_more_membership_policy_seeds() {
    for seed in 400_000..403_000 {
        run_membership_policy_seed(seed, 2000);
    }
}

/// Replay one seed: `MEMBERSHIP_SEED=123 cargo test replay_one_membership_seed -- --ignored --nocapture`.
#[test]
#[ignore = "replays the seed given in MEMBERSHIP_SEED"]
fn replay_one_membership_seed() {
    let seed = std::env::var("MEMBERSHIP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let steps = std::env::var("MEMBERSHIP_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    println!("{:?}", run_membership_policy_seed(seed, steps));
}
