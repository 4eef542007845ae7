//! The snapshot thread: encodes a copy of the store taken by the state
//! thread and writes it as a snapshot file (temp file, fsync, rename), so
//! neither the state thread nor the WAL thread's group commit waits for a
//! large tree to be serialised and written. It reports the durable
//! snapshot back (its position only: the data stays in the file); the state thread then lets Raft and the WAL compact.

use std::path::PathBuf;

use crossbeam_channel::{Receiver, Sender};
use log::error;

use crate::raft::types::{Snapshot, SnapshotMeta};
use crate::store::StoreImage;
use crate::wal::snapshot_file;

use super::snapshot_data::SnapshotData;
use crate::auth::AuthState;
use crate::membership::{ClusterConfig, Members};

pub struct SnapshotJob {
    pub meta: SnapshotMeta,
    pub store: StoreImage,
    pub members: Members,
    pub config: ClusterConfig,
    pub auth: AuthState,
}

pub fn run(snap_dir: PathBuf, jobs: Receiver<SnapshotJob>, done: Sender<Snapshot>) {
    for job in jobs {
        let started = std::time::Instant::now();
        let SnapshotJob {
            meta,
            store,
            members,
            config,
            auth,
        } = job;
        let data = store.encode_after(SnapshotData::head(&members, config, &auth));
        // The tree's nodes only this image still shared go here, off the
        // state thread.
        drop(store);
        let snap = Snapshot { meta, data };
        if let Err(e) = snapshot_file::write(&snap_dir, &snap) {
            error!(
                "cannot write a snapshot in {}: {e}; stopping",
                snap_dir.display()
            );
            std::process::exit(1);
        }
        crate::metrics::global()
            .snapshot_save_duration
            .observe(started.elapsed());
        // Raft keeps only the position; the data is read back from the
        // file when a follower needs it (see `snapshot_file::stub`).
        let written = snapshot_file::stub(snap.meta.clone());
        // The tree's copy and its encoding are gone: give their pages back.
        drop(snap);
        super::heap::release_free_memory();
        if done.send(written).is_err() {
            return;
        }
    }
}
