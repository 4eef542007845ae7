//! The `Raft` machine itself: its state, construction from what was
//! persisted, the clock (`tick`), and the `Ready` hand-off to the
//! application. Elections, replication and reads live in sibling files as
//! further `impl Raft` blocks.

use std::collections::{BTreeMap, BTreeSet};

use super::config::{Bootstrap, Config};
use super::log::RaftLog;
use super::message::{Message, MessageBody};
use super::progress::Progress;
use super::read_forward::ForwardedReads;
use super::read_index::ReadQueue;
use super::ready::{ProgressState, ReadState, Ready, Role, Status};
use super::rng::SplitMix64;
use super::types::{
    ConfChange, ConfState, Entry, EntryKind, HardState, Index, NodeId, Snapshot, Term,
};

pub struct Raft {
    pub(super) id: NodeId,
    pub(super) cfg: Config,
    pub(super) term: Term,
    pub(super) vote: NodeId,
    pub(super) role: Role,
    /// The leader of `term` as far as we know; 0 when unknown.
    pub(super) lead: NodeId,
    pub(super) log: RaftLog,
    pub(super) voters: BTreeSet<NodeId>,
    /// Leader only: one entry per other voter.
    pub(super) progress: BTreeMap<NodeId, Progress>,
    /// (Pre-)candidate only: answers received in this election.
    pub(super) votes: BTreeMap<NodeId, bool>,
    pub(super) election_elapsed: usize,
    pub(super) heartbeat_elapsed: usize,
    pub(super) randomized_timeout: usize,
    rng: SplitMix64,
    /// Index of the newest conf change proposed by this leader (or already
    /// in its log when it took over); another waits until it is applied.
    pub(super) pending_conf_index: Index,
    /// Leader only: reads waiting for their confirmation round.
    pub(super) reads: ReadQueue,
    /// Follower only: reads waiting for the leader's read index.
    pub(super) forwarded: ForwardedReads,
    pub(super) dropped_reads: Vec<u64>,
    pub(super) msgs: Vec<Message>,
    pub(super) persisted_msgs: Vec<Message>,
    pub(super) read_states: Vec<ReadState>,
    prev_hard_state: HardState,
    prev_soft: (NodeId, Role),
}

impl Raft {
    pub fn new(cfg: Config, boot: Bootstrap) -> Raft {
        let cfg = Config {
            election_tick: cfg.election_tick.max(1),
            heartbeat_tick: cfg.heartbeat_tick.max(1),
            max_inflight: cfg.max_inflight.max(1),
            ..cfg
        };
        let fresh = boot.snapshot.is_none()
            && boot.entries.is_empty()
            && boot.hard_state == HardState::default();
        let mut hs = boot.hard_state;
        let mut entries = boot.entries;
        let voters: BTreeSet<NodeId> = match &boot.snapshot {
            Some(meta) => meta.conf.voters.iter().copied().collect(),
            None => boot
                .conf
                .voters
                .iter()
                .copied()
                .filter(|v| *v != 0)
                .collect(),
        };
        if fresh && !voters.is_empty() {
            // A brand-new cluster writes its initial members into the log as
            // committed conf changes (identical on every founding machine),
            // so that machines joining later learn them from the log.
            entries = voters
                .iter()
                .enumerate()
                .map(|(k, v)| Entry {
                    term: 1,
                    index: k as u64 + 1,
                    kind: EntryKind::ConfChange,
                    data: ConfChange::AddNode(*v).encode(),
                })
                .collect();
            hs = HardState {
                term: 1,
                vote: 0,
                commit: entries.len() as u64,
            };
        }
        let mut log = RaftLog::restore(boot.snapshot.as_ref(), entries, hs.commit);
        if fresh {
            // Synthesized entries are not on disk yet.
            log.mark_all_unpersisted();
        }
        let mut r = Raft {
            id: cfg.id,
            term: hs.term,
            vote: hs.vote,
            role: Role::Follower,
            lead: 0,
            log,
            voters,
            progress: BTreeMap::new(),
            votes: BTreeMap::new(),
            election_elapsed: 0,
            heartbeat_elapsed: 0,
            randomized_timeout: cfg.election_tick,
            rng: SplitMix64::new(cfg.seed ^ cfg.id.rotate_left(32)),
            pending_conf_index: 0,
            reads: ReadQueue::default(),
            // Its own generator: drawing from `rng` would shift every election timeout.
            forwarded: ForwardedReads::starting_at(
                SplitMix64::new(cfg.seed.rotate_left(17) ^ cfg.id).next_u64() >> 1,
            ),
            dropped_reads: Vec::new(),
            msgs: Vec::new(),
            persisted_msgs: Vec::new(),
            read_states: Vec::new(),
            prev_hard_state: if fresh {
                HardState::default()
            } else {
                boot.hard_state
            },
            prev_soft: (0, Role::Follower),
            cfg,
        };
        r.randomize_timeout();
        r
    }

    pub(super) fn randomize_timeout(&mut self) {
        let e = self.cfg.election_tick as u64;
        self.randomized_timeout = self.rng.in_range(e, 2 * e) as usize;
    }

    pub(super) fn promotable(&self) -> bool {
        self.voters.contains(&self.id)
    }

    pub(super) fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote,
            commit: self.log.committed,
        }
    }

    pub(super) fn send(&mut self, to: NodeId, term: Term, body: MessageBody) {
        self.msgs.push(Message {
            from: self.id,
            to,
            term,
            body,
        });
    }

    pub(super) fn send_after_persist(&mut self, to: NodeId, term: Term, body: MessageBody) {
        self.persisted_msgs.push(Message {
            from: self.id,
            to,
            term,
            body,
        });
    }

    /// One unit of logical time.
    pub fn tick(&mut self) {
        if self.role == Role::Leader {
            self.tick_leader();
        } else {
            self.election_elapsed += 1;
            if self.role == Role::Follower {
                self.tick_forwarded_reads();
            }
            if self.promotable() && self.election_elapsed >= self.randomized_timeout {
                self.start_election();
            }
        }
    }

    fn tick_leader(&mut self) {
        self.heartbeat_elapsed += 1;
        self.election_elapsed += 1;
        if self.election_elapsed >= self.cfg.election_tick {
            self.election_elapsed = 0;
            if self.cfg.check_quorum && !self.quorum_recently_active() {
                let term = self.term;
                self.become_follower(term, 0);
                return;
            }
        }
        if self.heartbeat_elapsed >= self.cfg.heartbeat_tick {
            self.heartbeat_elapsed = 0;
            self.broadcast_heartbeat();
        }
    }

    /// CheckQuorum: did a quorum talk to us since the last round? Starts a new round.
    fn quorum_recently_active(&mut self) -> bool {
        let me = self.id;
        let active = self
            .voters
            .iter()
            .filter(|v| **v == me || self.progress.get(v).is_some_and(|p| p.recent_active))
            .count();
        for p in self.progress.values_mut() {
            p.recent_active = false;
        }
        active >= super::quorum::majority(self.voters.len())
    }

    pub fn has_ready(&self) -> bool {
        self.log.pending_snapshot.is_some()
            || self.log.has_unsent()
            || self.hard_state() != self.prev_hard_state
            || !self.msgs.is_empty()
            || !self.persisted_msgs.is_empty()
            || self.log.has_committed_to_apply()
            || !self.read_states.is_empty()
            || !self.dropped_reads.is_empty()
            || (self.lead, self.role) != self.prev_soft
    }

    /// Takes everything pending; see [`Ready`] for what to do with it.
    pub fn ready(&mut self) -> Ready {
        let mut rd = Ready::default();
        if let Some(s) = self.log.pending_snapshot.take() {
            self.log.applied = self.log.applied.max(s.meta.index);
            rd.snapshot = Some(s);
        }
        rd.entries = self.log.take_unsent();
        let hs = self.hard_state();
        if hs != self.prev_hard_state {
            rd.hard_state = Some(hs);
            self.prev_hard_state = hs;
        }
        rd.messages = std::mem::take(&mut self.msgs);
        rd.persisted_messages = std::mem::take(&mut self.persisted_msgs);
        rd.committed = self.log.take_committed();
        rd.read_states = std::mem::take(&mut self.read_states);
        rd.dropped_reads = std::mem::take(&mut self.dropped_reads);
        let soft = (self.lead, self.role);
        rd.leader_changed = soft != self.prev_soft;
        self.prev_soft = soft;
        rd
    }

    /// The WAL made everything handed out so far, up to (`index`, `term`), durable.
    pub fn on_persisted(&mut self, index: Index, term: Term) {
        self.log.on_persisted(index, term);
        if self.role == Role::Leader && self.maybe_commit() {
            self.broadcast_append(true);
        }
    }

    /// The application snapshotted its state at `snapshot.meta.index` (an
    /// index it applied): drop the entries it covers and keep the snapshot
    /// for followers that fall behind. After a restart, hand the loaded
    /// snapshot in here too, so it can be sent.
    pub fn compact(&mut self, snapshot: Snapshot) {
        self.log.compact(snapshot);
    }

    /// The transport could not reach `id`: stop streaming to it blindly.
    pub fn report_unreachable(&mut self, id: NodeId) {
        if let Some(p) = self.progress.get_mut(&id)
            && p.state == ProgressState::Replicate
        {
            p.become_probe();
        }
    }

    /// Whether the snapshot sent to `id` arrived. Until this is called (or
    /// the follower acknowledges it), nothing else is sent to `id`.
    pub fn report_snapshot(&mut self, id: NodeId, ok: bool) {
        if let Some(p) = self.progress.get_mut(&id)
            && let ProgressState::Snapshot { .. } = p.state
        {
            if ok {
                // Wait for the follower's answer (or a heartbeat) before probing after it.
                p.become_probe();
                p.sent(0, false);
            } else {
                p.snapshot_failed();
            }
        }
    }

    pub fn status(&self) -> Status {
        Status {
            id: self.id,
            term: self.term,
            role: self.role,
            leader: (self.lead != 0).then_some(self.lead),
            commit: self.log.committed,
            applied: self.log.applied,
            voters: self.voters.iter().copied().collect(),
            progress: self
                .progress
                .iter()
                .map(|(id, p)| (*id, p.status()))
                .collect(),
        }
    }

    /// Called by the application when it applies a ConfChange entry; the
    /// change takes effect now. Returns the resulting configuration.
    pub fn apply_conf_change(&mut self, cc: ConfChange) -> ConfState {
        match cc {
            ConfChange::AddNode(id) if id != 0 => {
                self.voters.insert(id);
                if self.role == Role::Leader && id != self.id && !self.progress.contains_key(&id) {
                    let p = Progress::new(self.log.last_index() + 1, self.cfg.max_inflight);
                    self.progress.insert(id, p);
                    self.send_append(id, true);
                }
            }
            ConfChange::AddNode(_) => {}
            ConfChange::RemoveNode(id) => {
                self.voters.remove(&id);
                self.progress.remove(&id);
                self.votes.remove(&id);
            }
        }
        if self.role == Role::Leader {
            if !self.promotable() {
                // Our own removal is applied: leave; the others elect a leader.
                let term = self.term;
                self.become_follower(term, 0);
            } else {
                // A smaller quorum may already have reached further.
                if self.maybe_commit() {
                    self.broadcast_append(true);
                }
                self.release_confirmed_reads();
            }
        }
        ConfState {
            voters: self.voters.iter().copied().collect(),
        }
    }

    #[cfg(test)]
    pub(crate) fn log_entries(&self) -> &[Entry] {
        self.log.all_entries()
    }

    #[cfg(test)]
    pub(crate) fn snapshot_index(&self) -> Index {
        self.log.snapshot_index()
    }
}
