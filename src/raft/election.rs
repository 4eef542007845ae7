//! Roles and elections (Raft §5.2, thesis §9.6 PreVote): becoming
//! follower, pre-candidate, candidate or leader, asking for votes and
//! deciding whether to grant one.

use super::message::MessageBody;
use super::node::Raft;
use super::progress::Progress;
use super::quorum::{VoteResult, vote_result};
use super::ready::Role;
use super::types::{Entry, EntryKind, NodeId, Term};

impl Raft {
    /// Forget per-role state, moving to `term` (clearing the vote if the term changes).
    fn reset(&mut self, term: Term) {
        if term != self.term {
            self.term = term;
            self.vote = 0;
        }
        self.lead = 0;
        self.election_elapsed = 0;
        self.heartbeat_elapsed = 0;
        self.randomize_timeout();
        self.votes.clear();
        self.progress.clear();
        self.drop_pending_reads();
    }

    pub(super) fn become_follower(&mut self, term: Term, lead: NodeId) {
        self.reset(term);
        self.role = Role::Follower;
        self.lead = lead;
    }

    fn become_pre_candidate(&mut self) {
        // Term and vote stay: a pre-vote changes nothing durable.
        let term = self.term;
        self.reset(term);
        self.role = Role::PreCandidate;
    }

    fn become_candidate(&mut self) {
        let term = self.term.saturating_add(1);
        self.reset(term);
        self.vote = self.id;
        self.role = Role::Candidate;
    }

    fn become_leader(&mut self) {
        let term = self.term;
        self.reset(term);
        self.role = Role::Leader;
        self.lead = self.id;
        let next = self.log.last_index() + 1;
        let me = self.id;
        for v in self.voters.iter().filter(|v| **v != me) {
            self.progress
                .insert(*v, Progress::new(next, self.cfg.max_inflight));
        }
        // Any conf change already in the log may be unapplied: be conservative.
        self.pending_conf_index = self.log.last_index();
        // An entry of our own term lets us commit everything before it (§5.4.2)
        // and serve read-index requests.
        let empty = Entry {
            term,
            index: next,
            kind: EntryKind::Normal,
            data: Vec::new(),
        };
        self.log.append(vec![empty]);
        self.maybe_commit();
        self.broadcast_append(true);
    }

    /// Election timeout elapsed (or the application asked): try to lead.
    pub(super) fn start_election(&mut self) {
        if !self.promotable() || self.role == Role::Leader {
            return;
        }
        if self.cfg.pre_vote {
            self.pre_campaign();
        } else {
            self.campaign_for_real();
        }
    }

    /// Start an election now (a no-op on a leader or a non-voter).
    pub fn campaign(&mut self) {
        self.start_election();
    }

    fn pre_campaign(&mut self) {
        self.become_pre_candidate();
        self.votes.insert(self.id, true);
        match vote_result(&self.voters, &self.votes) {
            VoteResult::Won => self.campaign_for_real(),
            VoteResult::Lost => {
                let term = self.term;
                self.become_follower(term, 0);
            }
            VoteResult::Pending => self.request_votes(true),
        }
    }

    fn campaign_for_real(&mut self) {
        self.become_candidate();
        self.votes.insert(self.id, true);
        match vote_result(&self.voters, &self.votes) {
            VoteResult::Won => self.become_leader(),
            VoteResult::Lost => {
                let term = self.term;
                self.become_follower(term, 0);
            }
            VoteResult::Pending => self.request_votes(false),
        }
    }

    fn request_votes(&mut self, pre_vote: bool) {
        let body = MessageBody::Vote {
            pre_vote,
            last_index: self.log.last_index(),
            last_term: self.log.last_term(),
        };
        let me = self.id;
        let others: Vec<NodeId> = self.voters.iter().copied().filter(|v| *v != me).collect();
        for v in others {
            if pre_vote {
                // Nothing durable changed; ask right away, for the term we would take.
                let term = self.term.saturating_add(1);
                self.send(v, term, body.clone());
            } else {
                // Our new term and self-vote must be durable before anyone acts on them.
                let term = self.term;
                self.send_after_persist(v, term, body.clone());
            }
        }
    }

    /// Whether we heard from a live leader within the (base) election
    /// timeout; while so, votes that would unseat it are refused.
    pub(super) fn in_lease(&self) -> bool {
        (self.cfg.check_quorum || self.cfg.pre_vote)
            && self.lead != 0
            && self.election_elapsed < self.cfg.election_tick
    }

    /// A (pre-)vote request at a term >= ours (already adjusted by `step`).
    pub(super) fn handle_vote(
        &mut self,
        from: NodeId,
        msg_term: Term,
        pre_vote: bool,
        last_index: u64,
        last_term: Term,
    ) {
        let can_vote = self.vote == from
            || (self.vote == 0 && self.lead == 0)
            || (pre_vote && msg_term > self.term);
        let granted = can_vote && self.log.is_up_to_date(last_index, last_term);
        let body = MessageBody::VoteResponse { pre_vote, granted };
        if pre_vote {
            let term = if granted { msg_term } else { self.term };
            self.send(from, term, body);
        } else if granted {
            self.vote = from;
            self.election_elapsed = 0;
            let term = self.term;
            self.send_after_persist(from, term, body);
        } else {
            let term = self.term;
            self.send(from, term, body);
        }
    }

    pub(super) fn handle_vote_response(
        &mut self,
        from: NodeId,
        msg_term: Term,
        pre_vote: bool,
        granted: bool,
    ) {
        let counts = match self.role {
            Role::PreCandidate => {
                pre_vote
                    && (msg_term == self.term.saturating_add(1)
                        || (!granted && msg_term == self.term))
            }
            Role::Candidate => !pre_vote && msg_term == self.term,
            _ => false,
        };
        if !counts || !self.voters.contains(&from) {
            return;
        }
        self.votes.insert(from, granted);
        match vote_result(&self.voters, &self.votes) {
            VoteResult::Won if self.role == Role::PreCandidate => self.campaign_for_real(),
            VoteResult::Won => self.become_leader(),
            VoteResult::Lost => {
                let term = self.term;
                self.become_follower(term, 0);
            }
            VoteResult::Pending => {}
        }
    }
}
