//! The messages Raft machines exchange. Plain serializable data; the
//! transport carries them, Raft gives them meaning in `step`.

use serde::{Deserialize, Serialize};

use super::types::{Entry, Index, NodeId, Snapshot, Term};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub from: NodeId,
    pub to: NodeId,
    pub term: Term,
    pub body: MessageBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MessageBody {
    /// Leader → follower: entries following (`prev_index`, `prev_term`),
    /// and how far the leader has committed.
    Append {
        prev_index: Index,
        prev_term: Term,
        entries: Vec<Entry>,
        commit: Index,
    },
    /// Follower → leader. Accepted: `index` is the last index now known to
    /// match (and durable). Rejected: `index` is the rejected `prev_index`
    /// and `hint` an index the leader may retry from (+1).
    AppendResponse {
        index: Index,
        reject: bool,
        hint: Index,
    },
    /// (Pre-)candidate → voter. A pre-vote carries the term the sender
    /// would campaign in, without having moved to it.
    Vote {
        pre_vote: bool,
        last_index: Index,
        last_term: Term,
    },
    VoteResponse {
        pre_vote: bool,
        granted: bool,
    },
    /// Leader → follower: "I am still leader"; `commit` is capped at what
    /// the follower is known to hold. `ctx` identifies a read-index round.
    Heartbeat {
        commit: Index,
        ctx: u64,
    },
    HeartbeatResponse {
        ctx: u64,
    },
    /// Follower → its leader: "what may I serve linearizable reads at?"
    /// `ctx` numbers the follower's batch of reads.
    ReadIndex {
        ctx: u64,
    },
    /// Leader → follower, once a quorum confirmed the leadership after the
    /// request arrived: serve batch `ctx` after applying up to `index`.
    ReadIndexResponse {
        ctx: u64,
        index: Index,
    },
    /// Leader → follower whose needed entries were compacted away.
    /// Answered with an `AppendResponse` for the snapshot's index.
    Snapshot {
        snapshot: Snapshot,
    },
}
