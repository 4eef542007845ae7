//! Linearizable reads (Raft thesis §6.4) as the application asks for them:
//! on the leader through its confirmation rounds (`read_index`), on a
//! follower by asking the leader for its read index (`read_forward`).
//! Either way a `ReadState` comes out in a later Ready, or the read's
//! context shows up in `Ready::dropped_reads`.

use super::message::MessageBody;
use super::node::Raft;
use super::read_index::ReadOrigin;
use super::ready::{ProposeError, ReadState, Role};
use super::types::{Index, NodeId};

impl Raft {
    /// Ask for a linearizable read, on the leader or on a follower that
    /// knows its leader. A `ReadState { ctx, index }` appears in a later
    /// Ready once the leader has confirmed with a quorum that it still
    /// leads: serve the read after applying up to `index`. If the leader or
    /// the term changes first, `ctx` appears in `Ready::dropped_reads`
    /// instead. Refused while no leader is known.
    pub fn read_index(&mut self, ctx: u64) -> Result<(), ProposeError> {
        match self.role {
            Role::Leader => {
                self.leader_read(ReadOrigin::Local(ctx));
                Ok(())
            }
            Role::Follower if self.lead != 0 => {
                self.forwarded.add(ctx);
                self.forward_reads_if_idle();
                Ok(())
            }
            _ => Err(self.not_leader()),
        }
    }

    fn leader_read(&mut self, origin: ReadOrigin) {
        if self.log.term(self.log.committed) != Some(self.term) {
            self.reads.wait_for_term_commit(origin);
            return;
        }
        let (committed, me) = (self.log.committed, self.id);
        if let Some(round) = self.reads.add(origin, committed, me) {
            self.run_round(round, committed);
        }
    }

    /// Ask the followers to confirm `round`, unless the votes it started
    /// with are already a quorum (a single voter; a follower's request on
    /// three machines).
    fn run_round(&mut self, round: u64, committed: Index) {
        if self.reads.needs_heartbeats(round, &self.voters) {
            self.send_heartbeats(round, committed);
        }
        self.release_confirmed_reads();
    }

    /// Hand out every read a quorum has confirmed, and start the next local
    /// round for the leader's reads that queued up meanwhile.
    pub(super) fn release_confirmed_reads(&mut self) {
        loop {
            for (index, origins) in self.reads.take_confirmed(&self.voters) {
                self.answer_reads(index, origins);
            }
            let (committed, me) = (self.log.committed, self.id);
            match self.reads.start_local_round_if_idle(committed, me) {
                // A single voter confirms its own round: go round again.
                Some(_) if self.voters.len() <= 1 => {}
                Some(round) => return self.send_heartbeats(round, committed),
                None => return,
            }
        }
    }

    fn answer_reads(&mut self, index: Index, origins: Vec<ReadOrigin>) {
        let term = self.term;
        for o in origins {
            match o {
                ReadOrigin::Local(ctx) => self.read_states.push(ReadState { ctx, index }),
                ReadOrigin::Remote { from, ctx } => {
                    self.send(from, term, MessageBody::ReadIndexResponse { ctx, index })
                }
            }
        }
    }

    /// The first entry of our term committed: reads that waited for it may start.
    pub(super) fn on_commit_in_term(&mut self) {
        for origin in self.reads.take_waiting() {
            self.leader_read(origin);
        }
    }

    /// Leader: a follower asks for a read index for its batch `ctx`.
    pub(super) fn handle_read_index(&mut self, from: NodeId, ctx: u64) {
        self.leader_read(ReadOrigin::Remote { from, ctx });
    }

    /// Follower: our leader answered batch `ctx`.
    pub(super) fn handle_read_index_response(&mut self, from: NodeId, ctx: u64, index: Index) {
        if self.role != Role::Follower || from != self.lead {
            return;
        }
        if let Some(reads) = self.forwarded.answered(ctx) {
            self.read_states
                .extend(reads.into_iter().map(|ctx| ReadState { ctx, index }));
        }
        self.forward_reads_if_idle();
    }

    fn forward_reads_if_idle(&mut self) {
        if let Some(round) = self.forwarded.start_if_idle() {
            self.ask_leader_for_read_index(round);
        }
    }

    fn ask_leader_for_read_index(&mut self, round: u64) {
        let (lead, term) = (self.lead, self.term);
        self.send(lead, term, MessageBody::ReadIndex { ctx: round });
    }

    /// A follower's clock: a request the transport may have lost is sent
    /// again after a couple of heartbeat periods.
    pub(super) fn tick_forwarded_reads(&mut self) {
        if let Some(round) = self.forwarded.tick(2 * self.cfg.heartbeat_tick)
            && self.lead != 0
        {
            self.ask_leader_for_read_index(round);
        }
    }

    /// The leadership the pending reads were asked of is over (we stop
    /// leading, or follow another leader or term): they can never be
    /// confirmed; report them so the application fails them.
    pub(super) fn drop_pending_reads(&mut self) {
        let mut dropped = self.reads.clear();
        dropped.extend(self.forwarded.clear());
        self.dropped_reads.extend(dropped);
    }
}
