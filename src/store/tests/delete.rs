//! §5.5 delete.

use super::*;
use crate::store::Action;

#[test]
fn delete_file_returns_node_without_value_and_prev_node() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/f", "v"));
    let event = ok(&mut store, delete_cmd("/f", false, false));
    assert_eq!(event.action, Action::Delete);
    assert_eq!(event.node.value, None);
    assert!(!event.node.dir);
    assert_eq!(
        (event.node.created_index, event.node.modified_index),
        (1, 2)
    );
    assert_eq!(event.prev_node.unwrap().value.as_deref(), Some("v"));
    assert_eq!(store.index(), 2);
}

#[test]
fn delete_with_dir_flag_on_a_file_is_allowed() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/f", "v"));
    ok(&mut store, delete_cmd("/f", true, false));
}

#[test]
fn delete_root_is_107() {
    let mut store = Store::new();
    assert_eq!(
        fails(&mut store, delete_cmd("/", true, true)),
        super::error(ErrorCode::RootReadOnly, "/", 0)
    );
}

#[test]
fn delete_missing_is_100() {
    let mut store = Store::new();
    let error = fails(&mut store, delete_cmd("/missing", false, false));
    assert_eq!(error, super::error(ErrorCode::KeyNotFound, "/missing", 0));
    assert_eq!(error.code.http_status(), 404);
}

#[test]
fn delete_dir_without_dir_flag_is_102_403() {
    let mut store = Store::new();
    ok(&mut store, mkdir_cmd("/d"));
    let error = fails(&mut store, delete_cmd("/d", false, false));
    assert_eq!(error, super::error(ErrorCode::NotFile, "/d", 1));
    assert_eq!(error.code.http_status(), 403);
}

#[test]
fn delete_non_empty_dir_without_recursive_is_108() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/d/a", "1"));
    let error = fails(&mut store, delete_cmd("/d", true, false));
    assert_eq!(error, super::error(ErrorCode::DirNotEmpty, "/d", 1));
    assert_eq!(error.code.http_status(), 403);
}

#[test]
fn hidden_children_make_a_directory_non_empty() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/d/_h", "1"));
    assert_eq!(
        fails(&mut store, delete_cmd("/d", true, false)).code,
        ErrorCode::DirNotEmpty
    );
}

#[test]
fn delete_empty_dir_with_dir_flag() {
    let mut store = Store::new();
    ok(&mut store, mkdir_cmd("/d"));
    let event = ok(&mut store, delete_cmd("/d", true, false));
    assert!(event.node.dir);
    assert!(event.prev_node.unwrap().dir);
}

#[test]
fn recursive_delete_removes_subtree_with_one_index() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/d/a/b", "1"));
    ok(&mut store, set_ttl_cmd("/d/c", "2", 5));
    let event = ok(&mut store, delete_cmd("/d", false, true));
    assert_eq!(store.index(), 3);
    assert_eq!(event.index, 3);
    assert!(event.node.dir);
    // prevNode is the directory as it was, never with children.
    assert_eq!(event.prev_node.unwrap().nodes, None);
    assert_eq!(get(&mut store, "/d/a/b").unwrap_err().cause, "/d");
    assert_eq!(store.next_expiration(), None);
}

#[test]
fn delete_under_a_file_is_104() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/f", "v"));
    assert_eq!(
        fails(&mut store, delete_cmd("/f/x", false, false)),
        super::error(ErrorCode::NotDir, "/f", 1)
    );
}
