//! §9 compare-and-swap / compare-and-delete conditions and results.

use super::*;
use crate::store::Action;

fn store_with_bar_at_index_3() -> Store {
    let mut store = store_at_index(2);
    ok(&mut store, set_cmd("/foo", "bar"));
    store
}

#[test]
fn cas_with_matching_value_swaps_and_keeps_created_index() {
    let mut store = store_with_bar_at_index_3();
    let event = ok(&mut store, cas_cmd("/foo", "two", Some("bar"), 0));
    assert_eq!(event.action, Action::CompareAndSwap);
    assert!(!event.is_created());
    assert_eq!(event.node.value.as_deref(), Some("two"));
    assert_eq!(
        (event.node.created_index, event.node.modified_index),
        (3, 4)
    );
    assert_eq!(event.prev_node.unwrap().value.as_deref(), Some("bar"));
}

#[test]
fn cas_with_matching_index_swaps() {
    let mut store = store_with_bar_at_index_3();
    ok(&mut store, cas_cmd("/foo", "two", None, 3));
}

#[test]
fn cas_failure_cause_for_value_only() {
    let mut store = store_with_bar_at_index_3();
    let error = fails(&mut store, cas_cmd("/foo", "y", Some("x"), 0));
    assert_eq!(error, super::error(ErrorCode::TestFailed, "[x != bar]", 3));
    assert_eq!(error.code.http_status(), 412);
}

#[test]
fn cas_failure_cause_for_index_only() {
    let mut store = store_with_bar_at_index_3();
    let error = fails(&mut store, cas_cmd("/foo", "y", None, 1));
    assert_eq!(error.cause, "[1 != 3]");
}

#[test]
fn cas_failure_cause_lists_both_mismatches() {
    let mut store = store_with_bar_at_index_3();
    let error = fails(&mut store, cas_cmd("/foo", "y", Some("x"), 1));
    assert_eq!(error.cause, "[x != bar] [1 != 3]");
}

#[test]
fn cas_needs_both_conditions_when_both_given() {
    let mut store = store_with_bar_at_index_3();
    let error = fails(&mut store, cas_cmd("/foo", "y", Some("bar"), 1));
    assert_eq!(error.cause, "[1 != 3]");
    let error = fails(&mut store, cas_cmd("/foo", "y", Some("x"), 3));
    assert_eq!(error.cause, "[x != bar]");
    ok(&mut store, cas_cmd("/foo", "y", Some("bar"), 3));
}

#[test]
fn cas_replaces_ttl_or_removes_it() {
    let mut store = Store::new();
    ok(&mut store, set_ttl_cmd("/k", "a", 10));
    let with_ttl = StoreCommand::CompareAndSwap {
        key: key("/k"),
        value: "b".to_string(),
        ttl: Some(20),
        prev_value: Some("a".to_string()),
        prev_index: 0,
    };
    let event = ok(&mut store, with_ttl);
    assert_eq!(event.node.ttl, Some(20));
    let event = ok(&mut store, cas_cmd("/k", "c", Some("b"), 0));
    assert_eq!(event.node.expiration, None);
    assert_eq!(store.next_expiration(), None);
}

#[test]
fn cas_on_missing_is_100_on_dir_102_on_root_107() {
    let mut store = Store::new();
    ok(&mut store, mkdir_cmd("/d"));
    assert_eq!(
        fails(&mut store, cas_cmd("/nope", "v", Some("x"), 0)),
        super::error(ErrorCode::KeyNotFound, "/nope", 1)
    );
    assert_eq!(
        fails(&mut store, cas_cmd("/d", "v", Some("x"), 0)),
        super::error(ErrorCode::NotFile, "/d", 1)
    );
    assert_eq!(
        fails(&mut store, cas_cmd("/", "v", Some("x"), 0)),
        super::error(ErrorCode::RootReadOnly, "/", 1)
    );
}

#[test]
fn cad_with_matching_value_deletes_file() {
    let mut store = store_with_bar_at_index_3();
    let event = ok(&mut store, cad_cmd("/foo", Some("bar"), 0));
    assert_eq!(event.action, Action::CompareAndDelete);
    assert_eq!(event.node.value, None);
    assert!(!event.node.dir);
    assert_eq!(
        (event.node.created_index, event.node.modified_index),
        (3, 4)
    );
    assert_eq!(event.prev_node.unwrap().value.as_deref(), Some("bar"));
    assert_eq!(
        get(&mut store, "/foo").unwrap_err().code,
        ErrorCode::KeyNotFound
    );
}

#[test]
fn cad_failure_cause_lists_both_mismatches() {
    let mut store = store_with_bar_at_index_3();
    let error = fails(&mut store, cad_cmd("/foo", Some("one"), 5));
    assert_eq!(error.cause, "[one != bar] [5 != 3]");
    assert_eq!(error.code, ErrorCode::TestFailed);
}

#[test]
fn cad_on_directory_or_root_is_102_and_missing_is_100() {
    let mut store = Store::new();
    ok(&mut store, mkdir_cmd("/d"));
    assert_eq!(
        fails(&mut store, cad_cmd("/d", Some("x"), 0)),
        super::error(ErrorCode::NotFile, "/d", 1)
    );
    let root = fails(&mut store, cad_cmd("/", Some("x"), 0));
    assert_eq!(root, super::error(ErrorCode::NotFile, "/", 1));
    assert_eq!(root.code.http_status(), 403);
    assert_eq!(
        fails(&mut store, cad_cmd("/gone", None, 1)).code,
        ErrorCode::KeyNotFound
    );
}
