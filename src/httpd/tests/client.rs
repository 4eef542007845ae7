//! HttpClient against our server and against scripted raw servers.

use super::*;
use crate::httpd::{HttpClient, Request, Responder, Response};
use std::thread;

fn echo_port(req: Request, out: &mut Responder) {
    let port = req.remote.map(|a| a.port()).unwrap_or(0);
    let mut resp = Response::text(
        200,
        &format!("{port} {}", String::from_utf8_lossy(&req.body)),
    );
    if req.path == "/bye" {
        resp = resp.with_header("Connection", "close");
    }
    out.send(resp).unwrap();
}

fn client(addr: SocketAddr) -> HttpClient {
    HttpClient::plain(&addr.to_string(), ClientConfig::default())
}

#[test]
fn one_connection_is_reused_for_many_requests() {
    let addr = start(quick_config(), echo_port);
    let mut c = client(addr);
    let mut ports = std::collections::BTreeSet::new();
    for i in 0..50 {
        let body = format!("value={i}");
        let r = c
            .request(
                "PUT",
                "/v2/keys/a",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                body.as_bytes(),
            )
            .unwrap();
        assert_eq!(r.status, 200);
        let text = String::from_utf8(r.body).unwrap();
        let (port, echoed) = text.split_once(' ').unwrap();
        assert_eq!(echoed, body);
        ports.insert(port.to_string());
    }
    assert_eq!(ports.len(), 1);
    assert_eq!(c.connections_opened(), 1);
}

#[test]
fn connection_close_from_the_server_makes_the_next_request_reconnect() {
    let addr = start(quick_config(), echo_port);
    let mut c = client(addr);
    assert_eq!(c.request("GET", "/bye", &[], b"").unwrap().status, 200);
    assert_eq!(c.request("GET", "/again", &[], b"").unwrap().status, 200);
    assert_eq!(c.connections_opened(), 2);
}

#[test]
fn idle_connection_closed_by_the_server_is_replaced_transparently() {
    let addr = start(
        ServerConfig {
            read_timeout: Duration::from_millis(200),
            ..quick_config()
        },
        echo_port,
    );
    let mut c = client(addr);
    c.request("GET", "/", &[], b"").unwrap();
    assert!(eventually(Duration::from_secs(3), || c.kept_connection_lost()));
    assert_eq!(c.request("GET", "/", &[], b"").unwrap().status, 200);
    assert_eq!(c.connections_opened(), 2);
}

/// A scripted server: accepts connections in turn and lets `script` drive
/// each raw socket, with the connection's index.
fn raw_server(script: impl Fn(usize, TcpStream) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for (i, s) in listener.incoming().enumerate() {
            script(i, s.unwrap());
        }
    });
    addr
}

/// Reads one request head off a raw socket.
fn read_request_head(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).unwrap_or(0) == 0 {
            break;
        }
        got.push(b[0]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn request_lost_on_a_reused_connection_is_retried_once_on_a_new_one() {
    let addr = raw_server(|i, mut s| {
        read_request_head(&mut s);
        if i == 0 {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nc0")
                .unwrap();
            // Reads the second request, then vanishes without answering:
            // the peer_closed probe cannot have seen this coming.
            read_request_head(&mut s);
        } else {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nc1")
                .unwrap();
            read_request_head(&mut s);
        }
    });
    let mut c = client(addr);
    assert_eq!(c.request("GET", "/", &[], b"").unwrap().body, b"c0");
    assert_eq!(c.request("GET", "/", &[], b"").unwrap().body, b"c1");
    assert_eq!(c.connections_opened(), 2);
}

#[test]
fn a_fresh_connection_failing_is_not_retried() {
    let addr = raw_server(|_, mut s| {
        read_request_head(&mut s);
    });
    let mut c = client(addr);
    assert!(c.request("GET", "/", &[], b"").is_err());
    assert_eq!(c.connections_opened(), 1);
}

#[test]
fn chunked_and_until_close_bodies_are_read_whole() {
    let addr = raw_server(|i, mut s| {
        read_request_head(&mut s);
        if i == 0 {
            s.write_all(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
            read_request_head(&mut s);
            s.write_all(b"HTTP/1.0 200 OK\r\n\r\nuntil the end")
                .unwrap();
        }
    });
    let mut c = client(addr);
    assert_eq!(c.request("GET", "/", &[], b"").unwrap().body, b"abcde");
    assert_eq!(
        c.request("GET", "/", &[], b"").unwrap().body,
        b"until the end"
    );
}

#[test]
fn a_response_body_over_the_cap_is_an_error() {
    let addr = raw_server(|_, mut s| {
        read_request_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    });
    let cfg = ClientConfig {
        max_body_bytes: 10,
        ..ClientConfig::default()
    };
    let mut c = HttpClient::plain(&addr.to_string(), cfg);
    let err = c.request("GET", "/", &[], b"").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
}

#[test]
fn streamed_responses_from_our_server_are_de_chunked() {
    let addr = start(quick_config(), |_: Request, out: &mut Responder| {
        out.start_stream(200, vec![]).unwrap();
        for part in ["a", "bc", "def"] {
            out.send_chunk(part.as_bytes()).unwrap();
        }
        out.finish_stream().unwrap();
    });
    let mut c = client(addr);
    for _ in 0..3 {
        assert_eq!(c.request("GET", "/", &[], b"").unwrap().body, b"abcdef");
    }
    assert_eq!(c.connections_opened(), 1);
}

#[test]
fn new_applies_one_timeout_to_reads() {
    let addr = raw_server(|_, mut s| {
        read_request_head(&mut s);
        // Never answers; holds the connection open a while.
        while s.read(&mut [0u8; 64]).is_ok_and(|n| n > 0) {}
    });
    let mut c = HttpClient::new(
        &addr.to_string(),
        Arc::new(plain),
        Duration::from_millis(200),
    );
    assert_times_out_soon(&mut c, "POST", "/raft");
}

/// The request fails with a read timeout, well before the 5 s default.
fn assert_times_out_soon(c: &mut HttpClient, method: &str, path: &str) {
    let t = Instant::now();
    let err = c.request(method, path, &[], b"x").unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        ),
        "{err:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn unreachable_address_fails_within_the_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut c = client(addr);
    let t = Instant::now();
    assert!(c.request("GET", "/", &[], b"").is_err());
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn header_injection_in_arguments_is_refused() {
    let mut c = HttpClient::plain("127.0.0.1:1", ClientConfig::default());
    assert!(c.request("GET", "/a b", &[], b"").is_err());
    assert!(
        c.request("GET", "/", &[("X", "a\r\nEvil: 1")], b"")
            .is_err()
    );
    assert_eq!(c.connections_opened(), 0);
}

#[test]
fn a_timeout_changed_between_requests_applies_to_the_kept_connection() {
    let addr = raw_server(|_, mut s| {
        read_request_head(&mut s);
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        // The second request on this connection is never answered.
        read_request_head(&mut s);
        while s.read(&mut [0u8; 64]).is_ok_and(|n| n > 0) {}
    });
    let mut c = client(addr);
    assert_eq!(c.request("GET", "/a", &[], b"").unwrap().status, 200);
    c.config_mut().read_timeout = Duration::from_millis(200);
    // The new timeout was applied, not the 5 s the connection opened with.
    assert_times_out_soon(&mut c, "POST", "/b");
    assert_eq!(c.connections_opened(), 1);
}
