//! Snapshots and backups on the state thread: installing the leader's
//! snapshot, taking one every `snapshot_count` applied entries and
//! compacting once it is durable, and the copy a backup streams. Both only
//! copy the applied state here; other threads encode and write it.

use std::time::Instant;

use crossbeam_channel::Sender;
use log::{info, warn};

use crate::raft::types::{ConfState, Snapshot, SnapshotMeta};

use super::super::clock::now_nanos;
use super::super::snapshot_data::SnapshotData;
use super::super::snapshotter::SnapshotJob;
use super::super::wal_thread::WalJob;
use super::StateThread;

impl StateThread {
    pub(super) fn install_snapshot(&mut self, snap: &Snapshot) {
        match SnapshotData::split(&snap.data) {
            Ok(data) => {
                if let Err(e) = self.store.restore(data.store) {
                    warn!("snapshot from the leader has an unreadable store: {e}");
                    std::process::exit(1);
                }
                self.members = data.members;
                self.cluster_config = data.config;
                self.auth = data.auth;
                self.cfg.auth_view.publish(self.auth.clone());
                self.refresh_routes();
                self.applied = snap.meta.index;
                self.applied_term = snap.meta.term;
                self.snapshot_index = snap.meta.index;
                // Raft kept a copy to send on; the WAL thread writes this
                // one to a file, which is where the senders will read it.
                self.raft
                    .compact(crate::wal::snapshot_file::stub(snap.meta.clone()));
                info!(
                    "{}: installed snapshot at index {}",
                    self.cfg.me.name, snap.meta.index
                );
            }
            Err(e) => {
                warn!("snapshot from the leader is unreadable: {e}");
                std::process::exit(1);
            }
        }
    }

    /// Every `snapshot_count` applied entries the tree is written out and the
    /// log before it dropped, so the data dir stays bounded. Only a copy is
    /// taken here; the snapshot thread encodes and writes it.
    pub(super) fn maybe_snapshot(&mut self) {
        let count = self.cfg.snapshot_count;
        if count == 0 || self.snapshot_in_flight || self.applied < self.snapshot_index + count {
            return;
        }
        let job = SnapshotJob {
            meta: SnapshotMeta {
                index: self.applied,
                term: self.applied_term,
                conf: ConfState {
                    voters: self.raft.status().voters.clone(),
                },
            },
            store: self.store.image(),
            members: self.members.clone(),
            config: self.cluster_config,
            auth: self.auth.clone(),
        };
        if self.snapshots.send(job).is_ok() {
            self.snapshot_in_flight = true;
        }
    }

    /// The snapshot file is durable: Raft may drop the entries it covers
    /// (and send it to members that need them), and the WAL its segments.
    pub(super) fn on_snapshot_written(&mut self, snap: Snapshot) {
        self.snapshot_in_flight = false;
        let meta = snap.meta.clone();
        // A newer snapshot from the leader may have been installed meanwhile.
        if meta.index >= self.snapshot_index {
            self.snapshot_index = meta.index;
            self.raft.compact(snap);
        }
        self.send_to_wal(WalJob::Compact(meta));
    }

    /// A backup's copy of the data at the applied index: the tree is taken
    /// as for a snapshot (O(1), sharing its nodes), and the asking
    /// connection's thread encodes and streams it, so writes do not wait.
    pub(super) fn copy_for_backup(&self, reply: Sender<crate::backup::Source>) {
        let started = Instant::now();
        let source = crate::backup::Source {
            key_space: self.store.key_space(),
            members: self.members.clone(),
            config: self.cluster_config,
            auth: self.auth.clone(),
            raft_index: self.applied,
            raft_term: self.applied_term,
            taken_by: self.cfg.me.name.clone(),
            taken_at: now_nanos(),
            origin: crate::backup::Origin::Online,
        };
        info!(
            "{}: backup at store index {} (raft index {}): key space copied in {} ms",
            self.cfg.me.name,
            source.key_space.index(),
            self.applied,
            started.elapsed().as_millis()
        );
        let _ = reply.send(source);
    }
}
