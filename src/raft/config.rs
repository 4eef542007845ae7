//! How a Raft machine is configured and what it restarts from.

use super::types::{ConfState, Entry, HardState, NodeId, SnapshotMeta};

#[derive(Debug, Clone)]
pub struct Config {
    pub id: NodeId,
    /// Base election timeout in ticks; each timeout is drawn from
    /// `[election_tick, 2 * election_tick)`.
    pub election_tick: usize,
    /// A leader sends heartbeats every `heartbeat_tick` ticks.
    pub heartbeat_tick: usize,
    /// A leader that has not heard from a quorum within an election
    /// timeout steps down.
    pub check_quorum: bool,
    /// Ask for votes without raising the term first.
    pub pre_vote: bool,
    /// Appends in flight per follower while streaming.
    pub max_inflight: usize,
    /// Upper bound on entry bytes per append (at least one entry is sent).
    pub max_batch_bytes: u64,
    /// Seeds the election-timeout PRNG.
    pub seed: u64,
}

impl Config {
    /// Values that fit a LAN with a 100 ms tick.
    pub fn new(id: NodeId) -> Config {
        Config {
            id,
            election_tick: 10,
            heartbeat_tick: 1,
            check_quorum: true,
            pre_vote: true,
            max_inflight: 256,
            max_batch_bytes: 1 << 20,
            seed: id,
        }
    }
}

/// What the machine had persisted (or, for a brand-new one, the initial
/// configuration).
#[derive(Debug, Clone, Default)]
pub struct Bootstrap {
    pub hard_state: HardState,
    pub snapshot: Option<SnapshotMeta>,
    /// The WAL's entries after the snapshot, contiguous.
    pub entries: Vec<Entry>,
    /// Used when `snapshot` is None. For a brand-new machine (nothing
    /// persisted), the initial voters (`[self]` for a new single-member
    /// cluster; identical lists on every machine of a new multi-member
    /// cluster). `[]` for a machine joining an existing cluster: it learns
    /// the configuration from the leader's log or snapshot.
    pub conf: ConfState,
}
