//! A simulated cluster: every machine is a `Raft` plus a fake disk (what
//! survives a crash), a queue of writes not yet fsynced, and a tiny state
//! machine (a hash chain over applied entries). The network is a bag of
//! messages that can be delivered in any order, dropped, duplicated or
//! cut by partitions. A `Checker` watches the Raft safety properties.

use std::collections::{BTreeMap, VecDeque};

use super::super::rng::SplitMix64;
use super::super::*;
use super::checks::Checker;

#[derive(Debug, Clone, Default)]
pub struct Disk {
    pub hs: HardState,
    pub snapshot: Option<Snapshot>,
    pub entries: Vec<Entry>,
}

impl Disk {
    pub fn last_index(&self) -> Index {
        self.entries
            .last()
            .map(|e| e.index)
            .unwrap_or_else(|| self.snapshot.as_ref().map(|s| s.meta.index).unwrap_or(0))
    }

    /// Does the disk durably hold entry (`index`, `term`), directly or in its snapshot?
    pub fn holds(&self, index: Index, term: Term) -> bool {
        if self
            .snapshot
            .as_ref()
            .is_some_and(|s| s.meta.index >= index)
        {
            return true;
        }
        self.entries
            .iter()
            .any(|e| e.index == index && e.term == term)
    }
}

/// One Ready's worth of persistence, waiting for its fsync.
#[derive(Debug, Clone)]
pub struct PendingWrite {
    pub hs: Option<HardState>,
    pub snapshot: Option<Snapshot>,
    pub entries: Vec<Entry>,
    pub msgs: Vec<Message>,
}

/// The application's state: how far it applied and a hash of everything applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct App {
    pub applied: Index,
    pub hash: u64,
}

pub fn chain(hash: u64, e: &Entry) -> u64 {
    let mut h = hash ^ 0xcbf2_9ce4_8422_2325;
    for b in e
        .index
        .to_le_bytes()
        .iter()
        .chain(e.term.to_le_bytes().iter())
        .chain(e.data.iter())
    {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

pub struct SimNode {
    pub id: NodeId,
    pub raft: Option<Raft>,
    pub disk: Disk,
    pub pending: VecDeque<PendingWrite>,
    pub app: App,
    pub read_states: Vec<ReadState>,
    /// Confirmed reads waiting for the state machine to reach their index.
    pub reads_to_serve: Vec<ReadState>,
    /// Reads Raft gave up on (`Ready::dropped_reads`).
    pub dropped_reads: Vec<u64>,
    pub restarts: u64,
    /// The configuration this machine was first started with.
    pub boot_conf: Vec<NodeId>,
}

impl SimNode {
    pub fn voters(&self) -> Vec<NodeId> {
        self.raft
            .as_ref()
            .map(|r| r.status().voters)
            .unwrap_or_default()
    }
}

pub struct Cluster {
    pub seed: u64,
    pub cfg: Config,
    pub nodes: BTreeMap<NodeId, SimNode>,
    pub net: Vec<Message>,
    /// Partition group per node; messages cross only within a group.
    pub group: BTreeMap<NodeId, u8>,
    pub rng: SplitMix64,
    pub drop_permille: u64,
    pub dup_permille: u64,
    pub checker: Checker,
    /// How a ConfChange entry's data names its change (applications may
    /// carry their own commands there).
    pub conf_decoder: fn(&[u8]) -> Option<ConfChange>,
    /// When set, every delivered message's (from, to) is appended here.
    pub deliveries: Option<Vec<(NodeId, NodeId)>>,
}

pub fn test_config(id: NodeId) -> Config {
    Config {
        id,
        election_tick: 10,
        heartbeat_tick: 2,
        check_quorum: true,
        pre_vote: true,
        max_inflight: 4,
        max_batch_bytes: 64,
        seed: id,
    }
}

impl Cluster {
    /// A new cluster of `ids`, all founding members.
    pub fn new(seed: u64, ids: &[NodeId]) -> Cluster {
        Cluster::with_config(seed, ids, test_config(0))
    }

    pub fn with_config(seed: u64, ids: &[NodeId], cfg: Config) -> Cluster {
        let mut c = Cluster {
            seed,
            cfg,
            nodes: BTreeMap::new(),
            net: Vec::new(),
            group: BTreeMap::new(),
            rng: SplitMix64::new(seed),
            drop_permille: 0,
            dup_permille: 0,
            checker: Checker::default(),
            conf_decoder: ConfChange::decode,
            deliveries: None,
        };
        for id in ids {
            c.add_machine(*id, ids);
        }
        c.settle();
        c
    }

    /// Start a machine with an empty disk and `conf` as its bootstrap configuration.
    pub fn add_machine(&mut self, id: NodeId, conf: &[NodeId]) {
        let node = SimNode {
            id,
            raft: None,
            disk: Disk::default(),
            pending: VecDeque::new(),
            app: App::default(),
            read_states: Vec::new(),
            reads_to_serve: Vec::new(),
            dropped_reads: Vec::new(),
            restarts: 0,
            boot_conf: conf.to_vec(),
        };
        self.nodes.insert(id, node);
        self.group.insert(id, 0);
        self.boot(id, conf.to_vec());
    }

    fn boot(&mut self, id: NodeId, conf: Vec<NodeId>) {
        let base = self.cfg.clone();
        let Some(n) = self.nodes.get_mut(&id) else {
            return;
        };
        let cfg = Config {
            id,
            seed: self
                .seed
                .wrapping_mul(31)
                .wrapping_add(id * 1000 + n.restarts),
            ..base
        };
        let boot = Bootstrap {
            hard_state: n.disk.hs,
            snapshot: n.disk.snapshot.as_ref().map(|s| s.meta.clone()),
            entries: n.disk.entries.clone(),
            conf: ConfState { voters: conf },
        };
        let mut raft = Raft::new(cfg, boot);
        n.app = App::default();
        if let Some(s) = &n.disk.snapshot {
            raft.compact(s.clone());
            n.app = App {
                applied: s.meta.index,
                hash: decode_hash(&s.data),
            };
        }
        n.raft = Some(raft);
    }

    pub fn crash(&mut self, id: NodeId) {
        if let Some(n) = self.nodes.get_mut(&id) {
            n.raft = None;
            n.pending.clear();
            n.read_states.clear();
            n.reads_to_serve.clear();
        }
    }

    pub fn restart(&mut self, id: NodeId) {
        let Some(n) = self.nodes.get_mut(&id) else {
            return;
        };
        if n.raft.is_some() {
            return;
        }
        n.restarts += 1;
        let conf = n.boot_conf.clone();
        self.boot(id, conf);
        self.settle();
    }

    pub fn raft(&mut self, id: NodeId) -> &mut Raft {
        match self.nodes.get_mut(&id).and_then(|n| n.raft.as_mut()) {
            Some(r) => r,
            None => panic!("node {id} is down"),
        }
    }

    pub fn is_up(&self, id: NodeId) -> bool {
        self.nodes.get(&id).is_some_and(|n| n.raft.is_some())
    }

    pub fn up_ids(&self) -> Vec<NodeId> {
        self.nodes
            .values()
            .filter(|n| n.raft.is_some())
            .map(|n| n.id)
            .collect()
    }

    pub fn leaders(&self) -> Vec<NodeId> {
        self.nodes
            .values()
            .filter(|n| {
                n.raft
                    .as_ref()
                    .is_some_and(|r| r.status().role == Role::Leader)
            })
            .map(|n| n.id)
            .collect()
    }

    /// Drain every machine's Ready, applying committed entries; then run the checks.
    pub fn settle(&mut self) {
        loop {
            let mut any = false;
            let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
            for id in ids {
                if self.nodes[&id].raft.as_ref().is_some_and(|r| r.has_ready()) {
                    self.handle_ready(id);
                    any = true;
                }
            }
            if !any {
                break;
            }
        }
        self.checker.check_leaders(self.seed, &self.nodes);
    }

    /// The highest term any machine has reached, in memory or on disk.
    pub fn max_term(&self) -> Term {
        self.nodes
            .values()
            .map(|n| {
                n.disk
                    .hs
                    .term
                    .max(n.raft.as_ref().map(|r| r.term).unwrap_or(0))
            })
            .max()
            .unwrap_or(0)
    }

    /// The highest index known committed anywhere right now.
    pub fn max_commit(&self) -> Index {
        let live = self
            .nodes
            .values()
            .filter_map(|n| n.raft.as_ref())
            .map(|r| r.log.committed)
            .max()
            .unwrap_or(0);
        live.max(self.checker.max_committed())
    }

    fn handle_ready(&mut self, id: NodeId) {
        let max_term = self.max_term();
        let decode = self.conf_decoder;
        let Some(n) = self.nodes.get_mut(&id) else {
            return;
        };
        let Some(raft) = n.raft.as_mut() else { return };
        let rd = raft.ready();
        for e in &rd.entries {
            let prev_term = raft.log.term(e.index - 1);
            self.checker.saw_entry(self.seed, id, e, prev_term);
        }
        self.net.extend(rd.messages);
        if let Some(s) = &rd.snapshot {
            n.app = App {
                applied: s.meta.index,
                hash: decode_hash(&s.data),
            };
            self.checker.snapshots_installed += 1;
            self.checker.saw_state(self.seed, id, n.app);
        }
        for e in &rd.committed {
            if e.index != n.app.applied + 1 {
                self.checker.fail(
                    self.seed,
                    format!("node {id} applies {} after {}", e.index, n.app.applied),
                );
            }
            if !n.disk.holds(e.index, e.term) {
                self.checker.fail(
                    self.seed,
                    format!("node {id} applies {} before it is durable", e.index),
                );
            }
            n.app = App {
                applied: e.index,
                hash: chain(n.app.hash, e),
            };
            self.checker.saw_state(self.seed, id, n.app);
            self.checker.saw_commit(self.seed, e, max_term);
            if e.kind == EntryKind::ConfChange
                && let Some(cc) = decode(&e.data)
            {
                if e.term > 1 {
                    self.checker.conf_changes_applied += 1;
                }
                raft.apply_conf_change(cc);
            }
        }
        for rs in &rd.read_states {
            self.checker.saw_read(self.seed, id, *rs);
            if raft.role != Role::Leader {
                self.checker.follower_reads_answered += 1;
            }
        }
        for ctx in &rd.dropped_reads {
            self.checker.saw_dropped_read(self.seed, id, *ctx);
        }
        n.dropped_reads.extend(rd.dropped_reads);
        n.reads_to_serve.extend(rd.read_states.iter().copied());
        n.read_states.extend(rd.read_states);
        // Serve what the state machine has reached, as the server does.
        let applied = n.app.applied;
        let (due, later): (Vec<ReadState>, Vec<ReadState>) = std::mem::take(&mut n.reads_to_serve)
            .into_iter()
            .partition(|rs| rs.index <= applied);
        n.reads_to_serve = later;
        for rs in due {
            self.checker.saw_read_served(self.seed, id, rs.ctx, applied);
        }
        if rd.hard_state.is_some()
            || rd.snapshot.is_some()
            || !rd.entries.is_empty()
            || !rd.persisted_messages.is_empty()
        {
            n.pending.push_back(PendingWrite {
                hs: rd.hard_state,
                snapshot: rd.snapshot,
                entries: rd.entries,
                msgs: rd.persisted_messages,
            });
        }
    }

    /// The oldest unsynced write of `id` reaches the disk.
    pub fn flush_one(&mut self, id: NodeId) -> bool {
        let Some(n) = self.nodes.get_mut(&id) else {
            return false;
        };
        let Some(w) = n.pending.pop_front() else {
            return false;
        };
        if let Some(s) = &w.snapshot {
            n.disk.snapshot = Some(s.clone());
            n.disk.entries.clear();
        }
        if let Some(first) = w.entries.first() {
            n.disk.entries.retain(|e| e.index < first.index);
            if first.index != n.disk.last_index() + 1 {
                let last = n.disk.last_index();
                self.checker.fail(
                    self.seed,
                    format!("node {id} WAL gap: {} after {last}", first.index),
                );
            }
            n.disk.entries.extend(w.entries.iter().cloned());
        }
        if let Some(hs) = w.hs {
            n.disk.hs = hs;
        }
        self.net.extend(w.msgs);
        let last = w
            .entries
            .last()
            .map(|e| (e.index, e.term))
            .or(w.snapshot.as_ref().map(|s| (s.meta.index, s.meta.term)));
        if let (Some((i, t)), Some(r)) = (last, n.raft.as_mut()) {
            r.on_persisted(i, t);
        }
        true
    }

    pub fn flush_all(&mut self) {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for id in ids {
            while self.flush_one(id) {}
        }
        self.settle();
    }

    fn connected(&self, a: NodeId, b: NodeId) -> bool {
        self.group.get(&a) == self.group.get(&b) && self.is_up(a) && self.is_up(b)
    }

    /// Deliver (or lose) the message at position `k` of the network.
    pub fn deliver_at(&mut self, k: usize, allow_faults: bool) {
        if k >= self.net.len() {
            return;
        }
        let m = self.net.swap_remove(k);
        let lost = !self.connected(m.from, m.to)
            || (allow_faults && self.rng.in_range(0, 1000) < self.drop_permille);
        if allow_faults && !lost && self.rng.in_range(0, 1000) < self.dup_permille {
            self.net.push(m.clone());
        }
        // The transport reports snapshot outcomes only sometimes, so that
        // Raft's own fallback (giving up after silent heartbeats) runs too.
        if let MessageBody::Snapshot { .. } = m.body
            && self.is_up(m.from)
            && (!allow_faults || self.rng.in_range(0, 2) == 0)
        {
            self.raft(m.from).report_snapshot(m.to, !lost);
        }
        if !lost {
            if let Some(log) = self.deliveries.as_mut() {
                log.push((m.from, m.to));
            }
            self.raft(m.to).step(m);
        }
        self.settle();
    }

    /// Deliver everything in flight in order, reliably, until the network is quiet.
    pub fn deliver_all(&mut self) {
        let mut rounds = 0;
        while !self.net.is_empty() && rounds < 100_000 {
            rounds += 1;
            self.deliver_at(0, false);
        }
    }

    /// Like `deliver_all`, but messages matching `hold` stay in the network.
    pub fn deliver_all_but(&mut self, hold: impl Fn(&Message) -> bool) {
        for _ in 0..100_000 {
            let Some(k) = self.net.iter().position(|m| !hold(m)) else {
                return;
            };
            self.deliver_at(k, false);
            self.flush_all();
        }
    }

    /// Deliver and persist until nothing moves.
    pub fn stabilize(&mut self) {
        for _ in 0..200 {
            self.flush_all();
            if self.net.is_empty() {
                break;
            }
            // One wave at a time, so that endless ping-pong cannot hang a test.
            for m in std::mem::take(&mut self.net) {
                if self.connected(m.from, m.to) {
                    if let MessageBody::Snapshot { .. } = m.body {
                        self.raft(m.from).report_snapshot(m.to, true);
                    }
                    if let Some(log) = self.deliveries.as_mut() {
                        log.push((m.from, m.to));
                    }
                    self.raft(m.to).step(m);
                }
                self.settle();
            }
        }
    }

    pub fn tick(&mut self, id: NodeId) {
        if self.is_up(id) {
            self.raft(id).tick();
            self.settle();
        }
    }

    pub fn tick_all(&mut self) {
        for id in self.up_ids() {
            self.raft(id).tick();
        }
        self.settle();
    }

    /// Cut `ids` off from everyone else.
    pub fn isolate(&mut self, ids: &[NodeId]) {
        for (id, g) in self.group.iter_mut() {
            *g = if ids.contains(id) { 1 } else { 0 };
        }
    }

    pub fn heal(&mut self) {
        for g in self.group.values_mut() {
            *g = 0;
        }
    }

    /// Take a snapshot at what `id` applied and compact its log and disk.
    pub fn compact(&mut self, id: NodeId) {
        let Some(n) = self.nodes.get_mut(&id) else {
            return;
        };
        let Some(raft) = n.raft.as_mut() else { return };
        if !n.pending.is_empty() || n.app.applied <= raft.snapshot_index() {
            return;
        }
        let Some(term) = raft.log.term(n.app.applied) else {
            return;
        };
        let voters = raft.status().voters;
        let snap = Snapshot {
            meta: SnapshotMeta {
                index: n.app.applied,
                term,
                conf: ConfState { voters },
            },
            data: n.app.hash.to_le_bytes().to_vec(),
        };
        raft.compact(snap.clone());
        n.disk.entries.retain(|e| e.index > snap.meta.index);
        n.disk.snapshot = Some(snap);
    }

    /// Elect `id` by letting it time out while everyone else keeps quiet.
    pub fn elect(&mut self, id: NodeId) {
        self.raft(id).campaign();
        self.settle();
        self.stabilize();
    }

    /// Propose through `leader` and let everything settle.
    pub fn propose(&mut self, leader: NodeId, data: &[u8]) -> Index {
        let idx = match self.raft(leader).propose(data.to_vec()) {
            Ok(i) => i,
            Err(e) => panic!("propose on {leader}: {e}"),
        };
        self.settle();
        self.stabilize();
        idx
    }
}

pub fn decode_hash(data: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    if data.len() == 8 {
        b.copy_from_slice(data);
    }
    u64::from_le_bytes(b)
}
