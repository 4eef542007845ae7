//! Linearizable reads by ReadIndex (Raft thesis §6.4): remember the commit
//! index when a read arrives, then wait until a quorum has answered a
//! heartbeat sent after that moment. Heartbeats carry an increasing round
//! number, so one answer confirms every read issued before its round.

use std::collections::{BTreeSet, VecDeque};

use super::quorum::majority;
use super::ready::ReadState;
use super::types::{Index, NodeId};

#[derive(Debug, Clone)]
struct PendingRead {
    round: u64,
    ctx: u64,
    index: Index,
    acks: BTreeSet<NodeId>,
}

#[derive(Debug, Clone, Default)]
pub struct ReadQueue {
    last_round: u64,
    /// Reads that arrived before the leader committed an entry of its term;
    /// their index is not trustworthy yet (Raft thesis §6.4 step 1).
    waiting: Vec<u64>,
    pending: VecDeque<PendingRead>,
}

impl ReadQueue {
    pub fn wait_for_term_commit(&mut self, ctx: u64) {
        self.waiting.push(ctx);
    }

    pub fn take_waiting(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.waiting)
    }

    /// Start a confirmation round for a read at `index`; returns the round
    /// number the heartbeats must carry.
    pub fn issue(&mut self, ctx: u64, index: Index, me: NodeId) -> u64 {
        self.last_round += 1;
        let mut acks = BTreeSet::new();
        acks.insert(me);
        self.pending.push_back(PendingRead {
            round: self.last_round,
            ctx,
            index,
            acks,
        });
        self.last_round
    }

    /// The round heartbeats should carry now (0 when no read waits).
    pub fn current_round(&self) -> u64 {
        if self.pending.is_empty() {
            0
        } else {
            self.last_round
        }
    }

    /// `from` answered a heartbeat of `round`: it still follows us for every
    /// read issued up to that round.
    pub fn ack(&mut self, from: NodeId, round: u64) {
        for r in self.pending.iter_mut().filter(|r| r.round <= round) {
            r.acks.insert(from);
        }
    }

    /// Reads confirmed by a quorum of `voters`, oldest first.
    pub fn take_confirmed(&mut self, voters: &BTreeSet<NodeId>) -> Vec<ReadState> {
        let need = majority(voters.len());
        let mut out = Vec::new();
        while let Some(front) = self.pending.front() {
            if front.acks.intersection(voters).count() < need {
                break;
            }
            out.push(ReadState {
                ctx: front.ctx,
                index: front.index,
            });
            self.pending.pop_front();
        }
        out
    }

    /// Leadership ended: these reads can never be confirmed.
    pub fn clear(&mut self) {
        self.waiting.clear();
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voters(ids: &[NodeId]) -> BTreeSet<NodeId> {
        ids.iter().copied().collect()
    }

    #[test]
    fn a_read_is_confirmed_only_by_a_quorum() {
        let mut q = ReadQueue::default();
        let round = q.issue(42, 7, 1);
        assert!(q.take_confirmed(&voters(&[1, 2, 3])).is_empty());
        q.ack(2, round);
        assert_eq!(
            q.take_confirmed(&voters(&[1, 2, 3])),
            vec![ReadState { ctx: 42, index: 7 }]
        );
    }

    #[test]
    fn an_answer_to_an_older_round_does_not_confirm_a_newer_read() {
        let mut q = ReadQueue::default();
        let r1 = q.issue(1, 5, 1);
        let _r2 = q.issue(2, 6, 1);
        q.ack(2, r1);
        assert_eq!(
            q.take_confirmed(&voters(&[1, 2, 3])),
            vec![ReadState { ctx: 1, index: 5 }]
        );
        assert_eq!(q.current_round(), 2);
    }

    #[test]
    fn an_answer_to_a_newer_round_confirms_older_reads() {
        let mut q = ReadQueue::default();
        q.issue(1, 5, 1);
        let r2 = q.issue(2, 6, 1);
        q.ack(3, r2);
        assert_eq!(q.take_confirmed(&voters(&[1, 2, 3])).len(), 2);
        assert_eq!(q.current_round(), 0);
    }

    #[test]
    fn a_single_voter_confirms_at_once() {
        let mut q = ReadQueue::default();
        q.issue(9, 3, 1);
        assert_eq!(q.take_confirmed(&voters(&[1])).len(), 1);
    }
}
