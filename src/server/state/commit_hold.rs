//! Holding back a hard state that only moves the commit index.
//!
//! Raft's commit index is volatile: a restarted member learns it again from
//! its leader, and a lone machine from committing an entry of its new term.
//! So such a hard state needs no WAL job of its own: it rides on the next
//! job that has something else to write (entries, a snapshot, messages
//! waiting for the disk), or goes out on the next tick, so that kill -9
//! still keeps the commit index of an idle machine. A hard state whose term
//! or vote changed is a promise and always goes at once. On a lone machine
//! with one client this takes a WAL write, a WAL report and two thread
//! wake-ups out of every write.

use crate::raft::types::HardState;

#[derive(Default)]
pub(super) struct CommitHold {
    /// The newest hard state handed to the WAL thread.
    sent: HardState,
    /// Newer than `sent` in its commit index only.
    held: Option<HardState>,
}

impl CommitHold {
    /// What the next WAL job carries, given Raft's newest hard state (if it
    /// changed) and whether the job has other work.
    pub(super) fn carry(
        &mut self,
        newest: Option<HardState>,
        other_work: bool,
    ) -> Option<HardState> {
        let hs = newest.or(self.held)?;
        let promise = hs.term != self.sent.term || hs.vote != self.sent.vote;
        if other_work || promise {
            self.held = None;
            self.sent = hs;
            Some(hs)
        } else {
            self.held = Some(hs);
            None
        }
    }

    /// The held hard state, to write now (on a tick).
    pub(super) fn release(&mut self) -> Option<HardState> {
        let hs = self.held.take()?;
        self.sent = hs;
        Some(hs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs(term: u64, vote: u64, commit: u64) -> HardState {
        HardState { term, vote, commit }
    }

    #[test]
    fn a_new_term_or_vote_goes_at_once() {
        let mut hold = CommitHold::default();
        assert_eq!(hold.carry(Some(hs(1, 1, 0)), false), Some(hs(1, 1, 0)));
        assert_eq!(hold.carry(Some(hs(2, 0, 0)), false), Some(hs(2, 0, 0)));
        assert_eq!(hold.carry(Some(hs(2, 3, 0)), false), Some(hs(2, 3, 0)));
        assert_eq!(hold.release(), None);
    }

    #[test]
    fn a_commit_only_change_waits_for_the_next_job_with_work() {
        let mut hold = CommitHold::default();
        hold.carry(Some(hs(1, 1, 0)), false);
        assert_eq!(hold.carry(Some(hs(1, 1, 5)), false), None);
        assert_eq!(hold.carry(Some(hs(1, 1, 6)), false), None);
        // Entries to write: the newest commit rides along.
        assert_eq!(hold.carry(None, true), Some(hs(1, 1, 6)));
        assert_eq!(hold.carry(None, true), None, "nothing newer");
        assert_eq!(hold.release(), None);
    }

    #[test]
    fn a_held_commit_is_released_on_a_tick_and_then_not_again() {
        let mut hold = CommitHold::default();
        hold.carry(Some(hs(1, 1, 0)), false);
        hold.carry(Some(hs(1, 1, 4)), false);
        assert_eq!(hold.release(), Some(hs(1, 1, 4)));
        assert_eq!(hold.release(), None);
        assert_eq!(hold.carry(None, true), None);
    }

    #[test]
    fn a_promise_carries_the_held_commit_with_it() {
        let mut hold = CommitHold::default();
        hold.carry(Some(hs(1, 1, 0)), false);
        hold.carry(Some(hs(1, 1, 7)), false);
        assert_eq!(hold.carry(Some(hs(2, 2, 7)), false), Some(hs(2, 2, 7)));
        assert_eq!(hold.release(), None);
    }
}
