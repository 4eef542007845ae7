//! The state thread's membership duties, driven by the pure policy in
//! `membership/`: joins and removals proposed one at a time (others wait in
//! a queue), the leader's automatic removals, cluster settings, applying
//! membership entries, and switching this machine between member and
//! standby when it applies its own `Join` or `Remove`.

use std::collections::BTreeMap;
use std::time::Instant;

use crossbeam_channel::Sender;
use log::{debug, info, warn};

use crate::membership::{
    Admission, ClusterConfig, ConfigPatch, MACHINES_DIR, Member, Refusal, RemovalInput, admit,
    next_removal,
};
use crate::raft::types::{ConfChange, Index};
use crate::store::{ErrorCode, EtcdError};

use super::super::clock::now_nanos;
use super::super::command::Command;
use super::super::mode::{LeaderUrls, Mode};
use super::super::replica;
use super::super::requests::{ConfigReply, JoinReply, MembershipNews};
use super::{PendingWrite, StateThread, Waiter};

/// A change of the voters, waiting for the one in flight.
pub(super) enum Change {
    Join(Member),
    Remove(String),
}

pub(super) struct QueuedChange {
    change: Change,
    reply: Option<Sender<JoinReply>>,
    /// Tick after which the requester gets 300; None waits for ever (the
    /// founder's own registration).
    deadline: Option<u64>,
}

impl StateThread {
    // ---- requests -------------------------------------------------------

    /// A join or removal: proposed now if no other change is in flight,
    /// else queued behind it.
    pub(super) fn request_change(&mut self, change: Change, reply: Option<Sender<JoinReply>>) {
        if !self.is_leader() {
            if let Some(reply) = reply {
                let _ = reply.send(self.join_redirect());
            }
            return;
        }
        let deadline = Some(self.ticks + self.cfg.request_timeout_ticks);
        self.queued.push_back(QueuedChange {
            change,
            reply,
            deadline,
        });
        self.start_queued_changes();
    }

    /// Propose queued changes while Raft has none in flight.
    pub(super) fn start_queued_changes(&mut self) {
        while self.is_leader() && !self.raft.membership_change_pending() {
            let Some(q) = self.queued.pop_front() else {
                return;
            };
            self.start_change(q);
        }
    }

    fn start_change(&mut self, q: QueuedChange) {
        let waiter = match q.reply {
            Some(reply) => Waiter::Join(reply),
            None => Waiter::Nobody,
        };
        match q.change {
            Change::Join(member) => self.start_join(member, waiter),
            Change::Remove(name) => self.start_remove(name, waiter),
        }
    }

    fn start_join(&mut self, member: Member, waiter: Waiter) {
        let voters = self.raft.status().voters;
        let admission = admit(&self.members, &voters, &self.cluster_config, &member, |m| {
            self.is_alive(m)
        });
        let time = now_nanos();
        match admission {
            Admission::AlreadyMember => self.answer(
                waiter,
                JoinReply::Accepted {
                    members: self.members.iter().cloned().collect(),
                },
            ),
            Admission::Add => {
                let cc = ConfChange::AddNode(member.id);
                let cmd = Command::Join { time, member };
                self.propose_change(cc, &cmd, waiter);
            }
            Admission::UpdateAddresses => {
                self.propose(&Command::Move { time, member }, waiter);
            }
            Admission::Refuse(refusal) => {
                let err = self.refusal_error(&member, refusal);
                self.answer(waiter, JoinReply::Failed(err));
            }
        }
    }

    fn refusal_error(&self, member: &Member, refusal: Refusal) -> EtcdError {
        let index = self.store.index();
        match refusal {
            Refusal::PeerUrlTaken { .. } => EtcdError::new(
                ErrorCode::ExistingPeerAddr,
                member.client_url.clone(),
                index,
            ),
            Refusal::NameInUse { name, peer_url } => EtcdError::new(
                ErrorCode::NodeExist,
                format!("{name} is active at {peer_url}"),
                index,
            ),
            Refusal::Full {
                members,
                active_size,
            } => EtcdError::new(
                ErrorCode::NoMorePeer,
                format!("{members} members, activeSize {active_size}"),
                index,
            ),
        }
    }

    fn start_remove(&mut self, name: String, waiter: Waiter) {
        let Some(member) = self.members.get(&name) else {
            let err = EtcdError::new(
                ErrorCode::KeyNotFound,
                format!("{MACHINES_DIR}/{name}"),
                self.store.index(),
            );
            self.answer(waiter, JoinReply::Failed(err));
            return;
        };
        let cc = ConfChange::RemoveNode(member.id);
        let cmd = Command::Remove {
            time: now_nanos(),
            name,
        };
        self.propose_change(cc, &cmd, waiter);
    }

    fn propose_change(&mut self, cc: ConfChange, cmd: &Command, waiter: Waiter) {
        let data = cmd.encode();
        self.propose_with(waiter, |raft| raft.propose_membership_change(cc, data));
    }

    fn answer(&self, waiter: Waiter, reply: JoinReply) {
        if let Waiter::Join(tx) = waiter {
            let _ = tx.send(reply);
        }
    }

    pub(super) fn join_redirect(&self) -> JoinReply {
        match self.leader_member() {
            Some(leader) if leader.id != self.cfg.me.id => JoinReply::Redirect {
                leader_peer_url: leader.peer_url.clone(),
            },
            _ => JoinReply::Failed(EtcdError::new(
                ErrorCode::RaftInternal,
                "",
                self.store.index(),
            )),
        }
    }

    /// `join_redirect` for a settings change.
    pub(super) fn config_redirect(&self) -> ConfigReply {
        match self.join_redirect() {
            JoinReply::Redirect { leader_peer_url } => ConfigReply::Redirect { leader_peer_url },
            JoinReply::Failed(e) => ConfigReply::Failed(e),
            JoinReply::Accepted { .. } => ConfigReply::Failed(EtcdError::new(
                ErrorCode::RaftInternal,
                "",
                self.store.index(),
            )),
        }
    }

    /// Still answering at its registered address: a message reached it
    /// within two election timeouts. (A member that moved to a new address
    /// is not, so its rejoin is accepted; a second machine taking a live
    /// member's name is refused.)
    fn is_alive(&self, member: &Member) -> bool {
        if member.id == self.cfg.me.id {
            return true;
        }
        self.outbox
            .reached_within(&member.name, self.alive_window())
    }

    fn alive_window(&self) -> std::time::Duration {
        self.cfg.tick_interval * (2 * self.cfg.election_ticks) as u32
    }

    /// Queued changes past their deadline get 300; on a lost leadership
    /// every queued change is sent to the new leader.
    pub(super) fn expire_queued_changes(&mut self, leadership_lost: bool) {
        let now = self.ticks;
        let mut keep = std::collections::VecDeque::new();
        for q in std::mem::take(&mut self.queued) {
            if leadership_lost {
                if let Some(reply) = q.reply {
                    let _ = reply.send(self.join_redirect());
                }
            } else if q.deadline.is_some_and(|d| d <= now) {
                if let Some(reply) = q.reply {
                    self.fail_waiter(Waiter::Join(reply));
                }
            } else {
                keep.push_back(q);
            }
        }
        self.queued = keep;
    }

    // ---- settings -------------------------------------------------------

    pub(super) fn set_config(&mut self, patch: ConfigPatch, reply: Sender<ConfigReply>) {
        if !self.is_leader() {
            let _ = reply.send(self.config_redirect());
            return;
        }
        let cmd = Command::SetConfig {
            time: now_nanos(),
            config: self.cluster_config.with(&patch),
            record: true,
        };
        self.propose(&cmd, Waiter::Config(reply));
    }

    // ---- the leader's own decisions -------------------------------------

    /// A brand-new cluster's founder registers itself as soon as it leads
    /// (store index 1) and seeds the settings from its flags (no index).
    pub(super) fn found_cluster_if_needed(&mut self) {
        if let Some(config) = self.cfg.seed_config.take() {
            let cmd = Command::SetConfig {
                time: now_nanos(),
                config,
                record: false,
            };
            self.propose(&cmd, Waiter::Nobody);
        }
        if self.cfg.register_self {
            self.cfg.register_self = false;
            let me = self.cfg.me.clone();
            if self.members.get(&me.name) != Some(&me) {
                self.queued.push_front(QueuedChange {
                    change: Change::Join(me),
                    reply: None,
                    deadline: None,
                });
                self.start_queued_changes();
            }
        }
    }

    /// The leader removes an unreachable member after `removeDelay`, or a
    /// member above `activeSize`; one at a time, never breaking quorum.
    pub(super) fn run_removal_policy(&mut self) {
        let Some(since) = self.leading_since else {
            return;
        };
        if !self.queued.is_empty() || self.raft.membership_change_pending() {
            return;
        }
        let tenure = since.elapsed();
        let silent_ms: BTreeMap<_, _> = self
            .members
            .iter()
            .filter(|m| m.id != self.cfg.me.id)
            .map(|m| {
                let silence = self
                    .outbox
                    .silent_since(&m.name)
                    .map(|at| at.elapsed().min(tenure))
                    .unwrap_or_default();
                (m.id, silence.as_millis() as u64)
            })
            .collect();
        let input = RemovalInput {
            members: &self.members,
            leader: self.cfg.me.id,
            config: &self.cluster_config,
            silent_ms: &silent_ms,
            alive_within_ms: self.alive_window().as_millis() as u64,
        };
        if let Some(removal) = next_removal(&input) {
            info!(
                "{}: removing member {}: {}",
                self.cfg.me.name, removal.name, removal.reason
            );
            self.request_change(Change::Remove(removal.name), None);
        }
    }

    // ---- news from the standby loop --------------------------------------

    pub(super) fn on_news(&mut self, news: MembershipNews) {
        let me = self.cfg.me.name.clone();
        match news {
            MembershipNews::Removed { leader } => {
                if !self.cfg.mode.is_standby() {
                    warn!(
                        "{me}: the leader {} no longer lists this machine; waiting as a standby",
                        leader.name
                    );
                    self.cfg.mode.set(Mode::Standby {
                        leader: Some(LeaderUrls::from(&leader)),
                    });
                }
            }
            MembershipNews::Listed => {
                if self.cfg.mode.is_standby() && self.members.get(&me).is_some() {
                    info!("{me}: the cluster lists this machine; serving as a member again");
                    self.cfg.mode.set(Mode::Member);
                }
            }
            MembershipNews::Admitted { members } => {
                for m in members {
                    if self.members.get(&m.name).is_none() {
                        self.routes.upsert(m);
                    }
                }
                self.refresh_routes();
            }
        }
    }

    /// The peer senders reach every member, plus machines we were told of
    /// before the log says so (the cluster we just joined).
    pub(super) fn refresh_routes(&mut self) {
        let members = &self.members;
        self.routes.retain(|m| members.get(&m.name).is_none());
        let mut all = self.members.clone();
        for m in self.routes.iter() {
            all.upsert(m.clone());
        }
        self.outbox.set_members(&all);
    }

    // ---- applying -------------------------------------------------------

    pub(super) fn answer_membership(
        &mut self,
        pending: Option<PendingWrite>,
        result: Result<(), EtcdError>,
    ) {
        if let Some(PendingWrite {
            waiter: Waiter::Join(reply),
            ..
        }) = pending
        {
            let answer = match result {
                Ok(()) => JoinReply::Accepted {
                    members: self.members.iter().cloned().collect(),
                },
                Err(e) => JoinReply::Failed(e),
            };
            let _ = reply.send(answer);
        }
    }

    /// Registers a member: a new name creates its registry entry (one store
    /// index), a changed address updates it, an unchanged one uses no index.
    /// A `Join` also makes it a voter.
    pub(super) fn apply_join(
        &mut self,
        index: Index,
        member: &Member,
        time: i64,
        add_voter: bool,
    ) -> Result<(), EtcdError> {
        let is_new = replica::register(&mut self.store, &mut self.members, member, time)?;
        if add_voter {
            self.raft.apply_conf_change(ConfChange::AddNode(member.id));
        }
        self.refresh_routes();
        let news = if is_new {
            format!("member {} joined ({})", member.name, member.peer_url)
        } else {
            format!(
                "member {} now at {} / {}",
                member.name, member.peer_url, member.client_url
            )
        };
        self.note(index, news);
        // Re-applied history does not switch modes: the start-up decision
        // already read the data dir (and `standby_info`).
        if index > self.replay_end && member.id == self.cfg.me.id && self.cfg.mode.is_standby() {
            info!("{}: joined the cluster as a member", member.name);
            self.cfg.mode.set(Mode::Member);
        }
        Ok(())
    }

    pub(super) fn apply_remove(
        &mut self,
        index: Index,
        name: &str,
        time: i64,
    ) -> Result<(), EtcdError> {
        let Some((member, result)) =
            replica::unregister(&mut self.store, &mut self.members, name, time)
        else {
            return Ok(());
        };
        self.raft
            .apply_conf_change(ConfChange::RemoveNode(member.id));
        self.refresh_routes();
        self.note(index, format!("member {name} removed"));
        if index > self.replay_end && member.id == self.cfg.me.id && !self.cfg.mode.is_standby() {
            // 0.4: a removed machine waits as a standby and joins again
            // when the cluster is below activeSize.
            let leader = self
                .leader_member()
                .filter(|l| l.id != self.cfg.me.id)
                .map(LeaderUrls::from);
            warn!("{name}: this machine was removed from the cluster; waiting as a standby");
            self.cfg.mode.set(Mode::Standby { leader });
        }
        result
    }

    /// New settings; an admin `PUT` also writes them at `/_etcd/config`.
    pub(super) fn apply_set_config(
        &mut self,
        index: Index,
        config: ClusterConfig,
        record: bool,
        time: i64,
    ) -> Result<(), EtcdError> {
        let (changed, result) = replica::set_config(
            &mut self.store,
            &mut self.cluster_config,
            config,
            record,
            time,
        );
        if changed {
            let line = format!("cluster settings are now {}", self.cluster_config.to_json());
            self.note(index, line);
        }
        result
    }

    pub(super) fn answer_config(
        &mut self,
        pending: Option<PendingWrite>,
        result: Result<(), EtcdError>,
    ) {
        if let Some(PendingWrite {
            waiter: Waiter::Config(reply),
            ..
        }) = pending
        {
            let answer = match result {
                Ok(()) => ConfigReply::Done(self.cluster_config),
                Err(e) => ConfigReply::Failed(e),
            };
            let _ = reply.send(answer);
        }
    }

    /// One line per membership change; at debug level while the log from
    /// before a restart is re-applied.
    pub(super) fn note(&self, index: Index, line: String) {
        if index <= self.replay_end {
            debug!("{line}");
        } else {
            info!("{line}");
        }
    }

    /// How long this machine has gone without a leader (None with one).
    pub(super) fn leaderless_for(&self) -> Option<std::time::Duration> {
        self.leaderless_since.map(|at: Instant| at.elapsed())
    }
}
