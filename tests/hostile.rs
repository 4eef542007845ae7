//! Hostile clients against the real binary: connections past
//! `-max-connections` (503 with etcd's JSON error, one log line, no crash,
//! served again once others leave), the listen backlog on both ports, and
//! slowloris and half-open clients (heads and bodies trickled byte by byte,
//! a client that never reads its answers) cut off by the timeouts while
//! others are served. TLS handshakes that never finish: tests/tls.rs.
//! How fast and how many: scripts/storm, scripts/watchers.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Etcd, TempDir, try_request, wait_for};

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// An idle long-poll watch on its own connection (its head is read, so
/// the server counts it before this returns).
fn idle_watcher(addr: &str, i: usize) -> TcpStream {
    let mut s = connect(addr);
    write!(
        s,
        "GET /v2/keys/idle/w{i}?wait=true HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "watch {i} closed early");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"), "{head:?}");
    s
}

fn status_of(addr: &str, path: &str) -> Option<u16> {
    try_request(addr, "GET", path, &[], b"")
        .ok()
        .map(|r| r.status)
}

#[test]
fn past_max_connections_new_clients_get_503_with_etcd_s_json_and_one_log_line() {
    let dir = TempDir::new("hostile-limit");
    let limit = 24;
    let mut e = Etcd::start(
        dir.path(),
        "limit",
        &["-max-connections", &limit.to_string()],
    );
    e.wait_ready();
    assert!(
        e.log_text().contains(&format!(
            "client connections: at most {limit} (-max-connections)"
        )),
        "{}",
        e.log_text()
    );
    let mut held: Vec<TcpStream> = (0..limit).map(|i| idle_watcher(&e.client, i)).collect();
    let first = wait_for("a 503 past the limit", Duration::from_secs(5), || {
        let r = try_request(&e.client, "GET", "/v2/keys/x", &[], b"").ok()?;
        (r.status == 503).then_some(r)
    });
    assert_eq!(first.header("Content-Type"), Some("application/json"));
    let v = first.json();
    assert_eq!(v["errorCode"], 300, "{v}");
    assert_eq!(v["message"], "Too many connections", "{v}");
    assert!(
        v["cause"].as_str().unwrap().contains(&limit.to_string()),
        "{v}"
    );
    // A burst of refusals: every one answered 503 (or closed), one log line.
    let started = Instant::now();
    for _ in 0..200 {
        if let Some(status) = status_of(&e.client, "/v2/keys/x") {
            assert_eq!(status, 503);
        }
    }
    let took = started.elapsed();
    assert!(e.is_running(), "the server died past the limit");
    let lines = e
        .log_text()
        .lines()
        .filter(|l| l.contains("the most allowed"))
        .count();
    let seconds = took.as_secs() as usize + 2;
    assert!(
        (1..=seconds).contains(&lines),
        "{lines} log lines about refusals in {took:?}"
    );
    // Watchers leave: new clients are served again.
    held.truncate(limit - 4);
    wait_for("a 200 once watchers left", Duration::from_secs(5), || {
        (status_of(&e.client, "/v2/keys/x?consistent=false") == Some(404)).then_some(())
    });
}

/// Connections opened while the server cannot accept (stopped): each that
/// completes its handshake waits in the accept queue; once the queue is
/// full the kernel drops SYNs and connects time out.
fn queued_while_stopped(addr: &str, n: usize) -> usize {
    let addr: SocketAddr = addr.parse().unwrap();
    let mut held = Vec::new();
    for _ in 0..n {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    held.len()
}

#[test]
fn both_ports_queue_more_connections_than_std_s_backlog_of_128() {
    let somaxconn: usize = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let want = 400;
    if somaxconn < want + 10 {
        eprintln!("skipped: net.core.somaxconn is {somaxconn}, too small to tell from 128");
        return;
    }
    let dir = TempDir::new("hostile-backlog");
    let mut e = Etcd::start(dir.path(), "backlog", &[]);
    e.wait_ready();
    let pid = e.child.as_ref().unwrap().id().to_string();
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} {pid}");
    };
    signal("-STOP");
    let client = queued_while_stopped(&e.client, want);
    let peer = queued_while_stopped(&e.peer, want);
    signal("-CONT");
    assert_eq!(client, want, "client port queued only {client}");
    assert_eq!(peer, want, "peer port queued only {peer}");
    // Resumed, it drains the queue and serves as before.
    wait_for("an answer after the burst", Duration::from_secs(10), || {
        (status_of(&e.client, "/version") == Some(200)).then_some(())
    });
}

#[test]
fn trickled_heads_and_bodies_are_cut_off_at_the_read_timeout_while_others_are_served() {
    let dir = TempDir::new("hostile-slowloris");
    let mut e = Etcd::start(dir.path(), "slow", &["-http-read-timeout", "1"]);
    e.wait_ready();
    let trickle = |prefix: &[u8], rest: &'static [u8]| {
        let mut s = connect(&e.client);
        s.write_all(prefix).unwrap();
        let started = Instant::now();
        for b in rest.iter().cycle() {
            if s.write_all(&[*b]).is_err() || started.elapsed() > Duration::from_secs(6) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        started.elapsed()
    };
    let others = std::thread::scope(|scope| {
        let head = scope.spawn(|| trickle(b"", b"GET /v2/keys/x HTTP/1.1\r\nX-Slow: aaaa"));
        let body = scope.spawn(|| {
            trickle(
                b"PUT /v2/keys/x HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nvalue=",
                b"a",
            )
        });
        // Meanwhile everyone else is served at once.
        let mut served = 0;
        while !head.is_finished() || !body.is_finished() {
            assert_eq!(status_of(&e.client, "/version"), Some(200));
            served += 1;
        }
        for (what, t) in [
            ("head", head.join().unwrap()),
            ("body", body.join().unwrap()),
        ] {
            // Cut off after the 1 s budget (the write fails once the server
            // closed); never left to trickle for the whole 6 s.
            assert!(t < Duration::from_secs(4), "trickled {what} lasted {t:?}");
        }
        served
    });
    assert!(others > 0);
    assert!(e.is_running());
}

#[test]
fn a_client_that_never_reads_its_answers_is_let_go_at_the_write_timeout() {
    let dir = TempDir::new("hostile-nonreader");
    // One connection at a time: whether the deaf client still holds its
    // slot is then plain to see (503 while it does).
    let mut e = Etcd::start(
        dir.path(),
        "deaf",
        &["-http-write-timeout", "1", "-max-connections", "1"],
    );
    e.wait_ready();
    let value = "v".repeat(512 * 1024);
    let form = format!("value={value}");
    // The one slot may still be held by wait_ready's last connection.
    let r = wait_for("the one slot to be free", Duration::from_secs(5), || {
        let r = common::form_request(&e.client, "PUT", "/v2/keys/big", &form);
        (r.status != 503).then_some(r)
    });
    assert_eq!(r.status, 201);
    wait_for(
        "the writer's slot to be free",
        Duration::from_secs(5),
        || (status_of(&e.client, "/version") == Some(200)).then_some(()),
    );
    // Pipelined GETs of 512 KiB each, never read: the answers fill both
    // socket buffers and the server's write blocks. (Should the previous
    // probe's thread still hold the slot, the deaf client is the one
    // refused: it tries again.)
    let deaf = wait_for(
        "the deaf client to hold the slot",
        Duration::from_secs(5),
        || {
            let mut deaf = connect(&e.client);
            deaf.set_write_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            for _ in 0..64 {
                if deaf
                    .write_all(b"GET /v2/keys/big HTTP/1.1\r\nHost: x\r\n\r\n")
                    .is_err()
                {
                    break;
                }
            }
            // Held, not refused itself: its first answer is the 200 that blocks.
            let mut first = [0u8; 12];
            deaf.read_exact(&mut first).ok()?;
            if &first != b"HTTP/1.1 200" {
                return None;
            }
            (status_of(&e.client, "/version") == Some(503)).then_some(deaf)
        },
    );
    // The slot comes back once the write timeout fires, though the client
    // never read and never closed.
    let started = Instant::now();
    wait_for(
        "the server to let the deaf client go",
        Duration::from_secs(10),
        || (status_of(&e.client, "/version") == Some(200)).then_some(()),
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(e.is_running());
    drop(deaf);
}
