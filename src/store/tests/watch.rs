//! §8.2–8.5 live watches.

use super::*;
use crate::store::{Action, WatchOutcome, WatcherId};

fn wait(store: &mut Store, raw: &str, recursive: bool, stream: bool) -> WatcherId {
    match store.watch(&key(raw), recursive, stream, None).unwrap() {
        WatchOutcome::Waiting(id) => id,
        WatchOutcome::Ready(event) => panic!("unexpected ready event {}", event.to_json()),
    }
}

fn notified_keys(store: &mut Store, id: WatcherId) -> Vec<String> {
    store
        .take_notifications()
        .into_iter()
        .filter(|(watcher, _)| *watcher == id)
        .map(|(_, event)| event.node.key)
        .collect()
}

#[test]
fn watch_without_index_waits_for_the_next_change() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/k", "old"));
    let id = wait(&mut store, "/k", false, false);
    assert!(store.take_notifications().is_empty());
    let write = ok(&mut store, set_cmd("/k", "new"));
    let notes = store.take_notifications();
    assert_eq!(notes, vec![(id, write)]);
}

#[test]
fn one_shot_watcher_fires_once_and_is_removed() {
    let mut store = Store::new();
    let id = wait(&mut store, "/k", false, false);
    assert_eq!(store.stats().watchers, 1);
    ok(&mut store, set_cmd("/k", "1"));
    ok(&mut store, set_cmd("/k", "2"));
    assert_eq!(notified_keys(&mut store, id), ["/k"]);
    assert_eq!(store.stats().watchers, 0);
}

#[test]
fn stream_watcher_stays_and_gets_every_event() {
    let mut store = Store::new();
    let id = wait(&mut store, "/k", false, true);
    ok(&mut store, set_cmd("/k", "1"));
    ok(&mut store, update_cmd("/k", "2", None));
    ok(&mut store, delete_cmd("/k", false, false));
    let actions: Vec<Action> = store
        .take_notifications()
        .into_iter()
        .filter(|(watcher, _)| *watcher == id)
        .map(|(_, event)| event.action)
        .collect();
    assert_eq!(actions, [Action::Set, Action::Update, Action::Delete]);
    assert_eq!(store.stats().watchers, 1);
}

#[test]
fn watch_is_notified_for_set_cas_cad_and_expire() {
    let mut store = Store::new();
    let id = wait(&mut store, "/k", false, true);
    ok(&mut store, set_cmd("/k", "a"));
    ok(&mut store, cas_cmd("/k", "b", Some("a"), 0));
    ok(&mut store, cad_cmd("/k", Some("b"), 0));
    ok(&mut store, set_ttl_cmd("/k", "c", 1));
    store.expire_due(T0 + SECOND);
    let actions: Vec<Action> = store
        .take_notifications()
        .into_iter()
        .filter(|(watcher, _)| *watcher == id)
        .map(|(_, event)| event.action)
        .collect();
    assert_eq!(
        actions,
        [
            Action::Set,
            Action::CompareAndSwap,
            Action::CompareAndDelete,
            Action::Set,
            Action::Expire
        ]
    );
}

#[test]
fn non_recursive_watch_on_dir_ignores_children() {
    let mut store = Store::new();
    ok(&mut store, mkdir_cmd("/d"));
    let id = wait(&mut store, "/d", false, false);
    ok(&mut store, set_cmd("/d/child", "v"));
    assert!(notified_keys(&mut store, id).is_empty());
    ok(&mut store, update_cmd("/d", "", Some(10)));
    assert_eq!(notified_keys(&mut store, id), ["/d"]);
}

#[test]
fn recursive_watch_sees_the_subtree_but_not_siblings_with_a_common_prefix() {
    let mut store = Store::new();
    let id = wait(&mut store, "/d", true, true);
    ok(&mut store, set_cmd("/dx", "sibling"));
    ok(&mut store, set_cmd("/d/a/b", "deep"));
    assert_eq!(notified_keys(&mut store, id), ["/d/a/b"]);
}

#[test]
fn recursive_watch_skips_hidden_descendants() {
    let mut store = Store::new();
    let on_root = wait(&mut store, "/", true, true);
    ok(&mut store, set_cmd("/_etcd/machines/m1", "raft=x"));
    ok(&mut store, set_cmd("/d/_h", "h"));
    ok(&mut store, set_cmd("/d/v", "v"));
    assert_eq!(notified_keys(&mut store, on_root), ["/d/v"]);
}

#[test]
fn watch_inside_hidden_dir_sees_its_own_subtree() {
    let mut store = Store::new();
    let id = wait(&mut store, "/_foo/bar", true, false);
    ok(&mut store, set_cmd("/_foo/bar/baz", "v"));
    assert_eq!(notified_keys(&mut store, id), ["/_foo/bar/baz"]);
}

#[test]
fn exact_watch_on_hidden_key_is_notified() {
    let mut store = Store::new();
    let id = wait(&mut store, "/_etcd/machines/m1", false, false);
    ok(&mut store, set_cmd("/_etcd/machines/m1", "raft=x"));
    assert_eq!(notified_keys(&mut store, id), ["/_etcd/machines/m1"]);
}

#[test]
fn watch_on_child_sees_parent_delete() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/pd/child", "v"));
    let id = wait(&mut store, "/pd/child", false, false);
    let write = ok(&mut store, delete_cmd("/pd", false, true));
    let notes = store.take_notifications();
    assert_eq!(notes, vec![(id, write.clone())]);
    assert!(
        write
            .to_json()
            .starts_with("{\"action\":\"delete\",\"node\":{\"key\":\"/pd\",\"dir\":true,")
    );
}

#[test]
fn watch_on_hidden_child_sees_parent_expire() {
    let mut store = Store::new();
    let dir_with_ttl = StoreCommand::Set {
        key: key("/pd"),
        value: String::new(),
        dir: true,
        ttl: Some(1),
    };
    ok(&mut store, dir_with_ttl);
    ok(&mut store, set_cmd("/pd/_hidden", "v"));
    let id = wait(&mut store, "/pd/_hidden", false, false);
    store.expire_due(T0 + SECOND);
    let notes = store.take_notifications();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].0, id);
    assert_eq!(notes[0].1.action, Action::Expire);
    assert_eq!(notes[0].1.node.key, "/pd");
}

#[test]
fn recursive_watch_inside_a_deleted_dir_is_told() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/pd/sub/x", "v"));
    let id = wait(&mut store, "/pd/sub", true, false);
    ok(&mut store, delete_cmd("/pd", true, true));
    assert_eq!(notified_keys(&mut store, id), ["/pd"]);
}

#[test]
fn watch_on_path_that_did_not_exist_is_not_told_of_parent_delete() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/pd/child", "v"));
    let id = wait(&mut store, "/pd/never", false, false);
    ok(&mut store, delete_cmd("/pd", false, true));
    assert!(notified_keys(&mut store, id).is_empty());
    assert_eq!(store.stats().watchers, 1);
}

#[test]
fn stream_watcher_gets_a_directory_delete_once() {
    let mut store = Store::new();
    ok(&mut store, mkdir_cmd("/d"));
    let id = wait(&mut store, "/d", false, true);
    ok(&mut store, delete_cmd("/d", true, false));
    assert_eq!(notified_keys(&mut store, id), ["/d"]);
}

#[test]
fn failed_writes_notify_nobody() {
    let mut store = Store::new();
    ok(&mut store, create_cmd("/k", "v"));
    wait(&mut store, "/k", false, false);
    fails(&mut store, create_cmd("/k", "again"));
    fails(&mut store, cas_cmd("/k", "x", Some("nope"), 0));
    assert!(store.take_notifications().is_empty());
}

#[test]
fn watch_from_future_index_waits_until_it_is_reached() {
    let mut store = Store::new();
    let id = match store.watch(&key("/k"), false, true, Some(3)).unwrap() {
        WatchOutcome::Waiting(id) => id,
        WatchOutcome::Ready(event) => panic!("nothing is in history yet: {event:?}"),
    };
    ok(&mut store, set_cmd("/k", "1"));
    ok(&mut store, set_cmd("/k", "2"));
    assert!(notified_keys(&mut store, id).is_empty());
    ok(&mut store, set_cmd("/k", "3"));
    assert_eq!(notified_keys(&mut store, id), ["/k"]);
}

#[test]
fn cancelled_watcher_is_gone_with_its_pending_events() {
    let mut store = Store::new();
    let id = wait(&mut store, "/k", false, true);
    ok(&mut store, set_cmd("/k", "1"));
    store.cancel_watch(id);
    assert!(store.take_notifications().is_empty());
    assert_eq!(store.stats().watchers, 0);
    ok(&mut store, set_cmd("/k", "2"));
    assert!(store.take_notifications().is_empty());
}

#[test]
fn watch_events_carry_ttl_as_of_the_event() {
    let mut store = Store::new();
    let id = wait(&mut store, "/t", false, false);
    let write = store.apply(&set_ttl_cmd("/t", "v", 60), T0).unwrap();
    let notes = store.take_notifications();
    assert_eq!(notes, vec![(id, write)]);
    assert_eq!(notes[0].1.node.ttl, Some(60));
}

#[test]
fn the_key_index_tells_exactly_the_watchers_a_full_scan_would() {
    use crate::store::watch::key_matches;
    let keys = [
        "/", "/a", "/a/b", "/a/b/c", "/a/_h", "/a/_h/c", "/_x", "/_x/y", "/b", "/ab", "/a/bc",
    ];
    for changed in ["/a/b/c", "/a/_h/c", "/_x/y", "/ab", "/a/bc", "/b"] {
        for delete_dir in [false, true] {
            if delete_dir && key(changed).parent().is_some_and(|p| p.is_root()) {
                continue; // the root cannot be deleted
            }
            let mut store = Store::new();
            for k in ["/a/b/c", "/a/_h/c", "/_x/y", "/ab", "/a/bc", "/b"] {
                ok(&mut store, set_cmd(k, "v"));
            }
            let mut watching = Vec::new();
            for watched in keys {
                for recursive in [false, true] {
                    let id = wait(&mut store, watched, recursive, false);
                    watching.push((id, key(watched), recursive));
                }
            }
            // A write on the key, or a recursive delete of its parent (which
            // removes the key and its siblings too).
            let target = if delete_dir {
                key(changed).parent().unwrap()
            } else {
                key(changed)
            };
            if delete_dir {
                ok(&mut store, delete_cmd(target.as_str(), true, true));
            } else {
                ok(&mut store, set_cmd(changed, "w"));
            }
            let told: Vec<WatcherId> = store
                .take_notifications()
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            let expected: Vec<WatcherId> = watching
                .iter()
                .filter(|(_, watched, recursive)| {
                    key_matches(watched, *recursive, &target)
                        || (delete_dir && (watched == &target || watched.is_below(&target)))
                })
                .map(|(id, _, _)| *id)
                .collect();
            assert_eq!(told, expected, "{changed} (delete dir: {delete_dir})");
        }
    }
}
