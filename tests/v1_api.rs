//! etcd 0.4.6's v1 API driven through the real binary: bodies byte for
//! byte, statuses and headers as 0.4.6 answered them, one store and one
//! index shared with v2, watches, the status endpoints, and a follower's
//! redirect. Indices on one machine: its own registration is 1, so the
//! first write is 2.

mod common;

use std::time::Duration;

use common::{Etcd, Resp, TempDir, form_request, request, request_l, try_request, wait_for};
use serde_json::{Value, json};

fn machine(tag: &str) -> (TempDir, Etcd) {
    let dir = TempDir::new(tag);
    let etcd = Etcd::start(dir.path(), "m1", &[]);
    (dir, etcd)
}

/// A v1 success: 200, the exact body, and none of etcd's own headers
/// (0.4.6 sent none; Go named the JSON text/plain).
fn assert_v1(r: &Resp, body: &str) {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), body);
    assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("X-Etcd-Index"), None);
}

/// A v1 error: the v2 error body and headers.
fn assert_error(r: &Resp, status: u16, body: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.text(), format!("{body}\n"));
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    let index = r.json()["index"].as_u64().unwrap();
    assert_eq!(r.etcd_index(), index);
}

/// Waits until `n` watchers are registered on `e`.
fn wait_for_watchers(e: &Etcd, n: u64) {
    wait_for("the watch to register", Duration::from_secs(5), || {
        let stats = e.get("/v2/stats/store").json();
        (stats["watchers"] == n).then_some(())
    });
}

#[test]
fn a_set_creates_a_new_key_and_a_second_set_shows_the_previous_value() {
    let (_d, e) = machine("v1set");
    let r = e.put("/v1/keys/foo/bar", "value=XXX");
    assert_v1(
        &r,
        r#"{"action":"set","key":"/foo/bar","value":"XXX","newKey":true,"index":2}"#,
    );
    let r = e.get("/v1/keys/foo/bar");
    assert_v1(
        &r,
        r#"{"action":"get","key":"/foo/bar","value":"XXX","index":2}"#,
    );
    let r = e.put("/v1/keys/foo/bar", "value=YYY");
    assert_v1(
        &r,
        r#"{"action":"set","key":"/foo/bar","prevValue":"XXX","value":"YYY","index":3}"#,
    );
    // POST is the same set; values travel in the query string too.
    let r = request(&e.client, "POST", "/v1/keys/q?value=a%26b", &[], b"");
    assert_v1(
        &r,
        r#"{"action":"set","key":"/q","value":"a\u0026b","newKey":true,"index":4}"#,
    );
    // A read reports the store index, not the node's.
    let r = e.get("/v1/keys/foo/bar");
    assert_v1(
        &r,
        r#"{"action":"get","key":"/foo/bar","value":"YYY","index":4}"#,
    );
}

#[test]
fn errors_are_the_v2_error_bodies_with_0_4_6_causes() {
    let (_d, e) = machine("v1errors");
    assert_error(
        &e.get("/v1/keys/missing"),
        404,
        r#"{"errorCode":100,"message":"Key not found","cause":"/missing","index":1}"#,
    );
    assert_error(
        &e.put("/v1/keys/k", ""),
        400,
        r#"{"errorCode":200,"message":"Value is Required in POST form","cause":"Set","index":1}"#,
    );
    assert_error(
        &e.put("/v1/keys/k", "value=1&ttl=bad_ttl"),
        400,
        r#"{"errorCode":202,"message":"The given TTL in POST form is not a number","cause":"Set","index":1}"#,
    );
    e.put("/v1/keys/file", "value=1");
    assert_error(
        &e.put("/v1/keys/file/child", "value=1"),
        400,
        r#"{"errorCode":104,"message":"Not a directory","cause":"/file","index":2}"#,
    );
    assert_error(
        &e.put("/v1/keys/_etcd/machines/m1", "value=x"),
        400,
        r#"{"errorCode":106,"message":"The prefix of given key is a keyword in etcd","cause":"/_etcd/machines/m1","index":2}"#,
    );
    let r = request(&e.client, "HEAD", "/v1/keys/missing", &[], b"");
    assert_eq!(r.status, 404);
    let r = request(&e.client, "HEAD", "/v1/keys/file", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
}

#[test]
fn a_ttl_shows_as_expiration_and_ttl() {
    let (_d, e) = machine("v1ttl");
    let r = e.put("/v1/keys/t", "value=1&ttl=20");
    assert_eq!(r.status, 200);
    let v = r.json();
    let members: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let text = r.text();
    assert!(
        text.find("\"newKey\"") < text.find("\"expiration\"")
            && text.find("\"expiration\"") < text.find("\"ttl\"")
            && text.find("\"ttl\"") < text.find("\"index\""),
        "member order: {text}"
    );
    assert_eq!(members.len(), 7, "{members:?}");
    assert_eq!(v["action"], "set");
    assert_eq!(v["newKey"], true);
    assert_eq!(v["ttl"], 20);
    let expiration = v["expiration"].as_str().unwrap();
    assert!(
        expiration.len() >= 20 && expiration.ends_with('Z'),
        "{expiration}"
    );
    let r = e.get("/v1/keys/t");
    let v = r.json();
    assert_eq!(v["expiration"], expiration);
    assert!(matches!(v["ttl"].as_i64(), Some(19..=20)), "{v}");
    // The same key through v2 has the same expiry instant.
    let v2 = e.get("/v2/keys/t").json();
    assert_eq!(v2["node"]["expiration"], expiration);
    // A set without ttl makes the key permanent again.
    let r = e.put("/v1/keys/t", "value=2");
    assert_v1(
        &r,
        r#"{"action":"set","key":"/t","prevValue":"1","value":"2","index":3}"#,
    );
}

#[test]
fn test_and_set_on_a_value_and_on_absence() {
    let (_d, e) = machine("v1tas");
    e.put("/v1/keys/k", "value=XXX");
    let r = e.put("/v1/keys/k", "value=YYY&prevValue=XXX");
    assert_v1(
        &r,
        r#"{"action":"testAndSet","key":"/k","prevValue":"XXX","value":"YYY","index":3}"#,
    );
    assert_error(
        &e.put("/v1/keys/k", "value=ZZZ&prevValue=AAA"),
        412,
        r#"{"errorCode":101,"message":"Compare failed","cause":"[AAA != YYY]","index":3}"#,
    );
    assert_error(
        &e.put("/v1/keys/absent", "value=1&prevValue=AAA"),
        404,
        r#"{"errorCode":100,"message":"Key not found","cause":"/absent","index":3}"#,
    );
    // An empty prevValue tests that the key does not exist yet.
    let r = e.put("/v1/keys/new", "value=1&prevValue=");
    assert_v1(
        &r,
        r#"{"action":"testAndSet","key":"/new","value":"1","index":4}"#,
    );
    assert_error(
        &e.put("/v1/keys/new", "value=2&prevValue="),
        412,
        r#"{"errorCode":105,"message":"Key already exists","cause":"/new","index":4}"#,
    );
    assert_eq!(e.get("/v1/keys/new").json()["value"], "1");
}

#[test]
fn a_directory_reads_as_an_array_of_its_visible_children() {
    let (_d, e) = machine("v1dir");
    e.put("/v1/keys/foo/x", "value=XXX");
    e.put("/v1/keys/foo/y/z", "value=YYY");
    e.put("/v1/keys/foo/_hidden", "value=h");
    let r = e.get("/v1/keys/foo");
    assert_v1(
        &r,
        r#"[{"action":"get","key":"/foo/x","value":"XXX","index":4},{"action":"get","key":"/foo/y","dir":true,"index":4}]"#,
    );
    // A hidden key is still readable by its name; an empty dir is [].
    assert_eq!(e.get("/v1/keys/foo/_hidden").json()["value"], "h");
    e.put("/v2/keys/empty", "dir=true");
    assert_v1(&e.get("/v1/keys/empty"), "[]");
    // The root lists too, without the hidden /_etcd.
    let v = e.get("/v1/keys/").json();
    let keys: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["/empty", "/foo"]);
}

#[test]
fn a_delete_removes_a_file_and_refuses_a_directory() {
    let (_d, e) = machine("v1delete");
    e.put("/v1/keys/foo/bar", "value=XXX");
    let r = e.delete("/v1/keys/foo/bar");
    assert_v1(
        &r,
        r#"{"action":"delete","key":"/foo/bar","prevValue":"XXX","index":3}"#,
    );
    assert_eq!(e.get("/v1/keys/foo/bar").status, 404);
    assert_error(
        &e.delete("/v1/keys/foo"),
        403,
        r#"{"errorCode":102,"message":"Not a file","cause":"/foo","index":3}"#,
    );
    assert_error(
        &e.delete("/v1/keys/nothing"),
        404,
        r#"{"errorCode":100,"message":"Key not found","cause":"/nothing","index":3}"#,
    );
    assert_eq!(e.delete("/v1/keys/_etcd/machines/m1").status, 400);
}

#[test]
fn v1_and_v2_share_one_store_and_one_index() {
    let (_d, e) = machine("v1cross");
    // v1 write, v2 read.
    e.put("/v1/keys/from1", "value=one");
    assert_eq!(
        e.get("/v2/keys/from1").json(),
        json!({"action":"get","node":{"key":"/from1","value":"one","modifiedIndex":2,"createdIndex":2}})
    );
    // v2 write, v1 read; the index keeps counting across both.
    let r = e.put("/v2/keys/from2", "value=two");
    assert_eq!(r.etcd_index(), 3);
    assert_v1(
        &e.get("/v1/keys/from2"),
        r#"{"action":"get","key":"/from2","value":"two","index":3}"#,
    );
    // A v1 test-and-set sees a value v2 wrote, and v2 sees the swap.
    e.put("/v1/keys/from2", "value=swapped&prevValue=two");
    let v = e.get("/v2/keys/from2").json();
    assert_eq!(v["node"]["value"], "swapped");
    assert_eq!(v["node"]["createdIndex"], 3);
    assert_eq!(v["node"]["modifiedIndex"], 4);
    // Deleting through v2 is seen by v1.
    e.delete("/v2/keys/from1");
    assert_eq!(e.get("/v1/keys/from1").status, 404);
    // Both APIs count in the same store stats.
    let stats = e.get("/v1/stats/store").json();
    assert_eq!(stats["setsSuccess"], 2);
    assert_eq!(stats["compareAndSwapSuccess"], 1);
}

#[test]
fn a_v1_watch_on_a_prefix_sees_a_v2_write() {
    let (_d, e) = machine("v1watch");
    e.put("/v1/keys/w/old", "value=0");
    let client = e.client.clone();
    // A GET ignores `index` (as in 0.4.6): it waits for the next change.
    let waiter =
        std::thread::spawn(move || try_request(&client, "GET", "/v1/watch/w?index=1", &[], b""));
    wait_for_watchers(&e, 1);
    let r = e.put("/v2/keys/w/new", "value=1");
    assert_eq!(r.etcd_index(), 3);
    let r = waiter.join().unwrap().unwrap();
    assert_v1(
        &r,
        r#"{"action":"set","key":"/w/new","value":"1","newKey":true,"index":3}"#,
    );
    // A watch on the exact key sees a v2 delete of it.
    let client = e.client.clone();
    let waiter =
        std::thread::spawn(move || try_request(&client, "GET", "/v1/watch/w/old", &[], b""));
    wait_for_watchers(&e, 1);
    e.delete("/v2/keys/w/old");
    let r = waiter.join().unwrap().unwrap();
    assert_v1(
        &r,
        r#"{"action":"delete","key":"/w/old","prevValue":"0","index":4}"#,
    );
    assert_eq!(e.get("/v2/stats/store").json()["watchers"], 0);
}

#[test]
fn a_v1_watch_with_index_answers_from_history() {
    let (_d, e) = machine("v1history");
    e.put("/v1/keys/h/a", "value=1");
    e.put("/v1/keys/h/b", "value=2");
    e.put("/v1/keys/other", "value=3");
    // The first event at or after the index, under the prefix, each with
    // its own index so that index + 1 resumes without a gap.
    let r = form_request(&e.client, "POST", "/v1/watch/h", "index=2");
    assert_v1(
        &r,
        r#"{"action":"set","key":"/h/a","value":"1","newKey":true,"index":2}"#,
    );
    let r = form_request(&e.client, "POST", "/v1/watch/h", "index=3");
    assert_v1(
        &r,
        r#"{"action":"set","key":"/h/b","value":"2","newKey":true,"index":3}"#,
    );
    let r = request(&e.client, "POST", "/v1/watch/h?index=3", &[], b"");
    assert_eq!(r.json()["key"], "/h/b", "index may come in the query");
    // Past the history's end, it waits for the next change.
    let client = e.client.clone();
    let waiter =
        std::thread::spawn(move || form_request(&client, "POST", "/v1/watch/h", "index=5"));
    wait_for_watchers(&e, 1);
    e.put("/v1/keys/h/a", "value=again");
    let r = waiter.join().unwrap();
    assert_v1(
        &r,
        r#"{"action":"set","key":"/h/a","prevValue":"1","value":"again","index":5}"#,
    );
    // A POST needs a numeric index.
    for form in ["", "index=x"] {
        assert_error(
            &form_request(&e.client, "POST", "/v1/watch/h", form),
            400,
            r#"{"errorCode":203,"message":"The given index in POST form is not a number","cause":"Watch From Index","index":5}"#,
        );
    }
    assert_eq!(e.delete("/v1/watch/h").status, 404);
}

#[test]
fn a_v1_watch_before_the_history_is_client_internal_error() {
    let (_d, e) = machine("v1cleared");
    for i in 0..1002 {
        e.put("/v1/keys/c", &format!("value={i}"));
    }
    let r = form_request(&e.client, "POST", "/v1/watch/c", "index=2");
    assert_error(
        &r,
        400,
        r#"{"errorCode":500,"message":"Client Internal Error","cause":"/c","index":1003}"#,
    );
}

#[test]
fn status_endpoints_under_v1() {
    let (_d, e) = machine("v1status");
    let r = e.get("/v1/leader");
    assert_eq!((r.status, r.text()), (200, format!("http://{}", e.peer)));
    let r = e.get("/v1/machines");
    assert_eq!((r.status, r.text()), (200, format!("http://{}", e.client)));
    assert_eq!(e.get("/v1/peers").text(), format!("http://{}", e.client));
    let v: Value = e.get("/v1/stats/self").json();
    assert_eq!(v["name"], "m1");
    assert_eq!(v["state"], "leader");
    assert_eq!(
        e.get("/v1/stats/leader").json(),
        json!({"leader":"m1","followers":{}})
    );
    e.put("/v1/keys/s", "value=1");
    e.get("/v1/keys/s");
    let v = e.get("/v1/stats/store").json();
    assert_eq!(v["setsSuccess"], 1);
    assert_eq!(v["getsSuccess"], 1);
    assert!(v.get("watchers").is_some());
    assert_eq!(e.get("/v1/keys").status, 404);
    assert_eq!(e.get("/v1/nowhere").status, 404);
    assert_eq!(
        request(&e.client, "PATCH", "/v1/keys/s", &[], b"").status,
        404
    );
}

#[test]
fn a_follower_redirects_v1_writes_to_the_leader() {
    let dir = TempDir::new("v1cluster");
    let machines = common::three_machines(dir.path(), &[]);
    let leader_peer = request(&machines[0].client, "GET", "/v1/leader", &[], b"").text();
    let leader = machines
        .iter()
        .find(|m| leader_peer == format!("http://{}", m.peer))
        .expect("the leader is one of the three");
    let follower = machines
        .iter()
        .find(|m| m.name != leader.name)
        .expect("a follower");
    // The leader's client URL is listed first.
    let listed = request(&follower.client, "GET", "/v1/machines", &[], b"").text();
    assert!(
        listed.starts_with(&format!("http://{}", leader.client)),
        "{listed}"
    );

    let r = form_request(&follower.client, "PUT", "/v1/keys/f?x=1", "value=bar");
    assert_eq!(r.status, 307);
    assert_eq!(
        r.header("Location"),
        Some(format!("http://{}/v1/keys/f?x=1", leader.client).as_str())
    );
    let r = form_request(&follower.client, "DELETE", "/v1/keys/f", "");
    assert_eq!(r.status, 307);
    // A follower validates before it redirects.
    assert_eq!(
        form_request(&follower.client, "PUT", "/v1/keys/f", "").json()["errorCode"],
        200
    );
    // Followed like `curl -L`, the write lands; the follower reads it
    // locally once it has applied it.
    let r = request_l(
        &follower.client,
        "PUT",
        "/v1/keys/f",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"value=bar",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["newKey"], true);
    let index = r.json()["index"].clone();
    wait_for(
        "the follower to apply the write",
        Duration::from_secs(5),
        || {
            let r = try_request(&follower.client, "GET", "/v1/keys/f", &[], b"").ok()?;
            (r.status == 200).then(|| r.json())
        },
    );
    let v = request(&follower.client, "GET", "/v2/keys/f", &[], b"").json();
    assert_eq!(v["node"]["value"], "bar");
    assert_eq!(v["node"]["modifiedIndex"], index);
}

#[test]
fn a_v1_watcher_that_hangs_up_is_forgotten() {
    use std::io::Write;
    let (_d, e) = machine("v1hangup");
    let mut s = std::net::TcpStream::connect(&e.client).unwrap();
    s.write_all(b"GET /v1/watch/gone HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    wait_for_watchers(&e, 1);
    drop(s);
    wait_for_watchers(&e, 0);
    // The machine still serves, and a change there wakes nobody.
    assert_eq!(e.put("/v1/keys/gone", "value=1").status, 200);
}
