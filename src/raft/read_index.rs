//! Linearizable reads by ReadIndex (Raft thesis §6.4), the leader's side:
//! remember the commit index, then wait until a quorum has answered a
//! heartbeat sent after that moment. Reads are batched per asker: the
//! leader's own reads have at most one confirmation round in flight, and
//! every local read that arrives meanwhile rides on the next one, which
//! starts as soon as that round is confirmed; a follower's request (itself
//! a batch of its reads, one in flight per follower, see `read_forward`)
//! gets a round of its own at once. So at most one round per member is in
//! flight, each costing one heartbeat per follower however many reads it
//! serves, and no asker waits behind another's round.
//!
//! A follower's request is itself one confirmation: the follower sent it in
//! our term, after every read of its batch had arrived, so it had not yet
//! accepted a newer leader then. With the leader that is two votes, a
//! quorum of three machines on its own (no heartbeat round at all), and
//! one heartbeat answer fewer to wait for on five. Rounds can therefore be
//! confirmed out of order, and each is released as soon as it is.

use std::collections::{BTreeSet, VecDeque};

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
    local: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ReadQueue {
    last_round: u64,
    /// Reads that arrived before the leader committed an entry of its term;
    /// its commit index is not trustworthy yet (Raft thesis §6.4 step 1).
    waiting: Vec<ReadOrigin>,
    /// Oldest first. An answer to a round confirms every older one too.
    in_flight: VecDeque<Round>,
    /// Local reads that arrived while a local round was in flight.
    next: Vec<u64>,
}

impl ReadQueue {
    pub fn wait_for_term_commit(&mut self, origin: ReadOrigin) {
        self.waiting.push(origin);
    }

    pub fn take_waiting(&mut self) -> Vec<ReadOrigin> {
        std::mem::take(&mut self.waiting)
    }

    /// Queue a read. Returns the number of a round to start now (whose
    /// heartbeats must carry it), at `index`, the commit index now.
    pub fn add(&mut self, origin: ReadOrigin, index: Index, me: NodeId) -> Option<u64> {
        match origin {
            ReadOrigin::Local(ctx) => {
                self.next.push(ctx);
                self.start_local_round_if_idle(index, me)
            }
            ReadOrigin::Remote { .. } => Some(self.start(vec![origin], false, index, me)),
        }
    }

    /// If no local round is in flight and local reads are queued, start a
    /// round for all of them.
    pub fn start_local_round_if_idle(&mut self, index: Index, me: NodeId) -> Option<u64> {
        if self.next.is_empty() || self.in_flight.iter().any(|r| r.local) {
            return None;
        }
        let reads = std::mem::take(&mut self.next)
            .into_iter()
            .map(ReadOrigin::Local)
            .collect();
        Some(self.start(reads, true, index, me))
    }

    fn start(&mut self, reads: Vec<ReadOrigin>, local: bool, index: Index, me: NodeId) -> u64 {
        self.last_round += 1;
        let mut acks = BTreeSet::from([me]);
        // The asker of a remote round confirmed it by asking (module doc).
        acks.extend(reads.iter().filter_map(|o| match o {
            ReadOrigin::Remote { from, .. } => Some(*from),
            ReadOrigin::Local(_) => None,
        }));
        self.in_flight.push_back(Round {
            id: self.last_round,
            index,
            acks,
            reads,
            local,
        });
        self.last_round
    }

    /// Whether `round` still waits for confirmations from `voters`.
    pub fn needs_heartbeats(&self, round: u64, voters: &BTreeSet<NodeId>) -> bool {
        self.in_flight
            .iter()
            .any(|r| r.id == round && !confirmed(r, voters))
    }

    /// The round heartbeats should carry now (0 when none is in flight).
    pub fn current_round(&self) -> u64 {
        self.in_flight.back().map_or(0, |r| r.id)
    }

    /// `from` answered a heartbeat of `round`: it still followed us when it
    /// got that heartbeat, so it confirms every round up to that one.
    pub fn ack(&mut self, from: NodeId, round: u64) {
        for r in self.in_flight.iter_mut().take_while(|r| r.id <= round) {
            r.acks.insert(from);
        }
    }

    /// The rounds a quorum of `voters` has confirmed, oldest first, each
    /// with its index and reads.
    pub fn take_confirmed(&mut self, voters: &BTreeSet<NodeId>) -> Vec<(Index, Vec<ReadOrigin>)> {
        let (done, waiting): (VecDeque<Round>, VecDeque<Round>) =
            std::mem::take(&mut self.in_flight)
                .into_iter()
                .partition(|r| confirmed(r, voters));
        self.in_flight = waiting;
        done.into_iter().map(|r| (r.index, r.reads)).collect()
    }

    /// Leadership ended: nothing queued can be confirmed any more. Returns
    /// the local reads dropped (a follower notices on its own: its leader
    /// or term changes, or it asks again).
    pub fn clear(&mut self) -> Vec<u64> {
        let in_flight: Vec<ReadOrigin> = self.in_flight.drain(..).flat_map(|r| r.reads).collect();
        let mut out: Vec<u64> = std::mem::take(&mut self.waiting)
            .into_iter()
            .chain(in_flight)
            .filter_map(|o| match o {
                ReadOrigin::Local(ctx) => Some(ctx),
                ReadOrigin::Remote { .. } => None,
            })
            .collect();
        out.append(&mut self.next);
        out
    }
}

fn confirmed(round: &Round, voters: &BTreeSet<NodeId>) -> bool {
    round.acks.intersection(voters).count() >= majority(voters.len())
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
        let round = q.add(ReadOrigin::Local(42), 7, 1).unwrap();
        assert!(q.take_confirmed(&voters(&[1, 2, 3])).is_empty());
        q.ack(2, round);
        assert_eq!(
            q.take_confirmed(&voters(&[1, 2, 3])),
            vec![(7, vec![ReadOrigin::Local(42)])]
        );
        assert_eq!(q.current_round(), 0);
    }

    #[test]
    fn local_reads_arriving_during_a_round_share_the_next_one() {
        let mut q = ReadQueue::default();
        let r1 = q.add(ReadOrigin::Local(1), 5, 1).unwrap();
        assert_eq!(q.add(ReadOrigin::Local(2), 6, 1), None);
        assert_eq!(q.add(ReadOrigin::Local(3), 6, 1), None);
        q.ack(2, r1);
        assert_eq!(
            q.take_confirmed(&voters(&[1, 2, 3])),
            vec![(5, vec![ReadOrigin::Local(1)])]
        );
        let r2 = q.start_local_round_if_idle(6, 1).unwrap();
        assert!(r2 > r1);
        // An answer to the old round does not confirm the new one.
        q.ack(3, r1);
        assert!(q.take_confirmed(&voters(&[1, 2, 3])).is_empty());
        q.ack(3, r2);
        assert_eq!(
            q.take_confirmed(&voters(&[1, 2, 3])),
            vec![(6, vec![ReadOrigin::Local(2), ReadOrigin::Local(3)])]
        );
    }

    #[test]
    fn a_followers_request_gets_its_own_round_at_once() {
        let five = voters(&[1, 2, 3, 4, 5]);
        let mut q = ReadQueue::default();
        let r1 = q.add(ReadOrigin::Local(1), 5, 1).unwrap();
        let remote = ReadOrigin::Remote { from: 3, ctx: 9 };
        let r2 = q.add(remote, 6, 1).unwrap();
        assert_eq!(q.current_round(), r2);
        assert!(q.needs_heartbeats(r1, &five) && q.needs_heartbeats(r2, &five));
        // One answer to the newer round confirms both: the leader's round
        // has two votes of five then, the follower's (counting its asker) three.
        q.ack(2, r2);
        assert_eq!(q.take_confirmed(&five), vec![(6, vec![remote])]);
        q.ack(4, r1);
        assert_eq!(
            q.take_confirmed(&five),
            vec![(5, vec![ReadOrigin::Local(1)])]
        );
        assert!(
            q.add(ReadOrigin::Local(4), 7, 1).is_some(),
            "no local round left"
        );
    }

    #[test]
    fn on_three_machines_a_followers_request_is_confirmed_by_asking() {
        let three = voters(&[1, 2, 3]);
        let mut q = ReadQueue::default();
        let r1 = q.add(ReadOrigin::Local(1), 5, 1).unwrap();
        let remote = ReadOrigin::Remote { from: 3, ctx: 9 };
        let r2 = q.add(remote, 6, 1).unwrap();
        assert!(!q.needs_heartbeats(r2, &three));
        // Released ahead of the leader's own round, which still waits.
        assert_eq!(q.take_confirmed(&three), vec![(6, vec![remote])]);
        assert!(q.needs_heartbeats(r1, &three));
        assert_eq!(q.current_round(), r1);
        q.ack(2, r1);
        assert_eq!(
            q.take_confirmed(&three),
            vec![(5, vec![ReadOrigin::Local(1)])]
        );
    }

    #[test]
    fn an_asker_that_is_not_a_voter_confirms_nothing() {
        let mut q = ReadQueue::default();
        let r = q.add(ReadOrigin::Remote { from: 7, ctx: 1 }, 4, 1).unwrap();
        assert!(q.needs_heartbeats(r, &voters(&[1, 2, 3])));
        assert!(q.take_confirmed(&voters(&[1, 2, 3])).is_empty());
    }

    #[test]
    fn a_single_voter_confirms_at_once() {
        let mut q = ReadQueue::default();
        q.add(ReadOrigin::Local(9), 3, 1).unwrap();
        assert_eq!(
            q.take_confirmed(&voters(&[1])),
            vec![(3, vec![ReadOrigin::Local(9)])]
        );
    }

    #[test]
    fn clearing_reports_the_local_reads_only() {
        let mut q = ReadQueue::default();
        q.wait_for_term_commit(ReadOrigin::Local(1));
        q.add(ReadOrigin::Local(2), 4, 1).unwrap();
        q.add(ReadOrigin::Remote { from: 2, ctx: 5 }, 4, 1).unwrap();
        q.add(ReadOrigin::Local(3), 4, 1);
        assert_eq!(q.clear(), vec![1, 2, 3]);
        assert_eq!(q.current_round(), 0);
        assert!(q.take_waiting().is_empty());
    }
}
