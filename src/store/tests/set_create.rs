//! §5.3 set / create, §5.4 POST in-order keys, §4 parents, root, 104.

use super::*;
use crate::store::Action;

#[test]
fn set_on_missing_key_creates_it_without_prev_node() {
    let mut store = Store::new();
    let event = ok(&mut store, set_cmd("/foo", "bar"));
    assert_eq!(event.action, Action::Set);
    assert_eq!(event.prev_node, None);
    assert!(event.is_created());
    assert_eq!(event.index, 1);
    assert_eq!(store.index(), 1);
    assert_eq!(event.node.value.as_deref(), Some("bar"));
}

#[test]
fn set_over_file_replaces_node_and_returns_prev() {
    let mut store = Store::new();
    ok(&mut store, set_ttl_cmd("/foo", "bar", 100));
    let event = ok(&mut store, set_cmd("/foo", "baz"));
    assert!(!event.is_created());
    let prev = event.prev_node.as_ref().unwrap();
    assert_eq!(prev.value.as_deref(), Some("bar"));
    assert_eq!(prev.created_index, 1);
    assert!(prev.expiration.is_some());
    // Nothing of the old node is kept: new createdIndex, no TTL.
    assert_eq!(event.node.created_index, 2);
    assert_eq!(event.node.modified_index, 2);
    assert_eq!(event.node.expiration, None);
    assert_eq!(store.next_expiration(), None);
}

#[test]
fn set_on_directory_is_102_for_value_and_for_dir() {
    let mut store = Store::new();
    ok(&mut store, mkdir_cmd("/d"));
    let error = fails(&mut store, set_cmd("/d", "v"));
    assert_eq!(error, super::error(ErrorCode::NotFile, "/d", 1));
    assert_eq!(error.code.http_status(), 403);
    fails(&mut store, mkdir_cmd("/d"));
}

#[test]
fn set_dir_over_file_replaces_it_with_empty_dir() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/f", "v"));
    let event = ok(&mut store, mkdir_cmd("/f"));
    assert!(event.node.dir);
    assert_eq!(event.node.value, None);
    assert_eq!(
        event.prev_node.as_ref().unwrap().value.as_deref(),
        Some("v")
    );
    assert!(!event.is_created());
}

#[test]
fn set_dir_ignores_value() {
    let mut store = Store::new();
    let command = StoreCommand::Set {
        key: key("/d"),
        value: "ignored".to_string(),
        dir: true,
        ttl: None,
    };
    let event = ok(&mut store, command);
    assert!(event.node.dir);
    assert_eq!(event.node.value, None);
}

#[test]
fn writing_deep_key_creates_parents_with_the_write_index() {
    let mut store = store_at_index(8);
    ok(&mut store, set_cmd("/a/b/c", "v"));
    for path in ["/a", "/a/b", "/a/b/c"] {
        let node = get(&mut store, path).unwrap().node;
        assert_eq!((node.created_index, node.modified_index), (9, 9), "{path}");
    }
    assert!(get(&mut store, "/a/b").unwrap().node.dir);
    assert_eq!(store.index(), 9);
}

#[test]
fn implicit_parents_have_no_ttl_and_no_event_of_their_own() {
    let mut store = Store::new();
    let waiting = store.watch(&key("/"), true, true, None).unwrap();
    ok(&mut store, set_ttl_cmd("/p/q/leaf", "v", 10));
    assert!(matches!(waiting, crate::store::WatchOutcome::Waiting(_)));
    let notes = store.take_notifications();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].1.node.key, "/p/q/leaf");
    assert_eq!(get(&mut store, "/p").unwrap().node.expiration, None);
}

#[test]
fn writing_under_a_file_is_104_naming_the_file() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/foo", "x"));
    let error = fails(&mut store, set_cmd("/foo/bar", "y"));
    assert_eq!(error, super::error(ErrorCode::NotDir, "/foo", 1));
    let error = fails(&mut store, set_cmd("/foo/bar/baz", "y"));
    assert_eq!(error.cause, "/foo");
    assert_eq!(error.code.http_status(), 400);
}

#[test]
fn root_is_read_only_for_set_and_create() {
    let mut store = Store::new();
    let expected = super::error(ErrorCode::RootReadOnly, "/", 0);
    assert_eq!(fails(&mut store, set_cmd("/", "x")), expected);
    assert_eq!(fails(&mut store, mkdir_cmd("/")), expected);
    assert_eq!(fails(&mut store, create_cmd("/", "x")), expected);
}

#[test]
fn create_on_existing_is_105_412() {
    let mut store = Store::new();
    ok(&mut store, create_cmd("/foo", "a"));
    let error = fails(&mut store, create_cmd("/foo", "b"));
    assert_eq!(error, super::error(ErrorCode::NodeExist, "/foo", 1));
    assert_eq!(error.code.http_status(), 412);
    ok(&mut store, mkdir_cmd("/d"));
    assert_eq!(
        fails(&mut store, create_cmd("/d", "b")).code,
        ErrorCode::NodeExist
    );
}

#[test]
fn create_is_always_created_201_without_prev_node() {
    let mut store = Store::new();
    let event = ok(&mut store, create_cmd("/new", ""));
    assert_eq!(event.action, Action::Create);
    assert!(event.is_created());
    assert_eq!(event.prev_node, None);
    assert_eq!(event.node.value.as_deref(), Some(""));
}

#[test]
fn post_name_is_new_index_zero_padded_to_20_digits() {
    let mut store = store_at_index(6);
    let event = ok(&mut store, post_cmd("/queue", "j1", false));
    assert_eq!(event.node.key, "/queue/00000000000000000007");
    assert_eq!(event.node.created_index, 7);
    assert_eq!(event.node.modified_index, 7);
    assert_eq!(event.action, Action::Create);
    assert!(event.is_created());
}

#[test]
fn post_dir_creates_in_order_directory() {
    let mut store = Store::new();
    let event = ok(&mut store, post_cmd("/queue", "", true));
    assert_eq!(event.node.key, "/queue/00000000000000000001");
    assert!(event.node.dir);
}

#[test]
fn post_on_root_creates_top_level_key() {
    let mut store = Store::new();
    let event = ok(&mut store, post_cmd("/", "v", false));
    assert_eq!(event.node.key, "/00000000000000000001");
}

#[test]
fn post_under_a_file_is_104() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/f", "v"));
    assert_eq!(
        fails(&mut store, post_cmd("/f", "x", false)),
        super::error(ErrorCode::NotDir, "/f", 1)
    );
}

#[test]
fn post_collision_with_hand_made_key_is_105() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/q/00000000000000000002", "by hand"));
    let error = fails(&mut store, post_cmd("/q", "x", false));
    assert_eq!(error.code, ErrorCode::NodeExist);
    assert_eq!(error.cause, "/q/00000000000000000002");
}

#[test]
fn in_order_keys_list_in_creation_order_past_nine() {
    let mut store = Store::new();
    for i in 0..12 {
        ok(&mut store, post_cmd("/q", &format!("job{i}"), false));
    }
    let listing = store.get(&key("/q"), false, true, T0).unwrap();
    let values: Vec<String> = listing
        .node
        .nodes
        .unwrap()
        .into_iter()
        .filter_map(|node| node.value)
        .collect();
    let expected: Vec<String> = (0..12).map(|i| format!("job{i}")).collect();
    assert_eq!(values, expected);
}

#[test]
fn child_change_does_not_touch_parent_modified_index() {
    let mut store = Store::new();
    ok(&mut store, mkdir_cmd("/d"));
    ok(&mut store, set_cmd("/d/a", "1"));
    ok(&mut store, set_cmd("/d/a", "2"));
    ok(&mut store, delete_cmd("/d/a", false, false));
    let dir = get(&mut store, "/d").unwrap().node;
    assert_eq!((dir.created_index, dir.modified_index), (1, 1));
}

#[test]
fn values_are_stored_exactly_as_sent_never_lower_cased() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/b", "TRUE"));
    assert_eq!(
        get(&mut store, "/b").unwrap().node.value.as_deref(),
        Some("TRUE")
    );
}

#[test]
fn every_successful_write_moves_the_index_by_one_and_reads_never() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/a", "1"));
    ok(&mut store, create_cmd("/b", "1"));
    ok(&mut store, update_cmd("/a", "2", None));
    ok(&mut store, cas_cmd("/a", "3", Some("2"), 0));
    ok(&mut store, delete_cmd("/b", false, false));
    ok(&mut store, cad_cmd("/a", None, 4));
    assert_eq!(store.index(), 6);
    get(&mut store, "/").unwrap();
    store.watch(&key("/"), true, false, None).unwrap();
    assert_eq!(store.index(), 6);
}
