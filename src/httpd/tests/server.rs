//! The server's behaviour as a client on a real socket sees it.

use super::*;
use crate::httpd::{Request, Responder, Response};
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;

fn echo(req: Request, out: &mut Responder) {
    let remote = req.remote.map(|a| a.port()).unwrap_or(0);
    let body = format!(
        "{} {} {} {}",
        req.method,
        req.target,
        remote,
        String::from_utf8_lossy(&req.body)
    );
    out.send(Response::text(200, &body)).unwrap();
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let addr = start(quick_config(), echo);
    let mut s = connect(addr);
    let local = s.local_addr().unwrap().port();
    for i in 0..5 {
        let r = exchange(
            &mut s,
            format!("PUT /k/{i} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nv{i}").as_bytes(),
        );
        assert_eq!(r.status, 200);
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            format!("PUT /k/{i} {local} v{i}")
        );
    }
}

#[test]
fn expect_100_continue_gets_continue_before_the_body_is_sent() {
    let addr = start(quick_config(), echo);
    let mut s = connect(addr);
    s.write_all(b"PUT /k HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        .unwrap();
    let mut interim = [0u8; 25];
    s.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"hello").unwrap();
    let r = read_one(&s, false).unwrap();
    assert_eq!(r.status, 200);
    assert!(String::from_utf8(r.body).unwrap().ends_with(" hello"));
}

#[test]
fn oversized_content_length_gets_413_without_the_body_being_sent() {
    let addr = start(quick_config(), echo);
    let mut s = connect(addr);
    let start = Instant::now();
    let r = exchange(
        &mut s,
        b"PUT /k HTTP/1.1\r\nContent-Length: 20971520\r\n\r\n",
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(!r.body.is_empty());
    assert!(closed_within(&mut s, Duration::from_secs(2)));
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_100_kib_header_line_gets_431() {
    let addr = start(quick_config(), echo);
    let mut s = connect(addr);
    let raw = format!(
        "GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let r = exchange(&mut s, raw.as_bytes());
    assert_eq!(r.status, 431);
}

#[test]
fn slow_loris_is_cut_off_at_the_read_timeout_while_others_are_served() {
    let timeout = Duration::from_millis(600);
    let addr = start(
        ServerConfig {
            read_timeout: timeout,
            ..quick_config()
        },
        echo,
    );
    let mut slow = connect(addr);
    let mut watcher = slow.try_clone().unwrap();
    let started = Instant::now();
    // The slow client: one byte every 50 ms, a head that would take 4 s.
    let writer = thread::spawn(move || {
        let head = format!("GET / HTTP/1.1\r\nX-Pad: {}\r\n\r\n", "a".repeat(60));
        for b in head.bytes() {
            if slow.write_all(&[b]).is_err() {
                return false;
            }
            thread::sleep(Duration::from_millis(50));
        }
        true
    });
    // Meanwhile a normal client gets prompt answers.
    for _ in 0..3 {
        let mut s = connect(addr);
        let t = Instant::now();
        assert_eq!(exchange(&mut s, b"GET /quick HTTP/1.1\r\n\r\n").status, 200);
        assert!(t.elapsed() < Duration::from_millis(500));
    }
    assert!(
        closed_within(&mut watcher, Duration::from_secs(3)),
        "slow client never cut off"
    );
    let cut_after = started.elapsed();
    assert!(
        cut_after >= timeout - Duration::from_millis(50),
        "cut too early: {cut_after:?}"
    );
    assert!(
        cut_after < timeout + Duration::from_millis(1500),
        "cut too late: {cut_after:?}"
    );
    assert!(!writer.join().unwrap(), "the slow head was accepted whole");
}

#[test]
fn idle_keep_alive_connection_is_closed_after_the_read_timeout() {
    let addr = start(
        ServerConfig {
            read_timeout: Duration::from_millis(300),
            ..quick_config()
        },
        echo,
    );
    let mut s = connect(addr);
    assert_eq!(exchange(&mut s, b"GET / HTTP/1.1\r\n\r\n").status, 200);
    let t = Instant::now();
    assert!(closed_within(&mut s, Duration::from_secs(3)));
    assert!(t.elapsed() >= Duration::from_millis(250));
}

#[test]
fn five_hundred_idle_connections_do_not_delay_a_new_client() {
    let addr = start(quick_config(), echo);
    let idle: Vec<TcpStream> = (0..500).map(|_| connect(addr)).collect();
    // Make sure the last idle ones are accepted and parked in their threads.
    let mut probe = connect(addr);
    assert_eq!(exchange(&mut probe, b"GET / HTTP/1.1\r\n\r\n").status, 200);
    let t = Instant::now();
    let mut s = connect(addr);
    assert_eq!(exchange(&mut s, b"GET /new HTTP/1.1\r\n\r\n").status, 200);
    assert!(
        t.elapsed() < Duration::from_millis(1000),
        "took {:?}",
        t.elapsed()
    );
    drop(idle);
}

#[test]
fn streamed_chunks_reach_the_client_before_the_stream_finishes() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = Mutex::new(go_rx);
    let addr = start(quick_config(), move |_: Request, out: &mut Responder| {
        out.start_stream(
            200,
            vec![("Content-Type".into(), "application/json".into())],
        )
        .unwrap();
        out.send_chunk(b"first").unwrap();
        let _ = go_rx.lock().unwrap().recv_timeout(Duration::from_secs(5));
        out.send_chunk(b"second").unwrap();
        out.finish_stream().unwrap();
    });
    let mut s = connect(addr);
    s.write_all(b"GET /watch HTTP/1.1\r\n\r\n").unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("5\r\nfirst\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed early");
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n") && text.contains("Transfer-Encoding: chunked"));
    assert!(!text.contains("second"));
    go_tx.send(()).unwrap();
    while !String::from_utf8_lossy(&seen).ends_with("0\r\n\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed early");
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&seen).contains("6\r\nsecond\r\n"));
}

#[test]
fn peer_closed_turns_true_after_the_client_disconnects() {
    let (tx, rx) = mpsc::channel::<(bool, bool)>();
    let tx = Mutex::new(tx);
    let addr = start(quick_config(), move |_: Request, out: &mut Responder| {
        out.set_write_timeout(None);
        // The client only leaves after it has seen the head.
        let before = out.peer_closed();
        out.start_stream(200, vec![]).unwrap();
        let after = eventually(Duration::from_secs(5), || out.peer_closed());
        tx.lock().unwrap().send((before, after)).unwrap();
    });
    let mut s = connect(addr);
    s.write_all(b"GET /v2/keys/a?wait=true HTTP/1.1\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 17];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200 OK\r\n");
    drop(s);
    let (before, after) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!before, "reported closed while the client was there");
    assert!(after, "never noticed the client left");
}

#[test]
fn a_panicking_handler_kills_only_its_connection() {
    let addr = start(quick_config(), |req: Request, out: &mut Responder| {
        if req.path == "/panic" {
            panic!("handler bug (expected in this test)");
        }
        echo(req, out)
    });
    let mut s = connect(addr);
    s.write_all(b"GET /panic HTTP/1.1\r\n\r\n").unwrap();
    assert!(read_one(&s, false).is_err());
    let mut s = connect(addr);
    assert_eq!(exchange(&mut s, b"GET /fine HTTP/1.1\r\n\r\n").status, 200);
}

#[test]
fn head_request_gets_length_and_no_body_on_a_live_connection() {
    let addr = start(quick_config(), echo);
    let mut s = connect(addr);
    s.write_all(b"HEAD /x HTTP/1.1\r\n\r\n").unwrap();
    let r = read_one(&s, true).unwrap();
    assert_eq!(r.status, 200);
    assert!(r.header("content-length").is_some_and(|l| l != "0"));
    assert!(r.body.is_empty());
    // No stray body bytes: the next response parses cleanly.
    assert_eq!(exchange(&mut s, b"GET /y HTTP/1.1\r\n\r\n").status, 200);
}
