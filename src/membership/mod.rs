//! Who belongs to the cluster: the member table, the cluster-wide settings
//! of etcd 0.4 (`activeSize`, `removeDelay`, `syncInterval`), and the
//! decisions built on them — whom the leader admits, whom it removes
//! (unresponsive members, members above `activeSize`), and what a standby
//! does after it has looked at the cluster.
//!
//! Pure: every decision is a function of the replicated state (what the log
//! says), a clock value and contact times passed in by the caller. No IO, no
//! clocks, no threads. The state thread drives the leader's side; the
//! standby loop in `cluster/` drives the standby's side. Changes to the
//! voters are proposed one at a time through Raft's membership entries, so
//! each is committed by a majority of the configuration before it.

mod admission;
mod config;
mod listing;
mod members;
mod removal;
#[cfg(test)]
mod sim;
mod standby;

pub use admission::{Admission, Refusal, admit};
pub use config::{
    ClusterConfig, ConfigPatch, ConfigPatchError, DEFAULT_ACTIVE_SIZE, DEFAULT_REMOVE_DELAY_S,
    DEFAULT_SYNC_INTERVAL_S, MIN_ACTIVE_SIZE, MIN_REMOVE_DELAY_S, MIN_SYNC_INTERVAL_S,
};
pub use listing::{MachineEntry, MachineState};
pub use members::{MACHINES_DIR, Member, Members, node_id_for, parse_registry_value};
pub use removal::{Removal, RemovalInput, RemovalReason, next_removal};
pub use standby::{MembershipVerdict, StandbyStep, judge_membership, next_standby_step};
