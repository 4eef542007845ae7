//! Byte-exact bodies of keys-api.md §6 and README (observed on 0.4.6),
//! in-order names adjusted for the 20-digit ruling.

use super::*;

#[test]
fn body_of_first_set_is_201_with_no_prev_node() {
    let mut store = store_at_index(2);
    let event = ok(&mut store, set_cmd("/foo", "bar"));
    assert!(event.is_created());
    assert_eq!(
        event.to_json(),
        r#"{"action":"set","node":{"key":"/foo","value":"bar","modifiedIndex":3,"createdIndex":3}}"#
    );
}

#[test]
fn body_of_set_over_file_carries_prev_node() {
    let mut store = store_at_index(3);
    ok(&mut store, set_cmd("/foo", "bar"));
    assert_eq!(
        ok(&mut store, set_cmd("/foo", "baz")).to_json(),
        r#"{"action":"set","node":{"key":"/foo","value":"baz","modifiedIndex":5,"createdIndex":5},"prevNode":{"key":"/foo","value":"bar","modifiedIndex":4,"createdIndex":4}}"#
    );
}

#[test]
fn body_of_set_with_ttl_shows_expiration_and_ttl() {
    let mut store = Store::new();
    let event = store
        .apply(&set_ttl_cmd("/t", "1", 5), T0 - 5 * SECOND)
        .unwrap();
    assert_eq!(
        event.to_json(),
        r#"{"action":"set","node":{"key":"/t","value":"1","expiration":"2026-11-24T04:09:21.105715347Z","ttl":5,"modifiedIndex":1,"createdIndex":1}}"#
    );
}

#[test]
fn body_of_ttl_refresh_without_value_blanks_it() {
    let mut store = store_at_index(4);
    ok(&mut store, set_cmd("/t2", "keep"));
    // 2026-11-24T05:08:26.293137897Z, 100 s before the observed expiration.
    let now = 1_795_496_906 * SECOND + 293_137_897;
    let event = store.apply(&update_cmd("/t2", "", Some(100)), now).unwrap();
    assert_eq!(
        event.to_json(),
        r#"{"action":"update","node":{"key":"/t2","value":"","expiration":"2026-11-24T05:10:06.293137897Z","ttl":100,"modifiedIndex":6,"createdIndex":5},"prevNode":{"key":"/t2","value":"keep","modifiedIndex":5,"createdIndex":5}}"#
    );
}

#[test]
fn body_of_mkdir_and_recursive_delete() {
    let mut store = store_at_index(9);
    assert_eq!(
        ok(&mut store, mkdir_cmd("/d")).to_json(),
        r#"{"action":"set","node":{"key":"/d","dir":true,"modifiedIndex":10,"createdIndex":10}}"#
    );
    ok(&mut store, set_cmd("/d/x", "1"));
    assert_eq!(
        ok(&mut store, delete_cmd("/d", false, true)).to_json(),
        r#"{"action":"delete","node":{"key":"/d","dir":true,"modifiedIndex":12,"createdIndex":10},"prevNode":{"key":"/d","dir":true,"modifiedIndex":10,"createdIndex":10}}"#
    );
}

#[test]
fn body_of_posts_with_zero_padded_names() {
    let mut store = store_at_index(6);
    assert_eq!(
        ok(&mut store, post_cmd("/queue", "j1", false)).to_json(),
        r#"{"action":"create","node":{"key":"/queue/00000000000000000007","value":"j1","modifiedIndex":7,"createdIndex":7}}"#
    );
    assert_eq!(
        ok(&mut store, post_cmd("/queue", "", true)).to_json(),
        r#"{"action":"create","node":{"key":"/queue/00000000000000000008","dir":true,"modifiedIndex":8,"createdIndex":8}}"#
    );
}

#[test]
fn body_of_compare_and_delete_has_node_without_value() {
    let mut store = store_at_index(2);
    ok(&mut store, set_cmd("/foo", "one"));
    assert_eq!(
        ok(&mut store, cad_cmd("/foo", Some("one"), 0)).to_json(),
        r#"{"action":"compareAndDelete","node":{"key":"/foo","modifiedIndex":4,"createdIndex":3},"prevNode":{"key":"/foo","value":"one","modifiedIndex":3,"createdIndex":3}}"#
    );
}

#[test]
fn body_of_missing_key_error() {
    let mut store = store_at_index(2);
    assert_eq!(
        get(&mut store, "/a/b/c").unwrap_err().to_json(),
        "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/a\",\"index\":2}\n"
    );
}

#[test]
fn body_of_machines_listing_escapes_ampersand_like_046() {
    let mut store = Store::new();
    for n in 1..=3 {
        let value = format!("raft=http://127.0.0.1:700{n}&etcd=http://127.0.0.1:400{n}");
        ok(
            &mut store,
            set_cmd(&format!("/_etcd/machines/machine{n}"), &value),
        );
    }
    let body = store
        .get(&key("/_etcd/machines"), false, true, T0)
        .unwrap()
        .to_json();
    assert_eq!(
        body,
        concat!(
            r#"{"action":"get","node":{"key":"/_etcd/machines","dir":true,"nodes":["#,
            r#"{"key":"/_etcd/machines/machine1","value":"raft=http://127.0.0.1:7001\u0026etcd=http://127.0.0.1:4001","modifiedIndex":1,"createdIndex":1},"#,
            r#"{"key":"/_etcd/machines/machine2","value":"raft=http://127.0.0.1:7002\u0026etcd=http://127.0.0.1:4002","modifiedIndex":2,"createdIndex":2},"#,
            r#"{"key":"/_etcd/machines/machine3","value":"raft=http://127.0.0.1:7003\u0026etcd=http://127.0.0.1:4003","modifiedIndex":3,"createdIndex":3}"#,
            r#"],"modifiedIndex":1,"createdIndex":1}}"#
        )
    );
}

#[test]
fn json_member_order_matches_046_with_every_member() {
    let mut store = Store::new();
    let dir_with_ttl = StoreCommand::Set {
        key: key("/d"),
        value: String::new(),
        dir: true,
        ttl: Some(10),
    };
    ok(&mut store, dir_with_ttl);
    ok(&mut store, set_cmd("/d/a", "1"));
    let body = store.get(&key("/d"), true, true, T0).unwrap().to_json();
    assert_eq!(
        body,
        r#"{"action":"get","node":{"key":"/d","dir":true,"expiration":"2026-11-24T04:09:31.105715347Z","ttl":10,"nodes":[{"key":"/d/a","value":"1","modifiedIndex":2,"createdIndex":2}],"modifiedIndex":1,"createdIndex":1}}"#
    );
}
