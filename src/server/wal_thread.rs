//! The WAL thread: the only place where the state thread's decisions become
//! durable. It drains every job queued while the previous fsync ran and
//! covers them all with one `fdatasync` (group commit), then sends the
//! messages that were waiting for that (vote grants, append
//! acknowledgements) itself, straight to the peers' queues, and tells the
//! state thread how far the log is durable. Sending here rather than from
//! the state thread takes a thread hand-off off every follower's
//! acknowledgement, which every write waits for.
//!
//! Only what Raft needs on disk is fsynced: entries, snapshots, and a hard
//! state whose term or vote changed. A hard state that only moves the commit
//! index is written (it survives kill -9) but rides on the next fsync: commit
//! is volatile in Raft, a restarted member learns it again from the leader,
//! and syncing it on its own put a second fsync in front of every next write
//! (the leader's and each follower's WAL were busy with the previous write's
//! commit when the next write's entry arrived). The state thread does not
//! even send such a hard state on its own: it rides on the next job with
//! entries, or goes on the next tick (`state/commit_hold.rs`).

use crossbeam_channel::{Receiver, Sender};
use log::{error, info};

use crate::raft::Message;
use crate::raft::types::{Entry, HardState, Index, Snapshot, SnapshotMeta, Term};
use crate::wal::Wal;

/// Work for the WAL thread, in the order the state thread produced it.
pub enum WalJob {
    /// One Raft `Ready`'s durable part.
    Persist {
        snapshot: Option<Snapshot>,
        entries: Vec<Entry>,
        hard_state: Option<HardState>,
        /// Sent only once all of the above is on disk.
        then_send: Vec<Message>,
    },
    /// A snapshot of this machine's own applied state is durable in its
    /// file (written by the snapshot thread): compact the log behind it.
    Compact(SnapshotMeta),
}

/// Reported back after each group commit.
pub struct Persisted {
    pub index: Index,
    pub term: Term,
}

/// Runs until the job channel closes. `send` takes the messages released
/// by each group commit. An IO error on the log is fatal: a machine that
/// cannot make its log durable must not keep acknowledging.
pub fn run(
    mut wal: Wal,
    last: (Index, Term),
    jobs: Receiver<WalJob>,
    done: Sender<Persisted>,
    mut send: impl FnMut(Vec<Message>),
) {
    let (mut last_index, mut last_term) = last;
    let mut written = wal.hard_state();
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        batch.extend(jobs.try_iter());
        let mut then_send = Vec::new();
        let mut wrote = false;
        let mut must_sync = false;
        for job in batch {
            let result = match job {
                WalJob::Persist {
                    snapshot,
                    entries,
                    hard_state,
                    then_send: msgs,
                } => {
                    then_send.extend(msgs);
                    let mut r = Ok(());
                    if let Some(snap) = snapshot {
                        must_sync = true;
                        last_index = snap.meta.index;
                        last_term = snap.meta.term;
                        r = wal.save_snapshot(&snap, true);
                        if r.is_ok() {
                            info!(
                                "installed snapshot at index {} from the leader",
                                snap.meta.index
                            );
                        }
                    }
                    if r.is_ok() && (!entries.is_empty() || hard_state.is_some()) {
                        if let Some(e) = entries.last() {
                            last_index = e.index;
                            last_term = e.term;
                        }
                        wrote = true;
                        must_sync |= !entries.is_empty()
                            || hard_state.is_some_and(|hs| !same_vote(&hs, &written));
                        if let Some(hs) = hard_state {
                            written = hs;
                        }
                        // What the records carry, near enough for a rate.
                        let bytes: usize = entries.iter().map(|e| e.data.len() + 24).sum();
                        crate::metrics::global().wal_write_bytes.add(bytes as u64);
                        r = wal.append(&entries, hard_state.as_ref());
                    }
                    r
                }
                WalJob::Compact(meta) => {
                    let index = meta.index;
                    let r = wal.compact_to(&meta);
                    if r.is_ok() {
                        info!("snapshot taken at index {index}; older log segments removed");
                    }
                    r
                }
            };
            if let Err(e) = result {
                fatal(&e);
            }
        }
        if must_sync {
            let started = std::time::Instant::now();
            if let Err(e) = wal.sync() {
                fatal(&e);
            }
            crate::metrics::global()
                .wal_fsync_duration
                .observe(started.elapsed());
        } else if wrote && let Err(e) = wal.flush() {
            fatal(&e);
        }
        send(then_send);
        let report = Persisted {
            index: last_index,
            term: last_term,
        };
        if done.send(report).is_err() {
            return;
        }
    }
}

/// Term and vote are what a member promised; only they must be durable
/// before it answers anyone.
fn same_vote(a: &HardState, b: &HardState) -> bool {
    a.term == b.term && a.vote == b.vote
}

fn fatal(e: &std::io::Error) -> ! {
    error!("cannot write the log: {e}; stopping so no unsaved write is acknowledged");
    std::process::exit(1);
}
