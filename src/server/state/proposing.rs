//! Proposing on the state thread: who leads (and where a client is sent
//! when it is not this machine), appending commands to Raft while
//! remembering who waits for each index, and failing the waiters whose
//! entry was lost or did not commit in time.

use log::debug;

use crate::membership::Member;
use crate::raft::types::Index;
use crate::raft::{ProposeError, Raft, Role};
use crate::store::{ErrorCode, EtcdError, StoreCommand};

use super::super::clock::now_nanos;
use super::super::command::Command;
use super::super::oneshot::ReplySender;
use super::super::requests::{AuthReply, ConfigReply, JoinReply, Position, Reply};
use super::{PendingWrite, StateThread, Waiter};

impl StateThread {
    pub(super) fn position(&self) -> Position {
        let status = self.raft.status();
        Position {
            etcd_index: self.store.index(),
            raft_index: status.commit,
            raft_term: status.term,
        }
    }

    pub(super) fn leader_member(&self) -> Option<&Member> {
        self.raft
            .status()
            .leader
            .and_then(|id| self.members.by_id(id))
    }

    pub(super) fn is_leader(&self) -> bool {
        self.raft.status().role == Role::Leader
    }

    /// The answer for a request that only the leader can serve.
    pub(super) fn not_leader_reply(&self) -> Reply {
        match self.leader_member() {
            Some(leader) if leader.id != self.cfg.me.id => Reply::Redirect {
                leader_client_url: leader.client_url.clone(),
            },
            _ => Reply::Failed(EtcdError::new(
                ErrorCode::RaftInternal,
                "",
                self.store.index(),
            )),
        }
    }

    /// A normal entry; `waiter` hears when it is applied (or why not).
    pub(super) fn propose(&mut self, cmd: &Command, waiter: Waiter) {
        let data = cmd.encode();
        self.propose_with(waiter, |raft| raft.propose(data));
    }

    /// Append through `append` and remember who waits for that index.
    pub(super) fn propose_with(
        &mut self,
        waiter: Waiter,
        append: impl FnOnce(&mut Raft) -> Result<Index, ProposeError>,
    ) {
        let term = self.raft.status().term;
        match append(&mut self.raft) {
            Ok(index) => {
                let deadline = self.ticks + self.cfg.request_timeout_ticks;
                self.writes.insert(
                    index,
                    PendingWrite {
                        term,
                        waiter,
                        deadline,
                    },
                );
            }
            Err(ProposeError::NotLeader { .. }) => match waiter {
                Waiter::Client(reply) => {
                    let _ = reply.send(self.not_leader_reply());
                }
                Waiter::Join(reply) => {
                    let _ = reply.send(self.join_redirect());
                }
                Waiter::Config(reply) => {
                    let _ = reply.send(self.config_redirect());
                }
                Waiter::Auth(reply) => {
                    let _ = reply.send(self.auth_redirect());
                }
                Waiter::Nobody => {}
            },
            Err(e) => {
                debug!("proposal dropped: {e:?}");
                crate::metrics::global().proposals_failed.inc();
                self.fail_waiter(waiter);
            }
        }
    }

    pub(super) fn propose_write(&mut self, cmd: StoreCommand, reply: ReplySender<Reply>) {
        if !self.is_leader() {
            let _ = reply.send(self.not_leader_reply());
            return;
        }
        let cmd = Command::Store {
            time: now_nanos(),
            cmd,
        };
        self.propose(&cmd, Waiter::Client(reply));
    }

    /// Expiry is decided by the leader's clock, carried in the log, so every
    /// replica removes the same nodes at the same store index.
    pub(super) fn propose_due_expiry(&mut self) {
        if self.expiry_in_flight.is_some() || !self.is_leader() {
            return;
        }
        let now = now_nanos();
        let due = matches!(self.store.next_expiration(), Some(at) if at <= now);
        if due && let Ok(index) = self.raft.propose(Command::ExpireDue { time: now }.encode()) {
            self.expiry_in_flight = Some(index);
        }
    }

    pub(super) fn fail_waiter(&self, waiter: Waiter) {
        let err = EtcdError::new(ErrorCode::RaftInternal, "", self.store.index());
        match waiter {
            Waiter::Client(reply) => {
                let _ = reply.send(Reply::Failed(err));
            }
            Waiter::Join(reply) => {
                let _ = reply.send(JoinReply::Failed(err));
            }
            Waiter::Config(reply) => {
                let _ = reply.send(ConfigReply::Failed(err));
            }
            Waiter::Auth(reply) => {
                let _ = reply.send(AuthReply::Failed(err));
            }
            Waiter::Nobody => {}
        }
    }

    /// A write or read that could not commit in time gets 300; the client
    /// must not hang when the cluster has lost its majority.
    pub(super) fn fail_overdue_requests(&mut self) {
        let now = self.ticks;
        let overdue: Vec<PendingWrite> = self
            .writes
            .extract_if(.., |_, w| w.deadline <= now)
            .map(|(_, w)| w)
            .collect();
        for w in overdue {
            crate::metrics::global().proposals_failed.inc();
            self.fail_waiter(w.waiter);
        }
        for r in self.reads.take_overdue(now) {
            self.fail_waiter(Waiter::Client(r.reply));
        }
        if let Some(index) = self.expiry_in_flight
            && index <= self.applied
        {
            self.expiry_in_flight = None;
        }
        self.expire_queued_changes(false);
    }
}
