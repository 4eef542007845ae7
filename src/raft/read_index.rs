//! Linearizable reads by ReadIndex (Raft thesis §6.4), the leader's side:
//! remember the commit index, then wait until a quorum has answered a
//! heartbeat sent after that moment. Reads are batched: at most one
//! confirmation round is in flight, and every read that arrives meanwhile
//! (the leader's own or a follower's, see `read_forward`) rides on the next
//! round, which starts as soon as the current one is confirmed. Under load a
//! round costs one heartbeat per follower however many reads it serves.

use std::collections::BTreeSet;

use super::quorum::majority;
use super::types::{Index, NodeId};

/// Who asked for a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOrigin {
    /// The leader's own application; answered with a `ReadState`.
    Local(u64),
    /// A follower's batch (its round number); answered with a `ReadIndexResponse`.
    Remote { from: NodeId, ctx: u64 },
}

#[derive(Debug, Clone)]
struct Round {
    id: u64,
    index: Index,
    acks: BTreeSet<NodeId>,
    reads: Vec<ReadOrigin>,
}

#[derive(Debug, Clone, Default)]
pub struct ReadQueue {
    last_round: u64,
    /// Reads that arrived before the leader committed an entry of its term;
    /// its commit index is not trustworthy yet (Raft thesis §6.4 step 1).
    waiting: Vec<ReadOrigin>,
    in_flight: Option<Round>,
    /// Reads that arrived while `in_flight` was out: the next round's.
    next: Vec<ReadOrigin>,
}

impl ReadQueue {
    pub fn wait_for_term_commit(&mut self, origin: ReadOrigin) {
        self.waiting.push(origin);
    }

    pub fn take_waiting(&mut self) -> Vec<ReadOrigin> {
        std::mem::take(&mut self.waiting)
    }

    /// Queue a read for the next round.
    pub fn add(&mut self, origin: ReadOrigin) {
        self.next.push(origin);
    }

    /// If no round is in flight and reads are queued, start a round for all
    /// of them at `index` (the commit index now); returns its number, which
    /// the heartbeats must carry.
    pub fn start_round_if_idle(&mut self, index: Index, me: NodeId) -> Option<u64> {
        if self.in_flight.is_some() || self.next.is_empty() {
            return None;
        }
        self.last_round += 1;
        self.in_flight = Some(Round {
            id: self.last_round,
            index,
            acks: BTreeSet::from([me]),
            reads: std::mem::take(&mut self.next),
        });
        Some(self.last_round)
    }

    /// The round heartbeats should carry now (0 when none is in flight).
    pub fn current_round(&self) -> u64 {
        self.in_flight.as_ref().map_or(0, |r| r.id)
    }

    /// `from` answered a heartbeat of `round`: it still followed us when it
    /// got that heartbeat, so it confirms every round up to that one.
    pub fn ack(&mut self, from: NodeId, round: u64) {
        if let Some(r) = self.in_flight.as_mut()
            && r.id <= round
        {
            r.acks.insert(from);
        }
    }

    /// The reads of the round in flight, with its index, once a quorum of
    /// `voters` has confirmed it.
    pub fn take_confirmed(
        &mut self,
        voters: &BTreeSet<NodeId>,
    ) -> Option<(Index, Vec<ReadOrigin>)> {
        let r = self.in_flight.as_ref()?;
        if r.acks.intersection(voters).count() < majority(voters.len()) {
            return None;
        }
        let r = self.in_flight.take()?;
        Some((r.index, r.reads))
    }

    /// Leadership ended: nothing queued can be confirmed any more. Returns
    /// the local reads dropped (a follower notices on its own: its leader
    /// or term changes, or it asks again).
    pub fn clear(&mut self) -> Vec<u64> {
        let in_flight = self.in_flight.take().map(|r| r.reads).unwrap_or_default();
        std::mem::take(&mut self.waiting)
            .into_iter()
            .chain(in_flight)
            .chain(std::mem::take(&mut self.next))
            .filter_map(|o| match o {
                ReadOrigin::Local(ctx) => Some(ctx),
                ReadOrigin::Remote { .. } => None,
            })
            .collect()
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
        q.add(ReadOrigin::Local(42));
        let round = q.start_round_if_idle(7, 1).unwrap();
        assert_eq!(q.take_confirmed(&voters(&[1, 2, 3])), None);
        q.ack(2, round);
        assert_eq!(
            q.take_confirmed(&voters(&[1, 2, 3])),
            Some((7, vec![ReadOrigin::Local(42)]))
        );
        assert_eq!(q.current_round(), 0);
    }

    #[test]
    fn reads_arriving_during_a_round_share_the_next_one() {
        let mut q = ReadQueue::default();
        q.add(ReadOrigin::Local(1));
        let r1 = q.start_round_if_idle(5, 1).unwrap();
        q.add(ReadOrigin::Local(2));
        q.add(ReadOrigin::Remote { from: 3, ctx: 9 });
        assert_eq!(q.start_round_if_idle(6, 1), None, "one round at a time");
        q.ack(2, r1);
        assert_eq!(
            q.take_confirmed(&voters(&[1, 2, 3])),
            Some((5, vec![ReadOrigin::Local(1)]))
        );
        let r2 = q.start_round_if_idle(6, 1).unwrap();
        assert!(r2 > r1);
        // An answer to the old round does not confirm the new one.
        q.ack(3, r1);
        assert_eq!(q.take_confirmed(&voters(&[1, 2, 3])), None);
        q.ack(3, r2);
        assert_eq!(
            q.take_confirmed(&voters(&[1, 2, 3])),
            Some((
                6,
                vec![ReadOrigin::Local(2), ReadOrigin::Remote { from: 3, ctx: 9 }]
            ))
        );
    }

    #[test]
    fn a_single_voter_confirms_at_once() {
        let mut q = ReadQueue::default();
        q.add(ReadOrigin::Local(9));
        q.start_round_if_idle(3, 1).unwrap();
        assert_eq!(
            q.take_confirmed(&voters(&[1])),
            Some((3, vec![ReadOrigin::Local(9)]))
        );
    }

    #[test]
    fn clearing_reports_the_local_reads_only() {
        let mut q = ReadQueue::default();
        q.wait_for_term_commit(ReadOrigin::Local(1));
        q.add(ReadOrigin::Local(2));
        q.start_round_if_idle(4, 1).unwrap();
        q.add(ReadOrigin::Remote { from: 2, ctx: 5 });
        q.add(ReadOrigin::Local(3));
        assert_eq!(q.clear(), vec![1, 2, 3]);
        assert_eq!(q.current_round(), 0);
        assert!(q.take_waiting().is_empty());
    }
}
