//! Linearizable reads on a follower: it asks its leader for a read index
//! (`ReadIndex`), the leader confirms its leadership with a quorum as for its
//! own reads and answers with its commit index (`ReadIndexResponse`), and
//! the follower serves the reads once it has applied that far.
//!
//! Batched like the leader's side: one request is in flight at a time, and
//! every read that arrives meanwhile goes out in the next one. A request
//! that gets no answer is sent again after a while (the transport may drop
//! it); anything pending is dropped, and reported, when the follower's
//! leader or term changes, since only the leader it asked may answer.

/// A request to the leader, waiting for its answer.
#[derive(Debug, Clone)]
struct Batch {
    round: u64,
    reads: Vec<u64>,
    /// Ticks since it was (re)sent.
    elapsed: usize,
}

#[derive(Debug, Clone, Default)]
pub struct ForwardedReads {
    /// Never reset, so that an answer to an abandoned request cannot match
    /// a newer one; and starting at a random point, so that a follower that
    /// restarted (in the same term) cannot take an answer meant for its
    /// previous life, which could be older than a write it must see.
    last_round: u64,
    in_flight: Option<Batch>,
    next: Vec<u64>,
}

impl ForwardedReads {
    pub fn starting_at(round: u64) -> ForwardedReads {
        ForwardedReads {
            last_round: round,
            ..ForwardedReads::default()
        }
    }

    pub fn add(&mut self, ctx: u64) {
        self.next.push(ctx);
    }

    /// If nothing is in flight and reads are queued, make them one request;
    /// returns the round number it must carry.
    pub fn start_if_idle(&mut self) -> Option<u64> {
        if self.in_flight.is_some() || self.next.is_empty() {
            return None;
        }
        self.last_round += 1;
        self.in_flight = Some(Batch {
            round: self.last_round,
            reads: std::mem::take(&mut self.next),
            elapsed: 0,
        });
        Some(self.last_round)
    }

    /// The leader answered `round`: the reads it carried.
    pub fn answered(&mut self, round: u64) -> Option<Vec<u64>> {
        if self.in_flight.as_ref()?.round != round {
            return None;
        }
        self.in_flight.take().map(|b| b.reads)
    }

    /// One tick; returns the round to ask again for, after `resend_after`
    /// ticks without an answer.
    pub fn tick(&mut self, resend_after: usize) -> Option<u64> {
        let b = self.in_flight.as_mut()?;
        b.elapsed += 1;
        if b.elapsed < resend_after {
            return None;
        }
        b.elapsed = 0;
        Some(b.round)
    }

    /// Every read waiting, now never to be answered.
    pub fn clear(&mut self) -> Vec<u64> {
        let mut out = self.in_flight.take().map(|b| b.reads).unwrap_or_default();
        out.append(&mut self.next);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_waiting_for_an_answer_batch_into_the_next_request() {
        let mut f = ForwardedReads::default();
        f.add(1);
        let r1 = f.start_if_idle().unwrap();
        f.add(2);
        f.add(3);
        assert_eq!(f.start_if_idle(), None);
        assert_eq!(f.answered(r1 + 7), None, "not the round we asked for");
        assert_eq!(f.answered(r1), Some(vec![1]));
        let r2 = f.start_if_idle().unwrap();
        assert_eq!(f.answered(r1), None, "a duplicate answer to an old round");
        assert_eq!(f.answered(r2), Some(vec![2, 3]));
        assert_eq!(f.start_if_idle(), None);
    }

    #[test]
    fn an_unanswered_request_is_sent_again() {
        let mut f = ForwardedReads::default();
        assert_eq!(f.tick(2), None);
        f.add(1);
        let r = f.start_if_idle().unwrap();
        assert_eq!(f.tick(2), None);
        assert_eq!(f.tick(2), Some(r));
        assert_eq!(f.tick(2), None);
        assert_eq!(f.tick(2), Some(r));
    }

    #[test]
    fn clearing_returns_every_waiting_read_and_forgets_the_round() {
        let mut f = ForwardedReads::default();
        f.add(1);
        let r = f.start_if_idle().unwrap();
        f.add(2);
        assert_eq!(f.clear(), vec![1, 2]);
        assert_eq!(f.answered(r), None);
        f.add(3);
        assert!(f.start_if_idle().unwrap() > r);
    }
}
