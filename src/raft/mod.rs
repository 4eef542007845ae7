//! Raft consensus as a pure, deterministic state machine (Raft paper,
//! plus PreVote and CheckQuorum from the thesis), in the style of
//! etcd's raft: the application feeds in ticks, peer messages and
//! proposals, and collects a [`Ready`] of things to persist, send and apply.
//!
//! This module owns: terms and votes, the in-memory log, elections,
//! replication flow control, commit, read-index and membership changes.
//! It never does IO, never reads a clock, never spawns threads, and never
//! lets hash-map iteration order influence anything.
//!
//! How the application drives it (one thread owns the `Raft`):
//! - `tick()` at a fixed period; `step(msg)` for every peer message.
//! - Loop `while has_ready() { ready() }`: give `snapshot`, `entries` and
//!   `hard_state` to the WAL (in that order), send `messages` now and
//!   `persisted_messages` once the WAL has fsynced that Ready, apply
//!   `committed` (decode ConfChange entries with `ConfChange::decode` and
//!   call `apply_conf_change`), serve `read_states` once applied >= index,
//!   and fail the reads named in `dropped_reads`.
//! - After each fsync, `on_persisted(index, term)` of the last entry (or
//!   snapshot) written.
//! - After a restart, pass the loaded snapshot to `compact()` so Raft can
//!   send it to lagging followers.
//! - Tell `report_snapshot(id, ok)` whether a Snapshot message was
//!   delivered (Raft retries on its own after an election timeout of
//!   heartbeats otherwise), and `report_unreachable(id)` on send errors.

mod conf_change;
mod config;
mod election;
mod log;
mod message;
mod node;
mod progress;
mod proposals;
mod quorum;
mod read_forward;
mod read_index;
mod reads;
mod ready;
mod replication;
mod rng;
mod step;
pub mod types;

#[cfg(test)]
pub(crate) mod tests;

pub use config::{Bootstrap, Config};
pub use message::{Message, MessageBody};
pub use node::Raft;
pub use quorum::majority;
pub use ready::{ProgressState, ProgressStatus, ProposeError, ReadState, Ready, Role, Status};
pub use types::{
    ConfChange, ConfState, Entry, EntryKind, HardState, Index, NodeId, Snapshot, SnapshotMeta, Term,
};
