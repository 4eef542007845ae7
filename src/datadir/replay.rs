//! Rebuilding a stopped member's data as of its commit index: the newest
//! snapshot, then every committed entry after it, applied as the state
//! thread applies them (the key store's own `apply`, and `server::replica`
//! for membership and settings). This is what the member would hold after
//! a restart, before it hears from anyone.

use crate::auth::AuthState;
use crate::membership::{ClusterConfig, Members};
use crate::raft::types::{ConfChange, EntryKind, Index, NodeId, Term};
use crate::server::command::Command;
use crate::server::replica;
use crate::server::snapshot_data::SnapshotData;
use crate::store::Store;
use crate::wal::read_only::LogReport;

/// The data at the last committed entry that could be read.
#[derive(Debug)]
pub struct Replayed {
    pub store: Store,
    pub members: Members,
    pub config: ClusterConfig,
    /// Users, roles and the auth flag.
    pub auth: AuthState,
    pub voters: Vec<NodeId>,
    /// What the newest snapshot covered.
    pub snapshot_index: Index,
    /// The last entry applied here (index, term).
    pub applied: (Index, Term),
    /// Entries that would not decode (the state thread skips them too).
    pub skipped: Vec<(Index, String)>,
}

/// Applies the log in `log` up to its hard state's commit index.
/// `progress` hears `(entries applied, entries to apply)`. Fails only if
/// the snapshot's contents cannot be decoded.
pub fn replay(log: &LogReport, progress: &mut dyn FnMut(u64, u64)) -> Result<Replayed, String> {
    let mut state = Replayed {
        store: Store::new(),
        members: Members::default(),
        config: ClusterConfig::default(),
        auth: AuthState::default(),
        voters: Vec::new(),
        snapshot_index: 0,
        applied: (0, 0),
        skipped: Vec::new(),
    };
    if let Some(snap) = &log.snapshot {
        let data = SnapshotData::decode(&snap.data)
            .map_err(|e| format!("snapshot at index {}: {e}", snap.meta.index))?;
        state
            .store
            .restore(&data.store)
            .map_err(|e| format!("snapshot at index {}: {e}", snap.meta.index))?;
        state.members = data.members;
        state.config = data.config;
        state.auth = data.auth;
        state.voters = snap.meta.conf.voters.clone();
        state.snapshot_index = snap.meta.index;
        state.applied = (snap.meta.index, snap.meta.term);
    }
    let commit = log.hard_state.commit;
    let due: Vec<_> = log
        .entries
        .iter()
        .filter(|e| e.index > state.applied.0 && e.index <= commit)
        .collect();
    let total = due.len() as u64;
    for (done, entry) in due.into_iter().enumerate() {
        state.applied = (entry.index, entry.term);
        if done.is_multiple_of(4096) {
            progress(done as u64, total);
        }
        if entry.kind == EntryKind::ConfChange
            && let Some(cc) = ConfChange::decode(&entry.data)
        {
            change_voters(&mut state.voters, cc);
            continue;
        }
        if entry.data.is_empty() {
            continue;
        }
        match Command::decode(&entry.data) {
            Ok(cmd) => apply(&mut state, cmd),
            Err(e) => state.skipped.push((entry.index, e)),
        }
    }
    progress(total, total);
    Ok(state)
}

/// One command, as `StateThread::apply` does it (errors are the clients'
/// answers, not the replay's concern).
fn apply(state: &mut Replayed, cmd: Command) {
    let Replayed {
        store,
        members,
        config,
        auth,
        voters,
        ..
    } = state;
    match cmd {
        Command::Store { time, cmd } => {
            let _ = store.apply(&cmd, time);
        }
        Command::ExpireDue { time } => {
            store.expire_due(time);
        }
        Command::Join { time, member } => {
            if replica::register(store, members, &member, time).is_ok() {
                change_voters(voters, ConfChange::AddNode(member.id));
            }
        }
        Command::Move { time, member } => {
            let _ = replica::register(store, members, &member, time);
        }
        Command::Remove { time, name } => {
            if let Some((gone, _)) = replica::unregister(store, members, &name, time) {
                change_voters(voters, ConfChange::RemoveNode(gone.id));
            }
        }
        Command::SetConfig {
            time,
            config: new,
            record,
        } => {
            let _ = replica::set_config(store, config, new, record, time);
        }
        Command::Auth { cmd } => {
            let _ = auth.apply(&cmd);
        }
    }
}

fn change_voters(voters: &mut Vec<NodeId>, cc: ConfChange) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::Member;
    use crate::raft::types::{Entry, HardState};
    use crate::store::{KeyPath, StoreCommand};

    fn entry(index: Index, cmd: &Command) -> Entry {
        Entry {
            term: 2,
            index,
            kind: EntryKind::Normal,
            data: cmd.encode(),
        }
    }

    #[test]
    fn committed_entries_are_applied_and_the_rest_is_not() {
        let m1 = Member::new("m1", "http://127.0.0.1:7001", "http://127.0.0.1:4001");
        let set = |key: &str| Command::Store {
            time: 1,
            cmd: StoreCommand::Set {
                key: KeyPath::parse(key),
                value: "v".into(),
                dir: false,
                ttl: None,
            },
        };
        let log = LogReport {
            entries: vec![
                entry(
                    1,
                    &Command::Join {
                        time: 1,
                        member: m1.clone(),
                    },
                ),
                entry(2, &set("/a")),
                Entry {
                    data: b"garbage".to_vec(),
                    ..entry(3, &set("/x"))
                },
                entry(4, &set("/b")),
                entry(5, &set("/not-committed")),
                entry(
                    6,
                    &Command::Auth {
                        cmd: crate::auth::AuthCommand::Enable,
                    },
                ),
            ],
            hard_state: HardState {
                term: 2,
                vote: m1.id,
                commit: 4,
            },
            ..LogReport::default()
        };
        let mut calls = 0;
        let state = replay(&log, &mut |_, _| calls += 1).unwrap();
        assert_eq!(state.applied, (4, 2));
        assert_eq!(state.store.index(), 3, "join, /a, /b");
        assert_eq!(state.voters, vec![m1.id]);
        assert_eq!(state.members.get("m1"), Some(&m1));
        assert_eq!(state.skipped.len(), 1);
        assert!(calls >= 1);
        assert!(!state.auth.enabled(), "the auth entry is past the commit");
        let counts = state.store.key_space().counts();
        assert_eq!(counts.files, 3, "the registry entry, /a and /b");
    }

    #[test]
    fn auth_entries_are_applied_with_the_rest() {
        use crate::auth::{AuthCommand, PasswordHash, UserChange};
        let root = Command::Auth {
            cmd: AuthCommand::PutUser(UserChange {
                name: "root".into(),
                password: Some(PasswordHash::with_iterations("pw", 10).unwrap()),
                roles: None,
                grant: vec![],
                revoke: vec![],
            }),
        };
        let enable = Command::Auth {
            cmd: AuthCommand::Enable,
        };
        let log = LogReport {
            entries: vec![entry(1, &enable), entry(2, &root), entry(3, &enable)],
            hard_state: HardState {
                term: 2,
                vote: 0,
                commit: 3,
            },
            ..LogReport::default()
        };
        let state = replay(&log, &mut |_, _| {}).unwrap();
        // The first enable was refused (no root yet) and changed nothing.
        assert!(state.auth.enabled());
        assert!(state.auth.user("root").unwrap().password.verify("pw"));
        assert_eq!(state.store.index(), 0, "auth never touches the key space");
    }
}
