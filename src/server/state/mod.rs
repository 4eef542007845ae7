//! The state thread: the one owner of Raft and the key tree.
//!
//! It loops over its inputs (client requests, peer messages, ticks, WAL
//! reports), steps Raft, hands what must become durable to the WAL thread and
//! what must travel to the peer senders, applies committed entries to the
//! store and answers the clients waiting for them. It never blocks on IO:
//! every channel it sends on is unbounded or owned by a thread that drains it.

mod apply;
mod auth;
mod burst;
mod commit_hold;
mod membership;
mod proposing;
mod reads;
mod snapshots;
mod watches;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, select};
use log::{info, warn};

use crate::auth::{AuthState, SharedAuth};
use crate::membership::{ClusterConfig, Member, Members};
use crate::raft::types::{Index, NodeId, Snapshot, Term};
use crate::raft::{Raft, Role};
use crate::store::{Store, WatcherId};

use super::clock::now_nanos;
use super::mode::ModeCell;
use super::oneshot::ReplySender;
use super::outbox::Outbox;
use super::requests::{
    AuthReply, ClientRequest, ClusterView, ConfigReply, JoinReply, PeerRequest, Reply,
};
use super::snapshotter::SnapshotJob;
use super::stats::SelfStats;
use super::wal_thread::{Persisted, WalJob};
use commit_hold::CommitHold;
use membership::{Change, QueuedChange};
use reads::{PendingRead, ReadWaiters};
use watches::Watcher;

/// How the state thread was set up.
pub struct StateConfig {
    pub me: Member,
    /// Entries between two snapshots; 0 disables snapshots.
    pub snapshot_count: u64,
    /// How many ticks a write or a linearizable read may wait for its commit
    /// before the client gets 300 "Raft Internal Error".
    pub request_timeout_ticks: u64,
    /// This machine starts a brand-new cluster and must register itself once
    /// it leads.
    pub register_self: bool,
    /// The settings a founder seeds its new cluster with (from its flags).
    pub seed_config: Option<ClusterConfig>,
    /// Member or standby; shared with the HTTP handlers and the standby loop.
    pub mode: ModeCell,
    /// Machines to reach before the log says so (the cluster just joined).
    pub routes: Vec<Member>,
    /// The election timeout in ticks.
    pub election_ticks: u64,
    /// How long a tick is.
    pub tick_interval: std::time::Duration,
    /// Where the auth state is published for the HTTP threads (already
    /// holding it as of the commit index when the state thread starts).
    pub auth_view: SharedAuth,
}

/// The channels the state thread listens on.
pub struct Inputs {
    pub client: Receiver<ClientRequest>,
    pub peer: Receiver<PeerRequest>,
    pub tick: Receiver<std::time::Instant>,
    pub persisted: Receiver<Persisted>,
    pub snapshots: Receiver<Snapshot>,
}

enum Waiter {
    Client(ReplySender<Reply>),
    Join(Sender<JoinReply>),
    Config(Sender<ConfigReply>),
    Auth(Sender<AuthReply>),
    /// A proposal of the machine's own (a removal, the founder's seed).
    Nobody,
}

struct PendingWrite {
    term: Term,
    waiter: Waiter,
    deadline: u64,
}

pub struct StateThread {
    cfg: StateConfig,
    raft: Raft,
    store: Store,
    members: Members,
    outbox: Box<dyn Outbox>,
    wal: Sender<WalJob>,
    applied: Index,
    applied_term: Term,
    snapshot_index: Index,
    ticks: u64,
    writes: BTreeMap<Index, PendingWrite>,
    reads: ReadWaiters,
    watchers: HashMap<WatcherId, Watcher>,
    expiry_in_flight: Option<Index>,
    stats: SelfStats,
    last_leader: Option<NodeId>,
    /// The store index, published for the HTTP threads' error bodies.
    store_index: Arc<AtomicU64>,
    snapshots: Sender<SnapshotJob>,
    snapshot_in_flight: bool,
    cluster_config: ClusterConfig,
    /// Users, roles and the auth flag, as applied so far.
    auth: AuthState,
    /// Membership changes waiting for the one Raft has in flight.
    queued: VecDeque<QueuedChange>,
    /// Set while this machine leads: when it started to.
    leading_since: Option<Instant>,
    /// Set while this machine knows no leader: since when.
    leaderless_since: Option<Instant>,
    /// Addresses of machines not (yet) in the member table.
    routes: Members,
    /// Entries up to here were applied before the restart: re-applying
    /// them is not news worth an info line.
    replay_end: Index,
    /// A commit-only hard state not yet handed to the WAL thread.
    commit_hold: CommitHold,
}

impl StateThread {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: StateConfig,
        raft: Raft,
        store: Store,
        (members, cluster_config, auth): (Members, ClusterConfig, AuthState),
        applied: (Index, Term),
        store_index: Arc<AtomicU64>,
        outbox: Box<dyn Outbox>,
        wal: Sender<WalJob>,
        snapshots: Sender<SnapshotJob>,
    ) -> StateThread {
        let stats = SelfStats {
            name: cfg.me.name.clone(),
            start_time: now_nanos(),
            ..SelfStats::default()
        };
        let mut routes = Members::default();
        for m in &cfg.routes {
            routes.upsert(m.clone());
        }
        let mut st = StateThread {
            cfg,
            raft,
            store,
            members,
            outbox,
            wal,
            applied: applied.0,
            applied_term: applied.1,
            snapshot_index: applied.0,
            ticks: 0,
            writes: BTreeMap::new(),
            reads: ReadWaiters::default(),
            watchers: HashMap::new(),
            expiry_in_flight: None,
            stats,
            last_leader: None,
            store_index,
            snapshots,
            snapshot_in_flight: false,
            cluster_config,
            auth,
            queued: VecDeque::new(),
            leading_since: None,
            leaderless_since: Some(Instant::now()),
            routes,
            replay_end: 0,
            commit_hold: CommitHold::default(),
        };
        st.replay_end = st.raft.status().commit;
        st.refresh_routes();
        st
    }

    /// Runs until every input channel is closed.
    pub fn run(mut self, inputs: Inputs) {
        self.process_ready();
        loop {
            select! {
                recv(inputs.persisted) -> p => match p {
                    Ok(p) => self.on_persisted(p),
                    Err(_) => return,
                },
                recv(inputs.peer) -> r => match r {
                    Ok(r) => self.on_peer_burst(r, &inputs.peer),
                    Err(_) => return,
                },
                recv(inputs.client) -> r => match r {
                    Ok(r) => self.on_client_burst(r, &inputs.client),
                    Err(_) => return,
                },
                recv(inputs.tick) -> _ => self.on_tick(),
                recv(inputs.snapshots) -> s => match s {
                    Ok(s) => self.on_snapshot_written(s),
                    Err(_) => return,
                },
            }
            self.process_ready();
        }
    }

    // ---- inputs -------------------------------------------------------

    fn on_persisted(&mut self, p: Persisted) {
        // The messages it released are sent already (wal_thread).
        self.raft.on_persisted(p.index, p.term);
    }

    fn on_tick(&mut self) {
        self.ticks += 1;
        // A standby ticks too: its Raft may be a voter the log has not yet
        // caught up with (re-added, or wrongly taken for removed), and only
        // a ticking machine ever leaves a dead leader's lease to vote.
        // Stale beliefs are harmless: PreVote needs an up-to-date log.
        self.raft.tick();
        if let Some(hs) = self.commit_hold.release() {
            self.send_to_wal(WalJob::Persist {
                snapshot: None,
                entries: Vec::new(),
                hard_state: Some(hs),
                then_send: Vec::new(),
            });
        }
        self.propose_due_expiry();
        self.run_removal_policy();
        self.fail_overdue_requests();
    }

    fn on_client(&mut self, req: ClientRequest) {
        match req {
            ClientRequest::Write { cmd, reply } => self.propose_write(cmd, reply),
            ClientRequest::Read {
                key,
                recursive,
                sorted,
                linearizable,
                reply,
            } => {
                let read = PendingRead {
                    key,
                    recursive,
                    sorted,
                    reply,
                    deadline: self.ticks + self.cfg.request_timeout_ticks,
                };
                if linearizable {
                    self.start_linearizable_read(read);
                } else if let Some(index) = self.raft.unsettled_leader_log() {
                    // Just elected (or restarted alone): answer once what the
                    // log held is applied, so no acknowledged write is missed.
                    self.reads.wait_for_apply(index, read);
                } else {
                    self.answer_read(read);
                }
            }
            ClientRequest::Watch {
                key,
                recursive,
                stream,
                since,
                events,
            } => self.start_watch(key, recursive, stream, since, events),
            ClientRequest::CancelWatch(id) => {
                self.store.cancel_watch(id);
                self.watchers.remove(&id);
            }
            ClientRequest::Cluster { reply } => {
                let _ = reply.send(self.cluster_view());
            }
            ClientRequest::StoreStats { reply } => {
                let _ = reply.send(self.store.stats());
            }
            ClientRequest::Auth { cmd, reply } => self.propose_auth(cmd, reply),
        }
    }

    fn on_peer(&mut self, req: PeerRequest) {
        match req {
            PeerRequest::Raft(msgs) => {
                let now = now_nanos();
                for m in msgs {
                    if let Some(bytes) = super::stats::append_request_bytes(&m.body) {
                        self.stats.recv_append_cnt += 1;
                        self.stats.recv.record(now, bytes);
                    }
                    self.raft.step(m);
                }
            }
            PeerRequest::Join { member, reply } => {
                self.request_change(Change::Join(member), Some(reply))
            }
            PeerRequest::Remove { name, reply } => {
                self.request_change(Change::Remove(name), Some(reply))
            }
            PeerRequest::SetConfig { patch, reply } => self.set_config(patch, reply),
            PeerRequest::Cluster { reply } => {
                let _ = reply.send(self.cluster_view());
            }
            PeerRequest::Backup { reply } => self.copy_for_backup(reply),
            PeerRequest::News(news) => self.on_news(news),
            PeerRequest::QuorumRead { reply } => {
                let read = PendingRead {
                    key: crate::store::KeyPath::parse("/"),
                    recursive: false,
                    sorted: false,
                    reply,
                    deadline: self.ticks + self.cfg.request_timeout_ticks,
                };
                self.start_linearizable_read(read);
            }
        }
    }

    // ---- the Ready loop ----------------------------------------------

    fn send_messages(&mut self, msgs: Vec<crate::raft::Message>) {
        if msgs.is_empty() {
            return;
        }
        let now = now_nanos();
        for m in &msgs {
            if let Some(bytes) = super::stats::append_request_bytes(&m.body) {
                self.stats.send_append_cnt += 1;
                self.stats.send.record(now, bytes);
            }
        }
        self.outbox.send(msgs);
    }

    fn process_ready(&mut self) {
        while self.raft.has_ready() {
            let rd = self.raft.ready();
            self.send_messages(rd.messages);
            if let Some(snap) = &rd.snapshot {
                self.install_snapshot(snap);
            }
            let other_work = rd.snapshot.is_some()
                || !rd.entries.is_empty()
                || !rd.persisted_messages.is_empty();
            let hard_state = self.commit_hold.carry(rd.hard_state, other_work);
            if other_work || hard_state.is_some() {
                // Even messages with nothing new to persist go through the
                // WAL thread, so they leave after every earlier write is durable.
                self.send_to_wal(WalJob::Persist {
                    snapshot: rd.snapshot,
                    entries: rd.entries,
                    hard_state,
                    then_send: rd.persisted_messages,
                });
            }
            let metrics = crate::metrics::global();
            metrics.proposals_committed.add(rd.committed.len() as u64);
            for entry in rd.committed {
                self.apply(entry);
                metrics.proposals_applied.inc();
            }
            self.deliver_watch_events();
            for rs in rd.read_states {
                self.on_read_state(rs);
            }
            for ctx in rd.dropped_reads {
                self.on_read_dropped(ctx);
            }
            self.answer_reads_now_applied();
            if rd.leader_changed {
                self.on_leader_change();
            }
            self.start_queued_changes();
            self.maybe_snapshot();
        }
        self.store_index
            .store(self.store.index(), Ordering::Release);
        crate::metrics::global()
            .proposals_pending
            .set(self.writes.len() as i64);
    }

    fn send_to_wal(&self, job: WalJob) {
        if self.wal.send(job).is_err() {
            warn!("the WAL thread is gone; stopping");
            std::process::exit(1);
        }
    }

    fn on_leader_change(&mut self) {
        let status = self.raft.status();
        // `state` and the leader's name are derived when stats are read;
        // only the moment the leader changed must be remembered.
        let metrics = crate::metrics::global();
        metrics.has_leader.set(i64::from(status.leader.is_some()));
        metrics
            .is_leader
            .set(i64::from(status.role == Role::Leader));
        if status.leader != self.last_leader {
            if status.leader.is_some() {
                metrics.leader_changes_seen.inc();
            }
            self.last_leader = status.leader;
            self.stats.leader_since = now_nanos();
            self.leaderless_since = match status.leader {
                Some(_) => None,
                None => Some(Instant::now()),
            };
            match self.leader_member() {
                Some(m) => info!(
                    "{}: leader is now {} (term {})",
                    self.cfg.me.name, m.name, status.term
                ),
                None if status.leader.is_some() => {
                    info!(
                        "{}: leader elected in term {}",
                        self.cfg.me.name, status.term
                    )
                }
                None => info!("{}: no leader (term {})", self.cfg.me.name, status.term),
            }
        }
        if status.role == Role::Leader {
            if self.leading_since.is_none() {
                self.leading_since = Some(Instant::now());
            }
            self.found_cluster_if_needed();
        } else {
            self.leading_since = None;
            self.expire_queued_changes(true);
        }
    }

    // ---- status ---------------------------------------------------------

    fn cluster_view(&self) -> ClusterView {
        let status = self.raft.status();
        let leader = self.leader_member().cloned();
        let members = self.members.leader_first(status.leader);
        let leader_stats = if status.role == Role::Leader {
            Some(self.outbox.leader_stats(&self.cfg.me.name))
        } else {
            None
        };
        let mut self_stats = self.stats.clone();
        self_stats.leader_name = leader.as_ref().map(|m| m.name.clone()).unwrap_or_default();
        self_stats.state = match status.role {
            Role::Leader => "leader".into(),
            Role::Follower if status.leader.is_some() => "follower".into(),
            _ => String::new(),
        };
        ClusterView {
            me: self.cfg.me.clone(),
            leader,
            members,
            position: self.position(),
            self_stats,
            leader_stats,
            config: self.cluster_config,
            leaderless_for: self.leaderless_for(),
        }
    }
}
