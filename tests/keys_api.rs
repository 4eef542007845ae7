//! The v2 keys API driven through the real binary, one rule per test,
//! following spec/keys-api.md and the rulings of spec/README.md.

mod common;

use common::{Etcd, TempDir, request};
use serde_json::{Value, json};

fn machine(tag: &str) -> (TempDir, Etcd) {
    let dir = TempDir::new(tag);
    let etcd = Etcd::start(dir.path(), "m1", &[]);
    (dir, etcd)
}

fn node(v: &Value) -> &Value {
    &v["node"]
}

#[test]
fn set_creates_with_201_then_replaces_with_200_and_prev_node() {
    let (_d, e) = machine("set");
    let r = e.put("/v2/keys/foo", "value=bar");
    assert_eq!(r.status, 201);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(
        r.json(),
        json!({"action":"set","node":{"key":"/foo","value":"bar","modifiedIndex":2,"createdIndex":2}})
    );
    assert_eq!(r.etcd_index(), 2);
    assert!(
        r.header("X-Raft-Index")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some()
    );
    assert!(
        r.header("X-Raft-Term")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some()
    );
    let r = e.put("/v2/keys/foo", "value=baz");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"action":"set","node":{"key":"/foo","value":"baz","modifiedIndex":3,"createdIndex":3},
               "prevNode":{"key":"/foo","value":"bar","modifiedIndex":2,"createdIndex":2}})
    );
}

#[test]
fn get_returns_the_node_and_missing_is_100_with_first_missing_component() {
    let (_d, e) = machine("get");
    e.put("/v2/keys/foo", "value=bar");
    let r = e.get("/v2/keys/foo");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["action"], "get");
    assert_eq!(node(&r.json())["value"], "bar");
    let r = e.get("/v2/keys/a/b/c");
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"errorCode":100,"message":"Key not found","cause":"/a","index":2})
    );
    assert!(r.text().ends_with('\n'), "error bodies end with a newline");
    assert_eq!(r.etcd_index(), 2);
}

#[test]
fn query_string_parameters_work_like_form_bodies() {
    let (_d, e) = machine("query");
    let r = request(&e.client, "PUT", "/v2/keys/q?value=fromquery", &[], b"");
    assert_eq!(r.status, 201);
    assert_eq!(node(&r.json())["value"], "fromquery");
}

#[test]
fn values_are_stored_exactly_as_sent() {
    let (_d, e) = machine("exact");
    let r = e.put("/v2/keys/b", "value=TRUE");
    assert_eq!(node(&r.json())["value"], "TRUE");
    let r = e.put("/v2/keys/sp", "value=a+b%26c%3D");
    assert_eq!(node(&r.json())["value"], "a b&c=");
}

#[test]
fn writing_a_deep_key_creates_parent_dirs_and_under_a_file_is_104() {
    let (_d, e) = machine("parents");
    e.put("/v2/keys/a/b/c", "value=1");
    let r = e.get("/v2/keys/a");
    let v = r.json();
    assert_eq!(node(&v)["dir"], true);
    assert_eq!(node(&v)["createdIndex"], 2);
    e.put("/v2/keys/file", "value=x");
    let r = e.put("/v2/keys/file/child", "value=y");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errorCode"], 104);
    assert_eq!(r.json()["cause"], "/file");
}

#[test]
fn create_with_prev_exist_false_is_201_then_105_412() {
    let (_d, e) = machine("create");
    let r = e.put("/v2/keys/c", "value=1&prevExist=false");
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["action"], "create");
    let r = e.put("/v2/keys/c", "value=2&prevExist=false");
    assert_eq!(r.status, 412);
    assert_eq!(
        r.json(),
        json!({"errorCode":105,"message":"Key already exists","cause":"/c","index":2})
    );
}

#[test]
fn update_with_prev_exist_true_needs_the_key_and_keeps_created_index() {
    let (_d, e) = machine("update");
    let r = e.put("/v2/keys/u", "value=1&prevExist=true");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errorCode"], 100);
    e.put("/v2/keys/u", "value=1");
    let r = e.put("/v2/keys/u", "value=2&prevExist=true");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["action"], "update");
    assert_eq!(node(&v)["createdIndex"], 2);
    assert_eq!(node(&v)["modifiedIndex"], 3);
    assert_eq!(v["prevNode"]["value"], "1");
    let r = e.put("/v2/keys/u", "prevExist=true");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errorCode"], 204);
    assert_eq!(r.json()["cause"], "Update");
}

#[test]
fn compare_and_swap_rules_and_cause_format() {
    let (_d, e) = machine("cas");
    e.put("/v2/keys/k", "value=one");
    let r = e.put("/v2/keys/k", "value=two&prevValue=one");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["action"], "compareAndSwap");
    let r = e.put("/v2/keys/k", "value=three&prevValue=nope");
    assert_eq!(r.status, 412);
    assert_eq!(r.json()["cause"], "[nope != two]");
    let r = e.put("/v2/keys/k", "value=three&prevIndex=1");
    assert_eq!(r.json()["cause"], "[1 != 3]");
    let r = e.put("/v2/keys/k", "value=three&prevValue=one&prevIndex=1");
    assert_eq!(r.json()["cause"], "[one != two] [1 != 3]");
    assert_eq!(r.json()["errorCode"], 101);
    let r = e.put("/v2/keys/k", "value=x&prevValue=");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errorCode"], 201);
    assert_eq!(r.json()["cause"], "CompareAndSwap");
    let r = e.put("/v2/keys/k", "value=x&prevIndex=abc");
    assert_eq!(r.json()["errorCode"], 203);
    assert_eq!(r.json()["cause"], "CompareAndSwap");
    let r = e.put("/v2/keys/k", "value=four&prevIndex=3");
    assert_eq!(r.status, 200);
}

#[test]
fn compare_and_delete_rules() {
    let (_d, e) = machine("cad");
    e.put("/v2/keys/k", "value=one");
    let r = e.delete("/v2/keys/k?prevValue=two");
    assert_eq!(r.status, 412);
    assert_eq!(r.json()["cause"], "[two != one]");
    let r = e.delete("/v2/keys/k?prevValue=");
    assert_eq!(r.json()["errorCode"], 201);
    assert_eq!(r.json()["cause"], "CompareAndDelete");
    let r = e.delete("/v2/keys/k?prevIndex=x");
    assert_eq!(r.json()["cause"], "CompareAndDelete");
    let r = e.delete("/v2/keys/k?prevValue=one");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["action"], "compareAndDelete");
    assert!(node(&v).get("value").is_none());
    assert_eq!(v["prevNode"]["value"], "one");
}

#[test]
fn directories_list_delete_and_their_errors() {
    let (_d, e) = machine("dirs");
    let r = e.put("/v2/keys/d", "dir=true");
    assert_eq!(r.status, 201);
    assert_eq!(
        r.json(),
        json!({"action":"set","node":{"key":"/d","dir":true,"modifiedIndex":2,"createdIndex":2}})
    );
    let r = e.get("/v2/keys/d");
    assert!(
        node(&r.json()).get("nodes").is_none(),
        "empty dir has no nodes member"
    );
    let r = e.put("/v2/keys/d", "dir=true");
    assert_eq!((r.status, r.json()["errorCode"].clone()), (403, json!(102)));
    let r = e.put("/v2/keys/d", "value=x");
    assert_eq!(r.json()["errorCode"], 102);
    e.put("/v2/keys/d/x", "value=1");
    e.put("/v2/keys/d/sub/y", "value=2");
    let r = e.get("/v2/keys/d?sorted=true");
    let v = r.json();
    let nodes = node(&v)["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0]["key"], "/d/sub");
    assert!(
        nodes[0].get("nodes").is_none(),
        "non-recursive listing hides grandchildren"
    );
    let r = e.get("/v2/keys/d?recursive=true&sorted=true");
    assert_eq!(node(&r.json())["nodes"][0]["nodes"][0]["key"], "/d/sub/y");
    let r = e.delete("/v2/keys/d");
    assert_eq!((r.status, r.json()["errorCode"].clone()), (403, json!(102)));
    let r = e.delete("/v2/keys/d?dir=true");
    assert_eq!((r.status, r.json()["errorCode"].clone()), (403, json!(108)));
    let r = e.delete("/v2/keys/d?recursive=true");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["action"], "delete");
    assert_eq!(node(&v)["dir"], true);
    assert_eq!(e.get("/v2/keys/d").status, 404);
}

#[test]
fn set_dir_over_a_file_replaces_it() {
    let (_d, e) = machine("dirfile");
    e.put("/v2/keys/f", "value=1");
    let r = e.put("/v2/keys/f", "dir=true");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["prevNode"]["value"], "1");
    assert_eq!(node(&r.json())["dir"], true);
}

#[test]
fn hidden_keys_are_not_listed_but_readable() {
    let (_d, e) = machine("hidden");
    e.put("/v2/keys/_secret", "value=s");
    e.put("/v2/keys/visible", "value=v");
    let r = e.get("/v2/keys/");
    let v = r.json();
    let keys: Vec<&str> = node(&v)["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        vec!["/visible"],
        "neither /_secret nor /_etcd is listed"
    );
    assert!(
        node(&v).get("createdIndex").is_none(),
        "root has no indices"
    );
    assert_eq!(node(&e.get("/v2/keys/_secret").json())["value"], "s");
}

#[test]
fn root_is_read_only() {
    let (_d, e) = machine("root");
    let r = e.put("/v2/keys/", "value=x");
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"errorCode":107,"message":"Root is read only","cause":"/","index":1})
    );
    assert_eq!(
        e.delete("/v2/keys/?recursive=true").json()["errorCode"],
        107
    );
}

#[test]
fn registry_is_readable_but_not_writable() {
    let (_d, e) = machine("registry");
    let r = e.get("/v2/keys/_etcd/machines/m1");
    assert_eq!(r.status, 200);
    let v = r.json();
    let value = node(&v)["value"].as_str().unwrap().to_string();
    assert_eq!(
        value,
        format!("raft=http://{}&etcd=http://{}", e.peer, e.client)
    );
    assert_eq!(node(&v)["createdIndex"], 1);
    let r = e.put("/v2/keys/_etcd/machines/evil", "value=x");
    assert_eq!(r.json()["errorCode"], 106);
    assert_eq!(
        e.delete("/v2/keys/_etcd/machines/m1").json()["errorCode"],
        106
    );
    assert_eq!(e.put("/v2/keys/_etcd/registry/tok", "value=ok").status, 201);
}

#[test]
fn post_creates_in_order_keys_zero_padded() {
    let (_d, e) = machine("post");
    let r = e.post("/v2/keys/queue", "value=Job1");
    assert_eq!(r.status, 201);
    let v = r.json();
    assert_eq!(v["action"], "create");
    assert_eq!(node(&v)["key"], "/queue/00000000000000000002");
    assert_eq!(node(&v)["value"], "Job1");
    for i in 0..10 {
        e.post("/v2/keys/queue", &format!("value=j{i}"));
    }
    let r = e.get("/v2/keys/queue?sorted=true");
    let values: Vec<String> = node(&r.json())["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(values[0], "Job1");
    assert_eq!(values[10], "j9", "order survives past 9 thanks to padding");
    let r = e.post("/v2/keys/queue", "ttl=abc");
    assert_eq!(r.json()["cause"], "Create");
}

#[test]
fn ttl_shows_expiration_and_ttl_and_rejects_bad_values() {
    let (_d, e) = machine("ttl");
    let r = e.put("/v2/keys/t", "value=1&ttl=5");
    let v = r.json();
    assert_eq!(node(&v)["ttl"], 5);
    let exp = node(&v)["expiration"].as_str().unwrap().to_string();
    assert!(
        exp.ends_with('Z') && exp.contains('T'),
        "RFC 3339 UTC: {exp}"
    );
    for bad in ["ttl=abc", "ttl=-5", "ttl=1.5"] {
        let r = e.put("/v2/keys/t", &format!("value=1&{bad}"));
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["errorCode"], 202);
        assert_eq!(r.json()["cause"], "Update");
    }
    let r = e.put("/v2/keys/t", "value=1&ttl=&prevExist=true");
    assert!(
        node(&r.json()).get("ttl").is_none(),
        "empty ttl on update removes it"
    );
}

#[test]
fn a_key_with_ttl_expires_and_watchers_see_expire() {
    let (_d, e) = machine("expire");
    let r = e.put("/v2/keys/t", "value=1&ttl=1");
    let created = node(&r.json())["createdIndex"].as_u64().unwrap();
    let r = e.get(&format!("/v2/keys/t?wait=true&waitIndex={}", created + 1));
    let v = r.json();
    assert_eq!(v["action"], "expire");
    assert_eq!(node(&v)["key"], "/t");
    assert!(node(&v).get("value").is_none());
    assert_eq!(v["prevNode"]["value"], "1");
    assert_eq!(e.get("/v2/keys/t").status, 404);
}

#[test]
fn watch_returns_history_event_at_once_and_waits_for_new_ones() {
    let (_d, e) = machine("watch");
    e.put("/v2/keys/w", "value=1");
    let r = e.get("/v2/keys/w?wait=true&waitIndex=2");
    assert_eq!(r.json()["node"]["value"], "1");
    let client = e.client.clone();
    let waiter =
        std::thread::spawn(move || request(&client, "GET", "/v2/keys/w?wait=true", &[], b""));
    // The watch is registered once the store counts it.
    common::wait_for(
        "the watcher to register",
        std::time::Duration::from_secs(5),
        || {
            let s = e.get("/v2/stats/store").json();
            (s["watchers"] == 1).then_some(())
        },
    );
    e.put("/v2/keys/w", "value=2");
    let r = waiter.join().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["node"]["value"], "2");
    assert_eq!(r.json()["action"], "set");
}

#[test]
fn recursive_watch_sees_children_and_bad_wait_index_is_203() {
    let (_d, e) = machine("rwatch");
    e.put("/v2/keys/dir/a", "value=1");
    let r = e.get("/v2/keys/dir?wait=true&recursive=true&waitIndex=1");
    assert_eq!(r.json()["node"]["key"], "/dir/a");
    let r = e.get("/v2/keys/dir?wait=true&waitIndex=abc");
    assert_eq!(r.json()["errorCode"], 203);
    assert_eq!(r.json()["cause"], "Watch From Index");
}

#[test]
fn cleared_history_is_401() {
    let (_d, e) = machine("history");
    for i in 0..1005 {
        e.put("/v2/keys/h", &format!("value={i}"));
    }
    let r = e.get("/v2/keys/h?wait=true&waitIndex=2");
    assert_eq!(r.status, 400);
    let v = r.json();
    assert_eq!(v["errorCode"], 401);
    assert_eq!(v["cause"], "the requested history has been cleared [7/2]");
}

#[test]
fn boolean_parameters_accept_any_case_and_reject_other_words() {
    let (_d, e) = machine("bools");
    assert_eq!(e.put("/v2/keys/b", "dir=TRUE").status, 201);
    let r = e.get("/v2/keys/b?recursive=yes");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errorCode"], 209);
    assert_eq!(r.json()["cause"], "recursive");
}

#[test]
fn status_endpoints() {
    let (_d, e) = machine("status");
    let r = e.get("/version");
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("etcd "));
    let r = e.get("/v2/machines");
    assert_eq!(r.text(), format!("http://{}", e.client));
    let r = e.get("/v2/leader");
    assert_eq!(r.text(), format!("http://{}", e.peer));
    let v = e.get("/v2/stats/self").json();
    assert_eq!(v["name"], "m1");
    assert_eq!(v["state"], "leader");
    let v = e.get("/v2/stats/leader").json();
    assert_eq!(v, json!({"leader":"m1","followers":{}}));
    let v = e.get("/v2/stats/store").json();
    assert!(v.get("getsSuccess").is_some() && v.get("watchers").is_some());
    assert_eq!(e.get("/v2/keys").status, 404);
    assert_eq!(e.get("/nowhere").status, 404);
    assert_eq!(
        request(&e.client, "PATCH", "/v2/keys/x", &[], b"").status,
        404
    );
    assert_eq!(
        request(&e.client, "OPTIONS", "/anything", &[], b"").status,
        200
    );
    assert_eq!(
        e.get("/v2/admin/machines").status,
        404,
        "admin API is on the peer port"
    );
}

#[test]
fn head_answers_like_get_without_a_body() {
    let (_d, e) = machine("head");
    e.put("/v2/keys/h", "value=1");
    let r = request(&e.client, "HEAD", "/v2/keys/h", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(
        request(&e.client, "HEAD", "/v2/keys/missing", &[], b"").status,
        404
    );
}

#[test]
fn bad_input_gets_clear_errors() {
    let (_d, e) = machine("badinput");
    // An oversized body is refused before it is sent (curl sends
    // `Expect: 100-continue` for large bodies and waits for the answer).
    {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&e.client).unwrap();
        let head = format!(
            "PUT /v2/keys/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            11 * 1024 * 1024
        );
        s.write_all(head.as_bytes()).unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    }
    let r = common::form_request(&e.client, "PUT", "/v2/keys/bad", "value=%zz");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errorCode"], 209);
    let r = request(
        &e.client,
        "PUT",
        "/v2/keys/utf",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"value=%ff%fe",
    );
    assert_eq!(r.status, 400);
    let r = request(&e.client, "GET", "/v2/keys/%ff", &[], b"");
    assert_eq!(r.status, 400);
    // The machine still serves after all of that.
    assert_eq!(e.put("/v2/keys/ok", "value=1").status, 201);
}

#[test]
fn percent_escapes_in_the_path_are_decoded() {
    let (_d, e) = machine("escapes");
    e.put("/v2/keys/a%2Fb", "value=1");
    assert_eq!(e.get("/v2/keys/a/b").json()["node"]["value"], "1");
    let r = e.put("/v2/keys/sp%20ace/", "value=2");
    assert_eq!(r.json()["node"]["key"], "/sp ace");
}
