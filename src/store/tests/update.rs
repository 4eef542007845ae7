//! §5.3 update (`prevExist=true`) and ruling 8.

use super::*;
use crate::store::Action;

#[test]
fn update_on_missing_key_is_100_naming_first_missing_component() {
    let mut store = Store::new();
    assert_eq!(
        fails(&mut store, update_cmd("/a/b", "v", None)),
        super::error(ErrorCode::KeyNotFound, "/a", 0)
    );
}

#[test]
fn update_on_root_is_107() {
    let mut store = Store::new();
    assert_eq!(
        fails(&mut store, update_cmd("/", "", Some(5))).code,
        ErrorCode::RootReadOnly
    );
}

#[test]
fn update_replaces_value_and_keeps_created_index() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/k", "old"));
    let event = ok(&mut store, update_cmd("/k", "new", None));
    assert_eq!(event.action, Action::Update);
    assert!(!event.is_created());
    assert_eq!(event.node.value.as_deref(), Some("new"));
    assert_eq!(
        (event.node.created_index, event.node.modified_index),
        (1, 2)
    );
    assert_eq!(event.prev_node.unwrap().value.as_deref(), Some("old"));
    let stored = get(&mut store, "/k").unwrap().node;
    assert_eq!((stored.created_index, stored.modified_index), (1, 2));
}

#[test]
fn update_without_value_sets_empty_string() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/k", "keep"));
    let event = ok(&mut store, update_cmd("/k", "", Some(100)));
    assert_eq!(event.node.value.as_deref(), Some(""));
    assert_eq!(event.node.ttl, Some(100));
}

#[test]
fn update_without_ttl_removes_ttl() {
    let mut store = Store::new();
    ok(&mut store, set_ttl_cmd("/k", "v", 30));
    let event = ok(&mut store, update_cmd("/k", "v", None));
    assert_eq!(event.node.expiration, None);
    assert_eq!(event.node.ttl, None);
    assert!(event.prev_node.unwrap().expiration.is_some());
    assert_eq!(store.next_expiration(), None);
    assert!(store.expire_due(T0 + 3600 * SECOND).is_empty());
}

#[test]
fn update_with_ttl_sets_expiry_from_entry_time() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/k", "v"));
    let event = ok(&mut store, update_cmd("/k", "v", Some(7)));
    assert_eq!(event.node.expiration, Some(T0 + 7 * SECOND));
    assert_eq!(store.next_expiration(), Some(T0 + 7 * SECOND));
}

#[test]
fn update_of_directory_with_value_is_102() {
    let mut store = Store::new();
    ok(&mut store, mkdir_cmd("/d"));
    assert_eq!(
        fails(&mut store, update_cmd("/d", "v", Some(5))),
        super::error(ErrorCode::NotFile, "/d", 1)
    );
}

#[test]
fn update_of_directory_ttl_shows_new_modified_index_but_stored_keeps_old() {
    let mut store = Store::new();
    ok(&mut store, mkdir_cmd("/d"));
    let event = ok(&mut store, update_cmd("/d", "", Some(50)));
    assert!(event.node.dir);
    assert_eq!(event.node.value, None);
    assert_eq!(event.node.ttl, Some(50));
    assert_eq!(
        (event.node.created_index, event.node.modified_index),
        (1, 2)
    );
    assert_eq!(store.index(), 2);
    let stored = get(&mut store, "/d").unwrap().node;
    assert_eq!(stored.modified_index, 1);
    assert_eq!(stored.ttl, Some(50));
}

#[test]
fn update_under_a_file_is_104() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/f", "v"));
    assert_eq!(
        fails(&mut store, update_cmd("/f/x", "v", None)),
        super::error(ErrorCode::NotDir, "/f", 1)
    );
}
