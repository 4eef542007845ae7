//! Raft consensus as a pure, deterministic state machine (Raft paper,
//! plus PreVote and CheckQuorum from the thesis), in the style of
//! etcd's raft: the application feeds in ticks, peer messages and
//! proposals, and collects a [`Ready`] of things to persist, send and apply.
//!
//! This module owns: terms and votes, the in-memory log, elections,
//! replication flow control, commit, read-index and membership changes.
//! It never does IO, never reads a clock, never spawns threads, and never
//! lets hash-map iteration order influence anything.

mod conf_change;
mod config;
mod election;
mod log;
mod message;
mod node;
mod progress;
mod proposals;
mod quorum;
mod read_index;
mod ready;
mod replication;
mod rng;
mod step;
pub mod types;

#[cfg(test)]
mod tests;

pub use config::{Bootstrap, Config};
pub use message::{Message, MessageBody};
pub use node::Raft;
pub use ready::{ProgressState, ProgressStatus, ProposeError, ReadState, Ready, Role, Status};
pub use types::{
    ConfChange, ConfState, Entry, EntryKind, HardState, Index, NodeId, Snapshot, SnapshotMeta, Term,
};
