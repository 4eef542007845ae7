//! Log replication (Raft §5.3, §5.4.2, §7): what the leader sends each
//! follower and how it advances the commit index, and how a follower
//! takes appends, heartbeats and snapshots.

use super::message::MessageBody;
use super::node::Raft;
use super::quorum::quorum_index;
use super::ready::{ProgressState, Role};
use super::types::{Entry, Index, NodeId, Snapshot, Term};

impl Raft {
    /// Send `to` what it lacks, if flow control allows. With
    /// `send_if_empty`, an append without entries still goes out (to carry
    /// the commit index or to probe). Returns whether anything was sent.
    pub(super) fn send_append(&mut self, to: NodeId, send_if_empty: bool) -> bool {
        let Some(pr) = self.progress.get(&to) else {
            return false;
        };
        if pr.is_paused() {
            return false;
        }
        let next = pr.next_index;
        let prev_index = next - 1;
        let prev_term = self.log.term(prev_index);
        let entries = self.log.entries_from(next, self.cfg.max_batch_bytes);
        let (Some(prev_term), Some(entries)) = (prev_term, entries) else {
            return self.send_snapshot(to);
        };
        if entries.is_empty() && !send_if_empty {
            return false;
        }
        let last = prev_index + entries.len() as u64;
        let carried = !entries.is_empty();
        let body = MessageBody::Append {
            prev_index,
            prev_term,
            entries,
            commit: self.log.committed,
        };
        let term = self.term;
        self.send(to, term, body);
        if let Some(pr) = self.progress.get_mut(&to) {
            pr.sent(last, carried);
        }
        true
    }

    fn send_snapshot(&mut self, to: NodeId) -> bool {
        let Some(snapshot) = self.log.latest_snapshot.clone() else {
            // Nothing to send until the application hands us a snapshot.
            return false;
        };
        let index = snapshot.meta.index;
        let term = self.term;
        self.send(to, term, MessageBody::Snapshot { snapshot });
        if let Some(pr) = self.progress.get_mut(&to) {
            pr.become_snapshot(index);
        }
        true
    }

    pub(super) fn broadcast_append(&mut self, send_if_empty: bool) {
        let ids: Vec<NodeId> = self.progress.keys().copied().collect();
        for id in ids {
            self.send_append(id, send_if_empty);
        }
    }

    pub(super) fn broadcast_heartbeat(&mut self) {
        let (ctx, committed) = (self.reads.current_round(), self.log.committed);
        self.send_heartbeats(ctx, committed);
    }

    /// A heartbeat to every follower carrying read round `ctx` (0: none)
    /// and the commit index `committed`.
    pub(super) fn send_heartbeats(&mut self, ctx: u64, committed: Index) {
        let term = self.term;
        let targets: Vec<(NodeId, Index)> = self
            .progress
            .iter()
            .map(|(id, p)| (*id, p.match_index))
            .collect();
        for (id, matched) in targets {
            // Never tell a follower to commit beyond what it is known to hold.
            let commit = committed.min(matched);
            self.send(id, term, MessageBody::Heartbeat { commit, ctx });
        }
    }

    /// Advance the commit index to what a quorum holds durably, but only by
    /// counting replicas of an entry of the current term (§5.4.2).
    pub(super) fn maybe_commit(&mut self) -> bool {
        let me = self.id;
        let own = self.log.persisted;
        let progress = &self.progress;
        let idx = quorum_index(&self.voters, |v| {
            if v == me {
                own
            } else {
                progress.get(&v).map(|p| p.match_index).unwrap_or(0)
            }
        });
        if idx > self.log.committed && self.log.term(idx) == Some(self.term) {
            self.log.commit_to(idx);
            self.on_commit_in_term();
            true
        } else {
            false
        }
    }

    pub(super) fn handle_append_response(
        &mut self,
        from: NodeId,
        index: Index,
        reject: bool,
        hint: Index,
    ) {
        if index > self.log.last_index() {
            // We never sent that far: a bogus answer.
            return;
        }
        let Some(pr) = self.progress.get_mut(&from) else {
            return;
        };
        pr.recent_active = true;
        if reject {
            if pr.on_reject(index, hint) {
                self.send_append(from, true);
            }
            return;
        }
        if pr.on_ack(index) {
            match pr.state {
                ProgressState::Probe => pr.become_replicate(),
                ProgressState::Snapshot { index: s } if pr.match_index >= s => pr.become_probe(),
                _ => {}
            }
            if self.maybe_commit() {
                self.broadcast_append(true);
            }
        }
        while self.send_append(from, false) {}
    }

    pub(super) fn handle_heartbeat_response(&mut self, from: NodeId, ctx: u64) {
        let last = self.log.last_index();
        let Some(pr) = self.progress.get_mut(&from) else {
            return;
        };
        pr.recent_active = true;
        pr.on_heartbeat_response();
        if pr.snapshot_stalled(self.cfg.election_tick) {
            // The transport never told us the snapshot failed; retry anyway.
            pr.snapshot_failed();
        }
        if pr.match_index < last {
            self.send_append(from, true);
        }
        if ctx != 0 {
            self.reads.ack(from, ctx);
            self.release_confirmed_reads();
        }
    }

    pub(super) fn handle_append(
        &mut self,
        from: NodeId,
        prev_index: Index,
        prev_term: Term,
        entries: Vec<Entry>,
        commit: Index,
    ) {
        let term = self.term;
        if prev_index < self.log.committed {
            // Everything up to our commit index is settled; say where we are.
            let body = MessageBody::AppendResponse {
                index: self.log.committed,
                reject: false,
                hint: 0,
            };
            self.send_after_persist(from, term, body);
            return;
        }
        match self.log.maybe_append(prev_index, prev_term, entries) {
            Some(last_new) => {
                self.log.commit_to(commit.min(last_new));
                // The ack promises the entries are on disk: release it after the fsync.
                let body = MessageBody::AppendResponse {
                    index: last_new,
                    reject: false,
                    hint: 0,
                };
                self.send_after_persist(from, term, body);
            }
            None => {
                let hint = self.log.reject_hint(prev_index);
                self.send(
                    from,
                    term,
                    MessageBody::AppendResponse {
                        index: prev_index,
                        reject: true,
                        hint,
                    },
                );
            }
        }
    }

    pub(super) fn handle_heartbeat(&mut self, from: NodeId, commit: Index, ctx: u64) {
        self.log.commit_to(commit);
        let term = self.term;
        self.send(from, term, MessageBody::HeartbeatResponse { ctx });
    }

    pub(super) fn handle_snapshot(&mut self, from: NodeId, snapshot: Snapshot) {
        let term = self.term;
        let (index, snap_term) = (snapshot.meta.index, snapshot.meta.term);
        if index == u64::MAX {
            return;
        }
        if index <= self.log.committed {
            let body = MessageBody::AppendResponse {
                index: self.log.committed,
                reject: false,
                hint: 0,
            };
            self.send_after_persist(from, term, body);
            return;
        }
        if self.log.matches(index, snap_term) {
            // We hold that entry already: it is committed, keep our log.
            self.log.commit_to(index);
        } else {
            self.voters = snapshot.meta.conf.voters.iter().copied().collect();
            self.log.restore_snapshot(snapshot);
        }
        let body = MessageBody::AppendResponse {
            index,
            reject: false,
            hint: 0,
        };
        self.send_after_persist(from, term, body);
    }

    /// Leader only: a message to a follower we do not track is not needed.
    pub(super) fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }
}
