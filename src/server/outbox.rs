//! The state thread's only way to reach other machines. The transport
//! implements it with one sender thread per peer; a send never blocks.

use crate::raft::Message;

use super::stats::LeaderStats;
use crate::membership::Members;

pub trait Outbox: Send {
    /// Queue messages for their recipients; dropped if a peer's queue is full
    /// (Raft retries).
    fn send(&mut self, msgs: Vec<Message>);
    /// The member table changed: start or stop senders, update addresses.
    fn set_members(&mut self, members: &Members);
    /// Per-follower latency and counts, for `/v2/stats/leader`.
    fn leader_stats(&self, leader_name: &str) -> LeaderStats;
    /// When a message last reached this member at its registered address
    /// (None: never, since its sender started).
    fn last_reached(&self, name: &str) -> Option<std::time::Instant>;
    /// Since when this member has not been reached: its last contact, or
    /// when its sender started if it was never reached (a member that just
    /// joined is not silent for as long as the leader has led). None for a
    /// machine that has no sender.
    fn silent_since(&self, name: &str) -> Option<std::time::Instant>;
    /// Whether a message reached this member within `within`.
    fn reached_within(&self, name: &str, within: std::time::Duration) -> bool {
        self.last_reached(name)
            .is_some_and(|at| at.elapsed() <= within)
    }
}
