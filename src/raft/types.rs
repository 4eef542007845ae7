//! The vocabulary shared by Raft, the write-ahead log and the server:
//! terms, indices, member ids, log entries and the durable hard state.
//!
//! These are plain data. Nothing here decides anything.

use serde::{Deserialize, Serialize};

/// A Raft term. Terms only grow.
pub type Term = u64;
/// A position in the Raft log (1-based; 0 means "before the first entry").
pub type Index = u64;
/// A member of the Raft group. 0 is never a valid id.
pub type NodeId = u64;

/// What a log entry carries, as Raft sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    /// Opaque application data (a command for the key store), or empty:
    /// a new leader appends one empty entry of its own term.
    Normal,
    /// A single-member configuration change; `data` is an encoded
    /// [`ConfChange`]. It takes effect when applied.
    ConfChange,
}

/// One record of the replicated log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub term: Term,
    pub index: Index,
    pub kind: EntryKind,
    pub data: Vec<u8>,
}

/// What must be on disk before this machine may answer anyone:
/// the current term, whom it voted for in that term, and how far the log
/// is known to be committed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardState {
    pub term: Term,
    /// 0 when no vote was cast in `term`.
    pub vote: NodeId,
    pub commit: Index,
}

/// The voting members of the group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfState {
    /// Sorted, without duplicates.
    pub voters: Vec<NodeId>,
}

/// A single-member change of the voting configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfChange {
    AddNode(NodeId),
    RemoveNode(NodeId),
}

/// Where a snapshot sits in the log, and the configuration at that point.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    pub index: Index,
    pub term: Term,
    pub conf: ConfState,
}

/// A snapshot: its position plus the application's opaque state bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub meta: SnapshotMeta,
    pub data: Vec<u8>,
}
