//! §5.1 GET, §4 hidden keys and the root, store stats.

use super::*;
use crate::store::{Action, NodeView};

fn keys(nodes: &Option<Vec<NodeView>>) -> Vec<&str> {
    nodes
        .iter()
        .flatten()
        .map(|node| node.key.as_str())
        .collect()
}

#[test]
fn get_file_returns_value_indices_and_current_store_index() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/foo", "bar"));
    ok(&mut store, set_cmd("/other", "x"));
    let event = get(&mut store, "/foo").unwrap();
    assert_eq!(event.action, Action::Get);
    assert_eq!(event.index, 2);
    assert_eq!(event.prev_node, None);
    assert_eq!(event.node.value.as_deref(), Some("bar"));
    assert_eq!(
        (event.node.created_index, event.node.modified_index),
        (1, 1)
    );
}

#[test]
fn get_missing_is_100_naming_first_missing_component() {
    let mut store = store_at_index(2);
    let error = get(&mut store, "/a/b/c").unwrap_err();
    assert_eq!(error, super::error(ErrorCode::KeyNotFound, "/a", 2));
}

#[test]
fn get_through_a_file_is_104() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/foo", "x"));
    assert_eq!(
        get(&mut store, "/foo/bar").unwrap_err(),
        super::error(ErrorCode::NotDir, "/foo", 1)
    );
}

#[test]
fn listing_shows_direct_children_without_grandchildren() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/d/a", "1"));
    ok(&mut store, set_cmd("/d/sub/x", "2"));
    let node = get(&mut store, "/d").unwrap().node;
    assert!(node.dir);
    assert_eq!(keys(&node.nodes), ["/d/a", "/d/sub"]);
    let sub = &node.nodes.as_ref().unwrap()[1];
    assert!(sub.dir);
    assert_eq!(sub.nodes, None);
}

#[test]
fn recursive_listing_includes_the_whole_subtree() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/d/a", "1"));
    ok(&mut store, set_cmd("/d/sub/x", "2"));
    ok(&mut store, mkdir_cmd("/d/empty"));
    let node = store.get(&key("/d"), true, false, T0).unwrap().node;
    let nodes = node.nodes.unwrap();
    assert_eq!(keys(&nodes[2].nodes), ["/d/sub/x"]);
    // A child directory without children has no `nodes` either.
    assert_eq!(nodes[1].key, "/d/empty");
    assert_eq!(nodes[1].nodes, None);
}

#[test]
fn empty_dir_listing_has_no_nodes_member() {
    let mut store = store_at_index(12);
    ok(&mut store, mkdir_cmd("/e"));
    assert_eq!(
        get(&mut store, "/e").unwrap().to_json(),
        "{\"action\":\"get\",\"node\":{\"key\":\"/e\",\"dir\":true,\"modifiedIndex\":13,\"createdIndex\":13}}"
    );
}

#[test]
fn hidden_keys_not_listed_but_readable() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/d/_secret", "s"));
    ok(&mut store, set_cmd("/d/_hdir/inner", "i"));
    ok(&mut store, set_cmd("/d/shown", "v"));
    let listing = store.get(&key("/d"), true, true, T0).unwrap().node;
    assert_eq!(keys(&listing.nodes), ["/d/shown"]);
    assert_eq!(
        get(&mut store, "/d/_secret").unwrap().node.value.as_deref(),
        Some("s")
    );
    assert_eq!(
        get(&mut store, "/d/_hdir/inner")
            .unwrap()
            .node
            .value
            .as_deref(),
        Some("i")
    );
}

#[test]
fn all_hidden_directory_lists_without_nodes() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/_etcd/machines/m1", "raft=x"));
    let root = get(&mut store, "/").unwrap();
    assert_eq!(
        root.to_json(),
        "{\"action\":\"get\",\"node\":{\"key\":\"/\",\"dir\":true}}"
    );
    // Inside a hidden directory, visible names are listed as usual.
    let machines = get(&mut store, "/_etcd/machines").unwrap().node;
    assert_eq!(keys(&machines.nodes), ["/_etcd/machines/m1"]);
}

#[test]
fn root_lists_without_indices() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/a", "1"));
    assert_eq!(
        get(&mut store, "/").unwrap().to_json(),
        "{\"action\":\"get\",\"node\":{\"key\":\"/\",\"dir\":true,\"nodes\":[\
         {\"key\":\"/a\",\"value\":\"1\",\"modifiedIndex\":1,\"createdIndex\":1}]}}"
    );
}

#[test]
fn listing_is_in_key_byte_order_sorted_or_not() {
    let mut store = Store::new();
    for name in ["b", "B", "a", "10", "9"] {
        ok(&mut store, set_cmd(&format!("/s/{name}"), name));
    }
    for sorted in [false, true] {
        let node = store.get(&key("/s"), false, sorted, T0).unwrap().node;
        assert_eq!(keys(&node.nodes), ["/s/10", "/s/9", "/s/B", "/s/a", "/s/b"]);
    }
}

#[test]
fn recursive_get_on_a_file_is_harmless() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/f", "v"));
    let node = store.get(&key("/f"), true, true, T0).unwrap().node;
    assert_eq!(node.value.as_deref(), Some("v"));
    assert_eq!(node.nodes, None);
}

#[test]
fn stats_count_success_and_failure_per_operation() {
    let mut store = Store::new();
    ok(&mut store, set_cmd("/a", "1"));
    fails(&mut store, set_cmd("/a/b", "1"));
    ok(&mut store, create_cmd("/c", "1"));
    fails(&mut store, create_cmd("/c", "1"));
    ok(&mut store, update_cmd("/a", "2", None));
    fails(&mut store, update_cmd("/zz", "2", None));
    ok(&mut store, cas_cmd("/a", "3", Some("2"), 0));
    fails(&mut store, cas_cmd("/a", "3", Some("2"), 0));
    ok(&mut store, cad_cmd("/a", Some("3"), 0));
    fails(&mut store, cad_cmd("/a", Some("3"), 0));
    ok(&mut store, delete_cmd("/c", false, false));
    fails(&mut store, delete_cmd("/c", false, false));
    get(&mut store, "/").unwrap();
    get(&mut store, "/nope").unwrap_err();
    ok(&mut store, set_ttl_cmd("/t", "x", 0));
    store.expire_due(T0);
    store.watch(&key("/w"), false, false, None).unwrap();
    let stats = store.stats();
    assert_eq!((stats.sets_success, stats.sets_fail), (2, 1));
    assert_eq!((stats.create_success, stats.create_fail), (1, 1));
    assert_eq!((stats.update_success, stats.update_fail), (1, 1));
    assert_eq!(
        (stats.compare_and_swap_success, stats.compare_and_swap_fail),
        (1, 1)
    );
    assert_eq!(
        (
            stats.compare_and_delete_success,
            stats.compare_and_delete_fail
        ),
        (1, 1)
    );
    assert_eq!((stats.delete_success, stats.delete_fail), (1, 1));
    assert_eq!((stats.gets_success, stats.gets_fail), (1, 1));
    assert_eq!(stats.expire_count, 1);
    assert_eq!(stats.watchers, 1);
}
