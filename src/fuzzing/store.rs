//! `store_apply`: committed log entries (one JSON `Command` per line, as
//! the leader proposes them) applied to the key store the way every
//! replica applies them; and the store checks other targets share.
//!
//! Checked: a write that succeeds moves the index by exactly one and says
//! so in its event, one that fails changes nothing; expiry events count up
//! one by one; the same entries give the same store twice; the store's
//! snapshot restores to a store with the same snapshot, and its key space
//! (what backups hold) to a store with the same key space.

use crate::raft::{ConfChange, Entry, EntryKind};
use crate::server::command::Command;
use crate::store::{KeyPath, Store, StoreCommand};

/// Applies one committed entry as the state thread does; returns the
/// voter change it makes, if any.
pub(super) fn apply_entry(store: &mut Store, entry: &Entry) -> Option<ConfChange> {
    if entry.kind == EntryKind::ConfChange
        && let Some(cc) = ConfChange::decode(&entry.data)
    {
        assert_eq!(ConfChange::decode(&cc.encode()), Some(cc));
        return Some(cc);
    }
    if entry.data.is_empty() {
        return None;
    }
    let cmd = Command::decode(&entry.data).ok()?;
    apply_command(store, &cmd);
    cmd.conf_change()
}

/// One command, with the index rules checked.
fn apply_command(store: &mut Store, cmd: &Command) {
    let before = store.index();
    match cmd {
        Command::Store { time, cmd } => match store.apply(cmd, *time) {
            Ok(event) => {
                assert_eq!(store.index(), before + 1, "a write moved the index by != 1");
                assert_eq!(event.index, store.index());
            }
            Err(_) => assert_eq!(store.index(), before, "a failed write moved the index"),
        },
        Command::ExpireDue { time } => {
            let events = store.expire_due(*time);
            for (n, event) in events.iter().enumerate() {
                assert_eq!(event.index, before + 1 + n as u64);
            }
            assert_eq!(store.index(), before + events.len() as u64);
            assert!(store.next_expiration().is_none_or(|at| at > *time));
        }
        _ => {}
    }
}

/// What must hold of any store, however it was built.
pub(super) fn check_store(store: &mut Store) {
    assert!(
        store.expirations_consistent(),
        "expiration index out of step"
    );
    let snapshot = store.snapshot();
    assert_eq!(
        store.image().encode(),
        snapshot,
        "image and snapshot differ"
    );
    let mut restored = Store::new();
    if restored.restore(&snapshot).is_ok() {
        assert_eq!(restored.snapshot(), snapshot, "snapshot round trip");
    }
    let space = store.key_space();
    let rebuilt = space.clone().into_store().key_space();
    assert_eq!(rebuilt.counts(), space.counts(), "key space round trip");
    let _ = store.get(&KeyPath::root(), true, true, 0);
    let _ = store.watch(&KeyPath::root(), true, false, Some(1));
}

/// Writes a few commands where a restored store's index or tree might
/// not expect them.
pub(super) fn poke(store: &mut Store) {
    let key = KeyPath::parse("/fuzz");
    let set = StoreCommand::Set {
        key: key.clone(),
        value: "v".into(),
        dir: false,
        ttl: Some(1),
    };
    let in_order = StoreCommand::Create {
        key,
        value: "w".into(),
        dir: false,
        ttl: None,
        in_order: true,
    };
    for cmd in [set, in_order] {
        apply_command(store, &Command::Store { time: 0, cmd });
    }
    apply_command(store, &Command::ExpireDue { time: i64::MAX });
}

pub fn store_apply(data: &[u8]) {
    let commands: Vec<Command> = data
        .split(|&b| b == b'\n')
        .filter_map(|line| Command::decode(line).ok())
        .collect();
    let mut store = Store::new();
    for cmd in &commands {
        assert_eq!(
            Command::decode(&cmd.encode()).as_ref(),
            Ok(cmd),
            "command round trip"
        );
        apply_command(&mut store, cmd);
    }
    let mut twin = Store::new();
    for cmd in &commands {
        apply_command(&mut twin, cmd);
    }
    assert_eq!(
        twin.snapshot(),
        store.snapshot(),
        "the same log gave two stores"
    );
    check_store(&mut store);
}
