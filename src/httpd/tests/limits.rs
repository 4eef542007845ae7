//! The connection cap.

use super::*;
use crate::httpd::{Request, Responder, Response};

fn ok(_: Request, out: &mut Responder) {
    out.send(Response::text(200, "ok")).unwrap();
}

#[test]
fn connections_beyond_the_cap_get_503_and_capacity_returns_when_one_closes() {
    let addr = start(
        ServerConfig {
            max_connections: 2,
            ..quick_config()
        },
        ok,
    );
    let mut a = connect(addr);
    let mut b = connect(addr);
    assert_eq!(exchange(&mut a, b"GET / HTTP/1.1\r\n\r\n").status, 200);
    assert_eq!(exchange(&mut b, b"GET / HTTP/1.1\r\n\r\n").status, 200);
    let mut c = connect(addr);
    let r = exchange(&mut c, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(r.status, 503);
    assert!(closed_within(&mut c, Duration::from_secs(2)));
    drop(a);
    let served = eventually(Duration::from_secs(5), || {
        let mut d = connect(addr);
        exchange(&mut d, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").status == 200
    });
    assert!(served, "a freed slot was never reused");
}
