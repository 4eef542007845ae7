//! Same log → same store on every machine; snapshots carry everything
//! needed to continue (§8.5).

use super::*;
use crate::store::WatchOutcome;

/// A mixed command sequence touching every operation, TTLs and failures.
fn script() -> Vec<(StoreCommand, UnixNanos)> {
    let mut commands = vec![
        (set_cmd("/_etcd/machines/m1", "raft=a&etcd=b"), T0),
        (set_cmd("/a/b/c", "1"), T0),
        (set_ttl_cmd("/t/x", "ttl", 3), T0 + 1),
        (post_cmd("/q", "job", false), T0 + 2),
        (post_cmd("/q", "", true), T0 + 3),
        (create_cmd("/a/b/c", "dup"), T0 + 4),
        (update_cmd("/a/b/c", "2", Some(60)), T0 + 5),
        (cas_cmd("/a/b/c", "3", Some("2"), 0), T0 + 6),
        (cas_cmd("/a/b/c", "4", Some("nope"), 0), T0 + 7),
        (mkdir_cmd("/e"), T0 + 8),
        (delete_cmd("/e", true, false), T0 + 9),
        (cad_cmd("/q/00000000000000000004", Some("job"), 0), T0 + 10),
    ];
    for i in 0..30 {
        commands.push((set_cmd(&format!("/many/{}", 29 - i), "v"), T0 + 11 + i));
    }
    commands
}

fn run(store: &mut Store) {
    for (command, now) in script() {
        let _ = store.apply(&command, now);
    }
    store.expire_due(T0 + 10 * SECOND);
}

#[test]
fn two_stores_fed_the_same_commands_have_identical_snapshots() {
    let mut first = Store::new();
    let mut second = Store::new();
    // Watchers are local and not part of a snapshot. (Plain reads are local
    // too, but their counters are in the snapshot, as in 0.4.6.)
    second.watch(&key("/"), true, true, None).unwrap();
    run(&mut first);
    run(&mut second);
    assert_eq!(first.index(), second.index());
    assert_eq!(first.snapshot(), second.snapshot());
    assert!(!first.snapshot().is_empty());
}

#[test]
fn restored_store_continues_where_the_snapshot_was_taken() {
    let mut original = Store::new();
    run(&mut original);
    ok(&mut original, set_ttl_cmd("/later", "v", 100));
    let mut restored = Store::new();
    restored.restore(&original.snapshot()).unwrap();
    assert_eq!(restored.index(), original.index());
    assert_eq!(restored.snapshot(), original.snapshot());
    assert_eq!(restored.next_expiration(), original.next_expiration());
    assert_eq!(restored.stats(), original.stats());
    assert!(restored.tree.expiration_index_is_consistent());
    let listing = |store: &mut Store| store.get(&key("/"), true, true, T0).unwrap().to_json();
    assert_eq!(listing(&mut restored), listing(&mut original));
    // The history survives: waitIndex works across the restore.
    let from_history = restored
        .watch(&key("/a/b/c"), false, false, Some(1))
        .unwrap();
    assert!(matches!(from_history, WatchOutcome::Ready(event) if event.index == 2));
    // And both keep going identically.
    let next = set_cmd("/after", "x");
    assert_eq!(restored.apply(&next, T0), original.apply(&next, T0));
}

#[test]
fn restore_keeps_watchers_and_does_not_tell_them_of_folded_changes() {
    let mut source = Store::new();
    ok(&mut source, set_cmd("/k", "from snapshot"));
    let mut lagging = Store::new();
    let id = match lagging.watch(&key("/k"), false, false, None).unwrap() {
        WatchOutcome::Waiting(id) => id,
        WatchOutcome::Ready(event) => panic!("{event:?}"),
    };
    lagging.restore(&source.snapshot()).unwrap();
    assert!(lagging.take_notifications().is_empty());
    assert_eq!(lagging.stats().watchers, 1);
    let write = ok(&mut lagging, set_cmd("/k", "later"));
    assert_eq!(lagging.take_notifications(), vec![(id, write)]);
}

#[test]
fn restore_refuses_garbage_and_keeps_the_old_state() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/k", "v"));
    let before = store.snapshot();
    assert!(store.restore(b"not json").is_err());
    assert!(store.restore(b"").is_err());
    let file_root = br#"{"index":1,"root":{"created_index":0,"modified_index":0,"expiration":null,"kind":{"File":"x"}},"history":{"events":[]},"stats":{"getsSuccess":0,"getsFail":0,"setsSuccess":0,"setsFail":0,"deleteSuccess":0,"deleteFail":0,"updateSuccess":0,"updateFail":0,"createSuccess":0,"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0}}"#;
    assert!(store.restore(file_root).is_err());
    assert_eq!(store.snapshot(), before);
}

#[test]
fn expiration_index_stays_consistent_through_every_operation() {
    let mut store = Store::new();
    run(&mut store);
    assert!(store.tree.expiration_index_is_consistent());
    ok(&mut store, set_ttl_cmd("/d/a", "v", 5));
    ok(&mut store, set_cmd("/d/a", "no ttl now"));
    ok(&mut store, set_ttl_cmd("/d/b", "v", 5));
    ok(&mut store, set_ttl_cmd("/keep", "v", 7));
    ok(&mut store, delete_cmd("/d", false, true));
    assert!(store.tree.expiration_index_is_consistent());
    assert_eq!(store.next_expiration(), Some(T0 + 7 * SECOND));
}

#[test]
fn an_image_encodes_to_the_snapshot_of_its_store() {
    let mut store = Store::new();
    run(&mut store);
    let image = store.image();
    // Later changes do not reach an image already taken.
    let expected = store.snapshot();
    store.apply(&set_cmd("/later", "x"), T0 + 100).unwrap();
    assert_eq!(image.encode(), expected);
}

#[test]
fn every_image_keeps_the_store_as_it_was_while_later_writes_change_shared_nodes() {
    // Directories are persistent maps (`node.rs`): an image shares the
    // tree's nodes, and later writes copy what they change. Take an image
    // after every command (so each write meets nodes shared with several
    // images), of large and deep directories too, and check that each still
    // encodes to the snapshot of its moment.
    let mut commands = script();
    for i in 0..300 {
        commands.push((set_cmd(&format!("/wide/{i:04}"), "x"), T0 + 100 + i));
    }
    for i in 0..300 {
        let target = format!("/wide/{:04}", (i * 7) % 300);
        let command = match i % 4 {
            0 => delete_cmd(&target, false, false),
            1 => set_ttl_cmd(&target, "ttl", 5),
            2 => set_cmd(&format!("{target}/under"), "nested"),
            _ => set_cmd(&format!("/deep/{i}/a/b/c"), "d"),
        };
        commands.push((command, T0 + 400 + i));
    }
    commands.push((delete_cmd("/wide", true, false), T0 + 800));
    let mut store = Store::new();
    let mut taken = Vec::new();
    for (command, now) in commands {
        let _ = store.apply(&command, now);
        taken.push((store.image(), store.snapshot()));
    }
    store.expire_due(T0 + 1_000 * SECOND);
    for (n, (image, expected)) in taken.iter().enumerate() {
        assert!(
            image.encode() == *expected,
            "image {n} changed after it was taken"
        );
    }
    // And a store restored from one of them is that store again.
    let (_, middle) = &taken[taken.len() / 2];
    let mut restored = Store::new();
    restored.restore(middle).unwrap();
    assert_eq!(restored.snapshot(), *middle);
}
