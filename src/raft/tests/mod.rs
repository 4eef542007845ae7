//! Tests that need whole clusters: a deterministic simulated network
//! (`harness`), the safety checks it enforces (`checks`), randomized fault
//! schedules (`sim`) and scenario tests of single rules (`scenarios`).

pub(crate) mod checks;
mod follower_reads;
pub(crate) mod harness;
mod scenarios;
mod sim;
