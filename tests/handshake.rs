//! The version handshake with real processes: a machine asked to join
//! through a peer that is not this program (etcd 0.4.6, etcd 2.x/3.x, any
//! other HTTP server) stops with one line naming the peer and its answer,
//! and never sends it a join; and the peer port answers the version
//! endpoints as 0.4.6 does, with our protocol number.

mod common;

use std::time::Duration;

use common::fake::{fake_http, http};
use common::{Etcd, TempDir, request};

fn refused_by(answer: &'static str, content_type: &'static str, status: &'static str) -> String {
    let dir = TempDir::new("handshake");
    let fake = fake_http(move |_, _| http(status, content_type, answer));
    let mut joiner = Etcd::new(dir.path(), "joiner", &["-peers", &fake.addr]);
    joiner.spawn();
    let exit = joiner
        .exit_within(Duration::from_secs(15))
        .unwrap_or_else(|| panic!("still running: {}", joiner.log_text()));
    assert!(!exit.success());
    let log = joiner.log_text();
    assert!(log.contains(&fake.addr), "names the peer: {log}");
    let requests = fake.requests.lock().unwrap().clone();
    assert!(
        requests.iter().all(|r| !r.contains("/join")),
        "a join was sent: {requests:?}"
    );
    assert!(
        requests.iter().any(|r| r.starts_with("GET /version ")),
        "{requests:?}"
    );
    assert!(
        !log.contains("etcd server ["),
        "served a client port: {log}"
    );
    log
}

#[test]
fn an_etcd_0_4_peer_is_refused_before_any_join() {
    let log = refused_by("2", "text/plain", "200 OK");
    assert!(
        log.contains("answered 200 \"2\"") && log.contains("etcd 0.4"),
        "{log}"
    );
}

#[test]
fn a_member_of_the_json_release_is_refused_before_any_join() {
    // Peer protocol 3 sent Raft messages as JSON; ours are binary (4).
    let log = refused_by("3", "text/plain", "200 OK");
    assert!(
        log.contains("answered 200 \"3\"") && log.contains("peer protocol 3; this etcd speaks 4"),
        "{log}"
    );
}

#[test]
fn a_json_batch_of_raft_messages_is_refused_by_name() {
    // What a member of the previous release (protocol 3) would post: it
    // must be refused, never read as something else.
    let dir = TempDir::new("handshake-json");
    let m = Etcd::start(dir.path(), "m1", &[]);
    let json = br#"[{"from":2,"to":1,"term":9,"body":{"HeartbeatResponse":{"ctx":0}}}]"#;
    let r = request(
        &m.peer,
        "POST",
        "/raft",
        &[("Content-Type", "application/json")],
        json,
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("peer protocol 3"), "{}", r.text());
    let r = request(&m.peer, "POST", "/raft", &[], b"eRft\x07\x00");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("peer protocol 7"), "{}", r.text());
}

#[test]
fn an_etcd_3_peer_is_refused_before_any_join() {
    let log = refused_by(
        r#"{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}"#,
        "application/json",
        "200 OK",
    );
    assert!(log.contains("etcd 3.4.23"), "{log}");
}

#[test]
fn any_other_server_is_refused_before_any_join() {
    let log = refused_by("<html>nope</html>", "text/html", "404 Not Found");
    assert!(log.contains("not this etcd's peer port"), "{log}");
}

#[test]
fn the_peer_port_answers_the_version_endpoints() {
    let dir = TempDir::new("handshake-ok");
    let m = Etcd::start(dir.path(), "m1", &[]);
    let r = request(&m.peer, "GET", "/version", &[], b"");
    assert_eq!((r.status, r.text().as_str()), (200, "4"));
    assert_eq!(
        request(&m.peer, "GET", "/version/4/check", &[], b"").status,
        200
    );
    for other in ["2", "3", "5", "0"] {
        let r = request(&m.peer, "GET", &format!("/version/{other}/check"), &[], b"");
        assert_eq!(r.status, 403, "{other}");
    }
    assert_eq!(
        request(&m.peer, "GET", "/version/x/check", &[], b"").status,
        404
    );
    // The client port still says what clients compare.
    assert_eq!(
        request(&m.client, "GET", "/version", &[], b"").text(),
        "etcd 0.4.6"
    );
}
