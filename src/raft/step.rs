//! `step`: the entry point for messages from other machines. It applies
//! the term rules of Raft §5.1 (and the PreVote/CheckQuorum exceptions)
//! and then hands the message to the handler for our role.

use super::message::{Message, MessageBody};
use super::node::Raft;
use super::ready::Role;

impl Raft {
    /// Process a message from a peer. Messages for another id, from
    /// nobody, or that make no sense in our state are ignored.
    pub fn step(&mut self, m: Message) {
        // The last term could never be followed by a campaign: treat it as garbage.
        if m.to != self.id || m.from == 0 || m.from == self.id || m.term == u64::MAX {
            return;
        }
        if m.term > self.term {
            match &m.body {
                MessageBody::Vote { pre_vote, .. } => {
                    if self.in_lease() {
                        // A leader we heard from recently is alive: do not let a
                        // rejoining or partitioned machine disturb it.
                        return;
                    }
                    if !pre_vote {
                        self.become_follower(m.term, 0);
                    }
                }
                // Granted pre-votes come back at the term we would take; not a newer leader.
                MessageBody::VoteResponse {
                    pre_vote: true,
                    granted: true,
                } => {}
                MessageBody::Append { .. }
                | MessageBody::Heartbeat { .. }
                | MessageBody::Snapshot { .. } => {
                    self.become_follower(m.term, m.from);
                }
                _ => self.become_follower(m.term, 0),
            }
        } else if m.term < self.term {
            self.answer_stale(&m);
            return;
        }
        self.step_current(m);
    }

    /// A message from an older term. Mostly ignored, but a stale leader or
    /// pre-candidate is told our term so it stops (it may be cut off by
    /// CheckQuorum/PreVote from ever learning it otherwise).
    fn answer_stale(&mut self, m: &Message) {
        let term = self.term;
        match m.body {
            MessageBody::Append { .. } | MessageBody::Heartbeat { .. }
                if self.cfg.check_quorum || self.cfg.pre_vote =>
            {
                self.send(m.from, term, MessageBody::HeartbeatResponse { ctx: 0 });
            }
            MessageBody::Vote { pre_vote: true, .. } => {
                self.send(
                    m.from,
                    term,
                    MessageBody::VoteResponse {
                        pre_vote: true,
                        granted: false,
                    },
                );
            }
            _ => {}
        }
    }

    fn step_current(&mut self, m: Message) {
        let from = m.from;
        match m.body {
            MessageBody::Vote {
                pre_vote,
                last_index,
                last_term,
            } => {
                self.handle_vote(from, m.term, pre_vote, last_index, last_term);
            }
            MessageBody::VoteResponse { pre_vote, granted } => {
                self.handle_vote_response(from, m.term, pre_vote, granted);
            }
            MessageBody::Append {
                prev_index,
                prev_term,
                entries,
                commit,
            } => {
                if self.follow(from) {
                    self.handle_append(from, prev_index, prev_term, entries, commit);
                }
            }
            MessageBody::Heartbeat { commit, ctx } => {
                if self.follow(from) {
                    self.handle_heartbeat(from, commit, ctx);
                }
            }
            MessageBody::Snapshot { snapshot } => {
                if self.follow(from) {
                    self.handle_snapshot(from, snapshot);
                }
            }
            MessageBody::AppendResponse {
                index,
                reject,
                hint,
            } => {
                if self.is_leader() {
                    self.handle_append_response(from, index, reject, hint);
                }
            }
            MessageBody::HeartbeatResponse { ctx } => {
                if self.is_leader() {
                    self.handle_heartbeat_response(from, ctx);
                }
            }
            MessageBody::ReadIndex { ctx } => {
                // Anyone else drops it; the asker fails its reads when it
                // learns of the new leader or term, or asks again.
                if self.is_leader() {
                    self.handle_read_index(from, ctx);
                }
            }
            MessageBody::ReadIndexResponse { ctx, index } => {
                self.handle_read_index_response(from, ctx, index);
            }
        }
    }

    /// `from` leads our current term: follow it. False if we lead this
    /// term ourselves (two leaders in one term cannot happen; ignore it).
    fn follow(&mut self, from: u64) -> bool {
        match self.role {
            Role::Leader => false,
            Role::Follower => {
                if self.lead != from {
                    // Reads asked of another leader will not be answered by this one.
                    self.drop_pending_reads();
                }
                self.lead = from;
                self.election_elapsed = 0;
                true
            }
            Role::PreCandidate | Role::Candidate => {
                let term = self.term;
                self.become_follower(term, from);
                true
            }
        }
    }
}
