//! §7 TTL: expiry instants, `ttl` countdown, expire events.

use super::*;
use crate::store::{Action, format_rfc3339};

#[test]
fn ttl_expiry_is_entry_time_plus_seconds_and_reads_full_seconds() {
    let mut store = Store::new();
    let event = ok(&mut store, set_ttl_cmd("/t", "1", 5));
    assert_eq!(event.node.expiration, Some(T0 + 5 * SECOND));
    assert_eq!(event.node.ttl, Some(5));
    assert_eq!(
        format_rfc3339(T0 + 5 * SECOND),
        "2026-11-24T04:09:26.105715347Z"
    );
}

#[test]
fn ttl_counts_down_with_read_time_rounded_up() {
    let mut store = Store::new();
    ok(&mut store, set_ttl_cmd("/t", "1", 5));
    let at = |store: &mut Store, now| store.get(&key("/t"), false, false, now).unwrap().node.ttl;
    assert_eq!(at(&mut store, T0 + SECOND / 2), Some(5));
    assert_eq!(at(&mut store, T0 + SECOND), Some(4));
    assert_eq!(at(&mut store, T0 + 4 * SECOND + 1), Some(1));
    // Exactly at expiry ttl computes to 0 and is omitted.
    assert_eq!(at(&mut store, T0 + 5 * SECOND), None);
}

#[test]
fn ttl_goes_negative_for_a_node_past_expiry_not_yet_removed() {
    let mut store = Store::new();
    ok(&mut store, set_ttl_cmd("/t", "1", 1));
    let node = store
        .get(&key("/t"), false, false, T0 + 3 * SECOND)
        .unwrap()
        .node;
    assert_eq!(node.ttl, Some(-2));
}

#[test]
fn zero_ttl_shows_expiration_without_ttl_and_expires_at_next_tick() {
    let mut store = Store::new();
    let event = ok(&mut store, set_ttl_cmd("/z", "v", 0));
    assert_eq!(event.node.expiration, Some(T0));
    assert_eq!(event.node.ttl, None);
    assert!(!event.to_json().contains("\"ttl\""));
    assert_eq!(store.expire_due(T0).len(), 1);
}

#[test]
fn negative_ttl_is_accepted_and_shown_negative() {
    let mut store = Store::new();
    let event = ok(&mut store, set_ttl_cmd("/n", "v", -5));
    assert_eq!(event.node.ttl, Some(-5));
    assert!(event.to_json().contains("\"ttl\":-5"));
}

#[test]
fn expire_due_removes_nodes_at_or_before_now_only() {
    let mut store = Store::new();
    ok(&mut store, set_ttl_cmd("/t", "v", 5));
    assert!(store.expire_due(T0 + 5 * SECOND - 1).is_empty());
    assert!(get(&mut store, "/t").is_ok());
    assert_eq!(store.expire_due(T0 + 5 * SECOND).len(), 1);
    assert_eq!(
        get(&mut store, "/t").unwrap_err().code,
        ErrorCode::KeyNotFound
    );
}

#[test]
fn each_expired_node_takes_its_own_index_and_one_expire_event() {
    let mut store = Store::new();
    ok(&mut store, set_ttl_cmd("/a", "1", 1));
    ok(&mut store, set_ttl_cmd("/b", "2", 2));
    let events = store.expire_due(T0 + 10 * SECOND);
    let indices: Vec<u64> = events.iter().map(|event| event.index).collect();
    assert_eq!(indices, [3, 4]);
    assert_eq!(store.index(), 4);
    assert!(events.iter().all(|event| event.action == Action::Expire));
}

#[test]
fn expire_event_node_has_no_value_and_no_dir_prev_node_has_them() {
    let mut store = Store::new();
    ok(&mut store, set_ttl_cmd("/t", "v", 1));
    let event = store.expire_due(T0 + SECOND).remove(0);
    assert_eq!(
        event.to_json(),
        "{\"action\":\"expire\",\"node\":{\"key\":\"/t\",\"modifiedIndex\":2,\"createdIndex\":1},\
         \"prevNode\":{\"key\":\"/t\",\"value\":\"v\",\"expiration\":\"2026-11-24T04:09:22.105715347Z\",\
         \"modifiedIndex\":1,\"createdIndex\":1}}"
    );
}

#[test]
fn expired_directory_goes_with_its_subtree_in_one_event() {
    let mut store = Store::new();
    let dir_with_ttl = StoreCommand::Set {
        key: key("/d"),
        value: String::new(),
        dir: true,
        ttl: Some(1),
    };
    ok(&mut store, dir_with_ttl);
    ok(&mut store, set_ttl_cmd("/d/child", "c", 100));
    let events = store.expire_due(T0 + 2 * SECOND);
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.node.key, "/d");
    assert!(!event.node.dir, "an expire node never carries dir");
    assert!(event.prev_node.as_ref().unwrap().dir);
    assert_eq!(store.next_expiration(), None);
    assert_eq!(
        get(&mut store, "/d").unwrap_err().code,
        ErrorCode::KeyNotFound
    );
}

#[test]
fn expiry_order_is_by_instant_then_key() {
    let mut store = Store::new();
    ok(&mut store, set_ttl_cmd("/late", "v", 2));
    ok(&mut store, set_ttl_cmd("/b", "v", 1));
    ok(&mut store, set_ttl_cmd("/a", "v", 1));
    let keys: Vec<String> = store
        .expire_due(T0 + 5 * SECOND)
        .into_iter()
        .map(|event| event.node.key)
        .collect();
    assert_eq!(keys, ["/a", "/b", "/late"]);
}

#[test]
fn next_expiration_is_the_earliest_pending_instant() {
    let mut store = Store::new();
    assert_eq!(store.next_expiration(), None);
    ok(&mut store, set_ttl_cmd("/x", "v", 30));
    ok(&mut store, set_ttl_cmd("/y/z", "v", 10));
    assert_eq!(store.next_expiration(), Some(T0 + 10 * SECOND));
    store.expire_due(T0 + 10 * SECOND);
    assert_eq!(store.next_expiration(), Some(T0 + 30 * SECOND));
}

#[test]
fn expire_count_and_history_record_expiries() {
    let mut store = Store::new();
    ok(&mut store, set_ttl_cmd("/t", "v", 1));
    store.expire_due(T0 + SECOND);
    assert_eq!(store.stats().expire_count, 1);
    let outcome = store.watch(&key("/t"), false, false, Some(2)).unwrap();
    match outcome {
        crate::store::WatchOutcome::Ready(event) => assert_eq!(event.action, Action::Expire),
        other => panic!("expected the expire event from history, got {other:?}"),
    }
}
