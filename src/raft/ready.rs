//! What Raft hands to the application (`Ready`, `Status`) and the
//! errors it answers proposals with.

use std::collections::BTreeMap;

use super::message::Message;
use super::types::{Entry, HardState, Index, NodeId, Snapshot, Term};

/// Everything Raft wants done since the previous `ready()`. Handle in this
/// order: persist `snapshot` (resetting the log), then `entries` and
/// `hard_state`; send `messages` at once and `persisted_messages` only once
/// that persistence is durable; apply `committed` (already durable locally).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ready {
    pub hard_state: Option<HardState>,
    /// To append to the WAL. If `entries[0].index` is not after the last
    /// written index, the WAL drops everything from that index first.
    pub entries: Vec<Entry>,
    /// Received from the leader: persist it (discarding the whole log) and
    /// install it into the state machine before applying `committed`.
    pub snapshot: Option<Snapshot>,
    pub messages: Vec<Message>,
    /// Vote grants, append acknowledgements and a candidate's vote requests:
    /// they promise durability, so they go out only after this Ready is durable.
    pub persisted_messages: Vec<Message>,
    /// Committed entries to apply, in order.
    pub committed: Vec<Entry>,
    pub read_states: Vec<ReadState>,
    /// Contexts of reads (`read_index`) that will never get a `ReadState`:
    /// the leadership they were asked of ended. Fail them.
    pub dropped_reads: Vec<u64>,
    /// Role or known leader changed; read `status()`.
    pub leader_changed: bool,
}

impl Ready {
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.entries.is_empty()
            && self.snapshot.is_none()
            && self.messages.is_empty()
            && self.persisted_messages.is_empty()
            && self.committed.is_empty()
            && self.read_states.is_empty()
            && self.dropped_reads.is_empty()
            && !self.leader_changed
    }
}

/// A confirmed linearizable read: serve the read with context `ctx` once
/// the state machine has applied at least `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadState {
    pub ctx: u64,
    pub index: Index,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposeError {
    /// Only the leader accepts proposals; `leader` is the one this machine knows.
    NotLeader { leader: Option<NodeId> },
    /// A configuration change is proposed but not yet applied.
    ConfChangePending,
    /// Refused for another reason (e.g. the change would leave no voter).
    Dropped,
}

impl std::fmt::Display for ProposeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProposeError::NotLeader { leader: Some(l) } => write!(f, "not leader (leader is {l})"),
            ProposeError::NotLeader { leader: None } => write!(f, "not leader (no leader known)"),
            ProposeError::ConfChangePending => write!(f, "a configuration change is pending"),
            ProposeError::Dropped => write!(f, "proposal dropped"),
        }
    }
}

impl std::error::Error for ProposeError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

/// How the leader replicates to one follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressState {
    /// Finding where the logs agree: one append in flight at a time.
    Probe,
    /// Streaming: up to `max_inflight` appends in flight.
    Replicate,
    /// Waiting for a snapshot at this index to be installed.
    Snapshot { index: Index },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressStatus {
    pub match_index: Index,
    pub next_index: Index,
    pub state: ProgressState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub id: NodeId,
    pub term: Term,
    pub role: Role,
    pub leader: Option<NodeId>,
    pub commit: Index,
    /// The last index handed to the application to apply (or installed snapshot).
    pub applied: Index,
    pub voters: Vec<NodeId>,
    /// Per follower; empty unless leader.
    pub progress: BTreeMap<NodeId, ProgressStatus>,
}
