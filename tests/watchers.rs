//! Many idle long-poll watchers must not starve other clients, must each
//! get their event, and must go away when their clients do.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Etcd, TempDir, wait_for};

const WATCHERS: usize = 2000;

fn watchers(e: &Etcd) -> u64 {
    e.get("/v2/stats/store").json()["watchers"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn two_thousand_idle_watchers_do_not_starve_other_clients() {
    let dir = TempDir::new("watchers");
    let e = Etcd::start(dir.path(), "m1", &[]);
    let mut conns = Vec::with_capacity(WATCHERS);
    for i in 0..WATCHERS {
        let mut s = TcpStream::connect(&e.client).expect("connect");
        let req = format!("GET /v2/keys/idle/{i}?wait=true HTTP/1.1\r\nHost: x\r\n\r\n");
        s.write_all(req.as_bytes()).expect("send watch");
        conns.push(s);
    }
    wait_for("every watcher to register", Duration::from_secs(60), || {
        (watchers(&e) == WATCHERS as u64).then_some(())
    });

    // Other clients are still served, each within a generous deadline.
    for i in 0..50 {
        let started = Instant::now();
        assert_eq!(e.put(&format!("/v2/keys/busy/{i}"), "value=1").status, 201);
        assert_eq!(e.get(&format!("/v2/keys/busy/{i}")).status, 200);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "request {i} waited {:?}",
            started.elapsed()
        );
    }

    // A watcher still gets its event.
    assert_eq!(e.put("/v2/keys/idle/7", "value=woke").status, 201);
    let s = &mut conns[7];
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("woke") {
        let n = s.read(&mut buf).expect("watch answer");
        assert!(
            n > 0,
            "watch closed without the event: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"action\":\"set\""), "{text}");

    // Clients that go away take their watchers with them.
    drop(conns);
    wait_for(
        "abandoned watchers to be cancelled",
        Duration::from_secs(30),
        || (watchers(&e) == 0).then_some(()),
    );
}

#[test]
fn a_stream_watch_sends_every_event() {
    let dir = TempDir::new("stream");
    let e = Etcd::start(dir.path(), "m1", &[]);
    let mut s = TcpStream::connect(&e.client).unwrap();
    s.write_all(b"GET /v2/keys/st?wait=true&stream=true HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    wait_for("the stream watcher", Duration::from_secs(10), || {
        (watchers(&e) == 1).then_some(())
    });
    for v in ["a", "b", "c"] {
        e.put("/v2/keys/st", &format!("value={v}"));
    }
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("\"value\":\"c\"") {
        let n = s.read(&mut buf).expect("stream data");
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    for v in ["a", "b", "c"] {
        assert!(text.contains(&format!("\"value\":\"{v}\"")), "{text}");
    }
}
