//! Majority arithmetic: how many voters make a quorum, which index a
//! quorum has reached, and whether an election is won, lost or open.
//! Pure functions over voter sets; nothing here knows about terms or roles.

use std::collections::{BTreeMap, BTreeSet};

use super::types::{Index, NodeId};

/// The smallest number of voters that is more than half of `n`.
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// The highest index that a majority of `voters` has reached, given each
/// voter's acknowledged index. An empty voter set has reached nothing.
pub fn quorum_index(voters: &BTreeSet<NodeId>, acked: impl Fn(NodeId) -> Index) -> Index {
    if voters.is_empty() {
        return 0;
    }
    let mut idx: Vec<Index> = voters.iter().map(|v| acked(*v)).collect();
    // Sorted descending, the majority-th value is held by at least a majority.
    idx.sort_unstable_by(|a, b| b.cmp(a));
    idx[majority(voters.len()) - 1]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteResult {
    Won,
    Lost,
    Pending,
}

/// Tally the answers of `votes` (true = granted) against `voters`;
/// answers from non-voters are ignored.
pub fn vote_result(voters: &BTreeSet<NodeId>, votes: &BTreeMap<NodeId, bool>) -> VoteResult {
    if voters.is_empty() {
        return VoteResult::Lost;
    }
    let q = majority(voters.len());
    let mut yes = 0;
    let mut no = 0;
    for v in voters {
        match votes.get(v) {
            Some(true) => yes += 1,
            Some(false) => no += 1,
            None => {}
        }
    }
    if yes >= q {
        VoteResult::Won
    } else if voters.len() - no < q {
        VoteResult::Lost
    } else {
        VoteResult::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[NodeId]) -> BTreeSet<NodeId> {
        ids.iter().copied().collect()
    }

    #[test]
    fn majority_is_more_than_half() {
        assert_eq!(majority(1), 1);
        assert_eq!(majority(2), 2);
        assert_eq!(majority(3), 2);
        assert_eq!(majority(4), 3);
        assert_eq!(majority(5), 3);
    }

    #[test]
    fn quorum_index_is_the_index_a_majority_has_reached() {
        let acked = |id: NodeId| [0, 5, 3, 9, 1, 7][id as usize];
        assert_eq!(quorum_index(&set(&[1, 2, 3]), acked), 5);
        assert_eq!(quorum_index(&set(&[1, 2, 3, 4, 5]), acked), 5);
        assert_eq!(quorum_index(&set(&[3]), acked), 9);
        assert_eq!(quorum_index(&set(&[1, 3]), acked), 5);
        assert_eq!(quorum_index(&set(&[]), acked), 0);
    }

    #[test]
    fn election_is_won_lost_or_pending() {
        let voters = set(&[1, 2, 3]);
        let mut votes = BTreeMap::new();
        votes.insert(1, true);
        assert_eq!(vote_result(&voters, &votes), VoteResult::Pending);
        votes.insert(2, true);
        assert_eq!(vote_result(&voters, &votes), VoteResult::Won);
        let mut votes = BTreeMap::new();
        votes.insert(1, true);
        votes.insert(2, false);
        votes.insert(3, false);
        assert_eq!(vote_result(&voters, &votes), VoteResult::Lost);
    }

    #[test]
    fn votes_from_non_voters_do_not_count() {
        let voters = set(&[1, 2, 3]);
        let votes: BTreeMap<NodeId, bool> = [(1, true), (8, true), (9, true)].into_iter().collect();
        assert_eq!(vote_result(&voters, &votes), VoteResult::Pending);
    }
}
