//! Opening a data dir: take its lock, recover the log and the newest
//! snapshot, and rebuild what the state thread starts from.
//!
//! Layout of `<data-dir>/`: `lock` (held while running), `name` (this
//! machine's name, so a restart needs no `-name`), `wal/` and `snap/` (see
//! `wal`), and `etcd-0.4/` when the dir was etcd 0.4's (see `takeover`).

use std::fs::{self, File};
use std::path::Path;

use log::{info, warn};

use crate::raft::Bootstrap;
use crate::raft::types::{ConfChange, ConfState, EntryKind, Index, NodeId, Snapshot, Term};
use crate::store::Store;
use crate::wal::{Wal, WalOptions};

use super::command::Command;
use super::snapshot_data::SnapshotData;
use crate::auth::AuthState;
use crate::membership::{ClusterConfig, Members};

pub struct Recovered {
    /// Held for the life of the process: a second etcd on this data dir is refused.
    pub lock: File,
    pub wal: Wal,
    /// The last entry written to the log (what the WAL thread starts from).
    pub last: (Index, Term),
    pub bootstrap: Bootstrap,
    pub store: Store,
    pub members: Members,
    /// The cluster settings as of the committed log.
    pub config: ClusterConfig,
    /// Users, roles and the auth flag in the snapshot (where the state
    /// thread starts applying from).
    pub auth: AuthState,
    /// The same as of the committed log: what the HTTP threads check
    /// against from the first request, before the log is re-applied.
    pub auth_committed: AuthState,
    /// Where the store stands: the snapshot it was restored from.
    pub applied: (Index, Term),
    /// Nothing was ever written here: a new member.
    pub fresh: bool,
    /// The snapshot the store was restored from; Raft keeps it to send to
    /// members that fall behind the compacted log.
    pub snapshot: Option<Snapshot>,
}

pub fn open(
    data_dir: &Path,
    name: &str,
    force: bool,
    wal_options: WalOptions,
) -> Result<Recovered, String> {
    fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", data_dir.display()))?;
    let lock_path = data_dir.join("lock");
    let had_lock_file = lock_path.exists();
    let lock = take_lock(data_dir)?;
    if force {
        super::takeover::set_aside_for_force(data_dir)?;
        for sub in ["wal", "snap"] {
            let path = data_dir.join(sub);
            if path.exists() {
                fs::remove_dir_all(&path)
                    .map_err(|e| format!("-force: cannot remove {}: {e}", path.display()))?;
            }
        }
        let standby_info = data_dir.join(crate::cluster::standby_info::FILE_NAME);
        if standby_info.exists() {
            fs::remove_file(&standby_info)
                .map_err(|e| format!("-force: cannot remove {}: {e}", standby_info.display()))?;
        }
        warn!(
            "-force: discarded the log and snapshots in {}",
            data_dir.display()
        );
    }
    if !force && let Err(e) = super::takeover::take_over(data_dir, name, wal_options) {
        // A takeover that stops leaves the dir as it found it.
        if !had_lock_file {
            let _ = fs::remove_file(&lock_path);
        }
        return Err(e);
    }
    record_name(data_dir, name)?;

    let (wal, rec) = Wal::open(data_dir, wal_options).map_err(|e| e.to_string())?;
    if let Some((file, offset)) = &rec.truncated_tail {
        warn!(
            "cut a torn record at the end of the log: {} at offset {offset}",
            file.display()
        );
    }
    let mut store = Store::new();
    let mut members = Members::default();
    let mut config = ClusterConfig::default();
    let mut auth = AuthState::default();
    let mut voters: Vec<NodeId> = Vec::new();
    let mut applied = (0, 0);
    if let Some(snap) = &rec.snapshot {
        let data = SnapshotData::decode(&snap.data)?;
        store.restore(&data.store)?;
        members = data.members;
        config = data.config;
        auth = data.auth;
        voters = snap.meta.conf.voters.clone();
        applied = (snap.meta.index, snap.meta.term);
        info!("loaded snapshot at index {}", snap.meta.index);
    }
    // The voters, the members' addresses and the settings as the committed
    // log leaves them (what re-applying it will rebuild): the peer senders
    // and the search for the cluster need them before that; auth checks
    // need the users and roles from the first request on.
    let mut auth_committed = auth.clone();
    let committed = rec
        .entries
        .iter()
        .filter(|e| e.index <= rec.hard_state.commit);
    for entry in committed {
        if entry.kind == EntryKind::ConfChange
            && let Some(cc) = ConfChange::decode(&entry.data)
        {
            apply_conf(&mut voters, cc);
            continue;
        }
        if entry.data.is_empty() {
            continue;
        }
        let Ok(cmd) = Command::decode(&entry.data) else {
            continue;
        };
        if let Some(cc) = cmd.conf_change() {
            apply_conf(&mut voters, cc);
        }
        match cmd {
            Command::Join { member, .. } | Command::Move { member, .. } => members.upsert(member),
            Command::Remove { name, .. } => {
                members.remove(&name);
            }
            Command::SetConfig { config: c, .. } => config = c.raised(),
            // Refusals change nothing, as on the state thread.
            Command::Auth { cmd } => {
                let _ = auth_committed.apply(&cmd);
            }
            Command::Store { .. } | Command::ExpireDue { .. } => {}
        }
    }
    let last = rec
        .entries
        .last()
        .map(|e| (e.index, e.term))
        .unwrap_or(applied);
    let fresh = rec.snapshot.is_none() && rec.entries.is_empty() && rec.hard_state.term == 0;
    if !fresh {
        info!(
            "recovered the log: {} entries after index {}, committed up to {}",
            rec.entries.len(),
            applied.0,
            rec.hard_state.commit
        );
    }
    let bootstrap = Bootstrap {
        hard_state: rec.hard_state,
        snapshot: rec.snapshot.as_ref().map(|s| s.meta.clone()),
        entries: rec.entries,
        conf: ConfState { voters },
    };
    Ok(Recovered {
        lock,
        wal,
        last,
        bootstrap,
        store,
        members,
        config,
        auth,
        auth_committed,
        applied,
        fresh,
        snapshot: rec.snapshot,
    })
}

fn apply_conf(voters: &mut Vec<NodeId>, cc: ConfChange) {
    match cc {
        ConfChange::AddNode(id) => {
            if !voters.contains(&id) {
                voters.push(id);
                voters.sort_unstable();
            }
        }
        ConfChange::RemoveNode(id) => voters.retain(|v| *v != id),
    }
}

fn take_lock(data_dir: &Path) -> Result<File, String> {
    let path = data_dir.join("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => Err(format!(
            "data dir {} is in use by another etcd process",
            data_dir.display()
        )),
    }
}

/// Written once (and rewritten if the name changes) so that `-name` can be
/// left out on a restart.
fn record_name(data_dir: &Path, name: &str) -> Result<(), String> {
    let path = data_dir.join("name");
    if fs::read_to_string(&path).ok().as_deref().map(str::trim) == Some(name) {
        return Ok(());
    }
    crate::wal::replace_file(data_dir, "name", name.as_bytes())
        .map_err(|e| format!("cannot record the name in {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_open_of_the_same_data_dir_is_refused() {
        let dir = std::env::temp_dir().join(format!("etcd-boot-lock-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let first = open(&dir, "m1", false, WalOptions::default()).expect("first open");
        assert!(first.fresh);
        let second = open(&dir, "m1", false, WalOptions::default());
        assert!(matches!(second, Err(ref e) if e.contains("in use")));
        drop(first);
        assert_eq!(fs::read_to_string(dir.join("name")).unwrap(), "m1");
        let _ = fs::remove_dir_all(&dir);
    }
}
