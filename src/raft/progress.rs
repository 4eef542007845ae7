//! What a leader knows about one follower's log, and the flow control
//! that decides whether another append may be sent to it now.
//!
//! Probe: one append at a time until the follower's position is found.
//! Replicate: stream optimistically, at most `max_inflight` appends unacked.
//! Snapshot: the follower needs a snapshot; send nothing until it lands.

use std::collections::VecDeque;

use super::ready::{ProgressState, ProgressStatus};
use super::types::Index;

#[derive(Debug, Clone)]
pub struct Progress {
    pub match_index: Index,
    pub next_index: Index,
    pub state: ProgressState,
    /// Probe only: an append is out and unanswered.
    probe_sent: bool,
    /// Replicate only: last index of each unacknowledged append, oldest first.
    inflight: VecDeque<Index>,
    max_inflight: usize,
    /// Heard from since the last CheckQuorum round.
    pub recent_active: bool,
    /// Snapshot only: heartbeat answers since the snapshot was sent.
    heartbeats_while_snapshotting: usize,
}

impl Progress {
    pub fn new(next_index: Index, max_inflight: usize) -> Progress {
        Progress {
            match_index: 0,
            next_index: next_index.max(1),
            state: ProgressState::Probe,
            probe_sent: false,
            inflight: VecDeque::new(),
            max_inflight: max_inflight.max(1),
            recent_active: true,
            heartbeats_while_snapshotting: 0,
        }
    }

    pub fn status(&self) -> ProgressStatus {
        ProgressStatus {
            match_index: self.match_index,
            next_index: self.next_index,
            state: self.state,
        }
    }

    /// Whether the leader must hold back appends to this follower.
    pub fn is_paused(&self) -> bool {
        match self.state {
            ProgressState::Probe => self.probe_sent,
            ProgressState::Replicate => self.inflight.len() >= self.max_inflight,
            ProgressState::Snapshot { .. } => true,
        }
    }

    pub fn become_probe(&mut self) {
        let after = match self.state {
            // Resume after the snapshot if it landed; the follower's answer corrects us otherwise.
            ProgressState::Snapshot { index } => index.max(self.match_index) + 1,
            _ => self.match_index + 1,
        };
        self.state = ProgressState::Probe;
        self.next_index = after;
        self.probe_sent = false;
        self.inflight.clear();
    }

    pub fn become_replicate(&mut self) {
        self.state = ProgressState::Replicate;
        self.next_index = self.match_index + 1;
        self.probe_sent = false;
        self.inflight.clear();
    }

    pub fn become_snapshot(&mut self, index: Index) {
        self.state = ProgressState::Snapshot { index };
        self.heartbeats_while_snapshotting = 0;
        self.probe_sent = false;
        self.inflight.clear();
    }

    /// The follower answers heartbeats but has not confirmed the snapshot
    /// for `limit` of them: assume it was lost even if nobody reported so.
    pub fn snapshot_stalled(&self, limit: usize) -> bool {
        matches!(self.state, ProgressState::Snapshot { .. })
            && self.heartbeats_while_snapshotting >= limit
    }

    /// The snapshot did not arrive: probe again from what the follower holds.
    pub fn snapshot_failed(&mut self) {
        self.state = ProgressState::Probe;
        self.next_index = self.match_index + 1;
        self.probe_sent = false;
        self.inflight.clear();
    }

    /// An append carrying entries up to `last` was sent.
    pub fn sent(&mut self, last: Index, carried_entries: bool) {
        match self.state {
            ProgressState::Replicate => {
                if carried_entries {
                    self.next_index = last + 1;
                    self.inflight.push_back(last);
                }
            }
            ProgressState::Probe => self.probe_sent = true,
            ProgressState::Snapshot { .. } => {}
        }
    }

    /// The follower acknowledged `index`. Returns true if that was news.
    pub fn on_ack(&mut self, index: Index) -> bool {
        let news = index > self.match_index;
        if news {
            self.match_index = index;
            self.probe_sent = false;
        }
        self.next_index = self.next_index.max(index + 1);
        while self.inflight.front().is_some_and(|i| *i <= index) {
            self.inflight.pop_front();
        }
        news
    }

    /// The follower refused an append after `rejected`, suggesting `hint`.
    /// Returns false for a stale refusal that tells us nothing new.
    pub fn on_reject(&mut self, rejected: Index, hint: Index) -> bool {
        match self.state {
            ProgressState::Replicate => {
                if rejected <= self.match_index {
                    return false;
                }
                self.become_probe();
                self.next_index = hint
                    .saturating_add(1)
                    .min(rejected)
                    .max(self.match_index + 1);
                true
            }
            ProgressState::Probe => {
                if self.next_index == 0 || rejected != self.next_index - 1 {
                    return false;
                }
                self.next_index = hint
                    .saturating_add(1)
                    .min(rejected)
                    .max(self.match_index + 1)
                    .max(1);
                self.probe_sent = false;
                true
            }
            ProgressState::Snapshot { .. } => false,
        }
    }

    /// A heartbeat answer proves the follower is reachable again: let a
    /// stalled probe retry, and free a slot if the window is full (an
    /// append was probably lost).
    pub fn on_heartbeat_response(&mut self) {
        self.probe_sent = false;
        if let ProgressState::Snapshot { .. } = self.state {
            self.heartbeats_while_snapshotting += 1;
        }
        if self.state == ProgressState::Replicate && self.inflight.len() >= self.max_inflight {
            self.inflight.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_sends_one_append_at_a_time() {
        let mut p = Progress::new(5, 4);
        assert!(!p.is_paused());
        p.sent(7, true);
        assert!(p.is_paused());
        assert_eq!(
            p.next_index, 5,
            "probe does not advance next optimistically"
        );
        p.on_heartbeat_response();
        assert!(!p.is_paused());
    }

    #[test]
    fn replicate_streams_up_to_the_inflight_window() {
        let mut p = Progress::new(1, 2);
        p.become_replicate();
        p.sent(3, true);
        assert_eq!(p.next_index, 4);
        assert!(!p.is_paused());
        p.sent(6, true);
        assert!(p.is_paused());
        assert!(p.on_ack(3));
        assert!(!p.is_paused());
        assert_eq!(p.match_index, 3);
        assert_eq!(p.next_index, 7);
    }

    #[test]
    fn empty_appends_take_no_window_slot() {
        let mut p = Progress::new(1, 1);
        p.become_replicate();
        p.sent(0, false);
        assert!(!p.is_paused());
    }

    #[test]
    fn reject_while_replicating_falls_back_to_probe_at_the_hint() {
        let mut p = Progress::new(1, 4);
        p.on_ack(2);
        p.become_replicate();
        p.sent(9, true);
        assert!(p.on_reject(5, 3));
        assert_eq!(p.state, ProgressState::Probe);
        assert_eq!(p.next_index, 4);
    }

    #[test]
    fn stale_reject_is_ignored() {
        let mut p = Progress::new(10, 4);
        p.on_ack(6);
        p.become_replicate();
        assert!(!p.on_reject(5, 0));
        let mut p = Progress::new(10, 4);
        assert!(
            !p.on_reject(4, 0),
            "probe only trusts a reject of its own prev index"
        );
        assert!(p.on_reject(9, 2));
        assert_eq!(p.next_index, 3);
    }

    #[test]
    fn reject_never_moves_next_below_match() {
        let mut p = Progress::new(10, 4);
        p.on_ack(4);
        p.next_index = 10;
        assert!(p.on_reject(9, 0));
        assert_eq!(p.next_index, 5);
    }

    #[test]
    fn snapshot_state_pauses_until_probe_resumes_after_it() {
        let mut p = Progress::new(3, 4);
        p.become_snapshot(20);
        assert!(p.is_paused());
        p.become_probe();
        assert_eq!(p.next_index, 21);
        assert!(!p.is_paused());
    }

    #[test]
    fn a_snapshot_never_confirmed_is_given_up_after_enough_heartbeats() {
        let mut p = Progress::new(3, 4);
        p.become_snapshot(20);
        for _ in 0..9 {
            p.on_heartbeat_response();
        }
        assert!(!p.snapshot_stalled(10));
        p.on_heartbeat_response();
        assert!(p.snapshot_stalled(10));
        p.snapshot_failed();
        assert_eq!(p.state, ProgressState::Probe);
        assert_eq!(p.next_index, 1);
    }

    #[test]
    fn heartbeat_answer_frees_a_full_window() {
        let mut p = Progress::new(1, 1);
        p.become_replicate();
        p.sent(4, true);
        assert!(p.is_paused());
        p.on_heartbeat_response();
        assert!(!p.is_paused());
    }
}
