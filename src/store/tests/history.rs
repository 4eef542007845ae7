//! §8.3 the 1000-event history behind `waitIndex`, and ruling 13.

use super::*;
use crate::store::{Action, Event, HISTORY_CAPACITY, WatchOutcome};

fn ready(store: &mut Store, raw: &str, recursive: bool, since: u64) -> Event {
    match store
        .watch(&key(raw), recursive, false, Some(since))
        .unwrap()
    {
        WatchOutcome::Ready(event) => event,
        WatchOutcome::Waiting(_) => panic!("expected a history hit for {raw} since {since}"),
    }
}

fn waits(store: &mut Store, raw: &str, recursive: bool, since: u64) -> bool {
    matches!(
        store
            .watch(&key(raw), recursive, false, Some(since))
            .unwrap(),
        WatchOutcome::Waiting(_)
    )
}

#[test]
fn watch_with_index_returns_first_matching_event_at_or_after_it() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/k", "1"));
    ok(&mut store, set_cmd("/other", "x"));
    ok(&mut store, set_cmd("/k", "3"));
    assert_eq!(ready(&mut store, "/k", false, 1).index, 1);
    assert_eq!(ready(&mut store, "/k", false, 2).index, 3);
    assert_eq!(store.stats().watchers, 0, "a history hit registers nothing");
}

#[test]
fn history_recursive_match_is_under_the_key() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/dx", "sibling"));
    ok(&mut store, set_cmd("/d/a", "child"));
    assert_eq!(ready(&mut store, "/d", true, 1).node.key, "/d/a");
    assert_eq!(ready(&mut store, "/", true, 1).node.key, "/dx");
}

#[test]
fn history_without_match_waits_with_the_same_start_index() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/a", "1"));
    let id = match store.watch(&key("/k"), false, false, Some(1)).unwrap() {
        WatchOutcome::Waiting(id) => id,
        WatchOutcome::Ready(event) => panic!("{event:?}"),
    };
    let write = ok(&mut store, set_cmd("/k", "v"));
    assert_eq!(store.take_notifications(), vec![(id, write)]);
}

#[test]
fn history_cleared_after_1000_events_gives_401() {
    let mut store = store_at_index(1035);
    let error = store.watch(&key("/"), true, false, Some(5)).unwrap_err();
    assert_eq!(error.code, ErrorCode::EventIndexCleared);
    assert_eq!(error.cause, "the requested history has been cleared [36/5]");
    assert_eq!(error.index, 1035);
    assert_eq!(error.code.http_status(), 400);
}

#[test]
fn history_keeps_exactly_the_last_1000_events() {
    let mut store = Store::new();
    for i in 0..1100 {
        ok(&mut store, set_cmd("/k", &i.to_string()));
    }
    assert_eq!(store.history.len(), HISTORY_CAPACITY);
    assert_eq!(ready(&mut store, "/k", false, 101).index, 101);
    assert!(store.watch(&key("/k"), false, false, Some(100)).is_err());
}

#[test]
fn hidden_descendants_are_filtered_in_history_like_live() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/_etcd/machines/m1", "raft=x"));
    ok(&mut store, set_cmd("/d/_h", "hidden"));
    ok(&mut store, set_cmd("/d/v", "visible"));
    assert_eq!(ready(&mut store, "/", true, 1).node.key, "/d/v");
    assert_eq!(ready(&mut store, "/d", true, 1).node.key, "/d/v");
    // By exact path, and inside the hidden directory, they are found.
    assert_eq!(ready(&mut store, "/d/_h", false, 1).index, 2);
    assert_eq!(ready(&mut store, "/_etcd/machines", true, 1).index, 1);
}

#[test]
fn history_does_not_see_removals_of_ancestors() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/d/k", "v"));
    ok(&mut store, delete_cmd("/d", false, true));
    assert!(waits(&mut store, "/d/k", false, 2));
    assert_eq!(ready(&mut store, "/d", false, 2).action, Action::Delete);
}

#[test]
fn watch_from_index_beyond_newest_waits() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/k", "v"));
    assert!(waits(&mut store, "/k", false, 2));
    assert!(waits(&mut store, "/k", false, 0));
}
