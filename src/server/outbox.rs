//! The state thread's only way to reach other machines. The transport
//! implements it with one sender thread per peer; a send never blocks.

use crate::raft::Message;

use super::members::Members;
use super::stats::LeaderStats;

pub trait Outbox: Send {
    /// Queue messages for their recipients; dropped if a peer's queue is full
    /// (Raft retries).
    fn send(&mut self, msgs: Vec<Message>);
    /// The member table changed: start or stop senders, update addresses.
    fn set_members(&mut self, members: &Members);
    /// Per-follower latency and counts, for `/v2/stats/leader`.
    fn leader_stats(&self, leader_name: &str) -> LeaderStats;
    /// Whether a message reached this member (at its registered address)
    /// within `within`.
    fn reached_within(&self, name: &str, within: std::time::Duration) -> bool;
}
