//! The WAL thread: the only place where the state thread's decisions become
//! durable. It drains every job queued while the previous fsync ran and
//! covers them all with one `fdatasync` (group commit), then tells the state
//! thread how far the log is durable, handing back the messages that were
//! waiting for that (vote grants, append acknowledgements).
//!
//! A batch that only moves the commit index is written but not synced (the
//! rule of etcd's `raft.MustSync`): a commit index lost in a crash is
//! learnt again from the leader or re-established by the next election,
//! while every entry and every term or vote still reaches the disk before
//! anyone hears of it. Without it each write cost two syncs (the entry,
//! then the commit), and a follower synced on every heartbeat that
//! advanced its commit index; with slow disks that doubled write latency.

use crossbeam_channel::{Receiver, Sender};
use log::{error, info};

use crate::raft::Message;
use crate::raft::types::{Entry, HardState, Index, NodeId, Snapshot, SnapshotMeta, Term};
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
    pub then_send: Vec<Message>,
}

/// Runs until the job channel closes. An IO error on the log is fatal: a
/// machine that cannot make its log durable must not keep acknowledging.
/// Whether a write must be synced before it is reported: entries always; a
/// hard state when its term or vote differs from the last one synced (None:
/// nothing synced yet in this run).
pub fn must_sync(
    entries: &[Entry],
    hard_state: Option<&HardState>,
    synced: Option<(Term, NodeId)>,
) -> bool {
    !entries.is_empty() || hard_state.is_some_and(|hs| synced != Some((hs.term, hs.vote)))
}

pub fn run(mut wal: Wal, last: (Index, Term), jobs: Receiver<WalJob>, done: Sender<Persisted>) {
    let (mut last_index, mut last_term) = last;
    // Term and vote of the newest hard state written, and of the newest synced.
    let mut written: Option<(Term, NodeId)> = None;
    let mut synced: Option<(Term, NodeId)> = None;
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        batch.extend(jobs.try_iter());
        let mut then_send = Vec::new();
        let mut wrote = false;
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
                        wrote |= must_sync(&entries, hard_state.as_ref(), synced);
                        if let Some(hs) = &hard_state {
                            written = Some((hs.term, hs.vote));
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
        if wrote {
            let started = std::time::Instant::now();
            if let Err(e) = wal.sync() {
                fatal(&e);
            }
            crate::metrics::global()
                .wal_fsync_duration
                .observe(started.elapsed());
            synced = written;
        }
        let report = Persisted {
            index: last_index,
            term: last_term,
            then_send,
        };
        if done.send(report).is_err() {
            return;
        }
    }
}

fn fatal(e: &std::io::Error) -> ! {
    error!("cannot write the log: {e}; stopping so no unsaved write is acknowledged");
    std::process::exit(1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::types::EntryKind;

    fn hs(term: Term, vote: NodeId, commit: Index) -> HardState {
        HardState { term, vote, commit }
    }

    #[test]
    fn entries_terms_and_votes_are_synced_and_a_commit_index_alone_is_not() {
        let entry = Entry {
            term: 2,
            index: 7,
            kind: EntryKind::Normal,
            data: Vec::new(),
        };
        let synced = Some((2, 1));
        assert!(must_sync(&[entry], None, synced));
        assert!(!must_sync(&[], Some(&hs(2, 1, 7)), synced));
        assert!(must_sync(&[], Some(&hs(3, 0, 7)), synced), "new term");
        assert!(must_sync(&[], Some(&hs(2, 3, 7)), Some((2, 0))), "a vote");
        assert!(
            must_sync(&[], Some(&hs(2, 1, 7)), None),
            "first in this run"
        );
        assert!(!must_sync(&[], None, synced));
    }
}
