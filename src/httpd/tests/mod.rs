//! Tests over real loopback sockets: the server and client together, with
//! raw sockets where a misbehaving peer is needed.

mod client;
mod limits;
mod server;

use super::client::read_response;
use super::wire::Wire;
use super::{ClientConfig, ClientResponse, Handler, ServerConfig, plain, serve};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Short limits so timeouts show within a test's patience.
fn quick_config() -> ServerConfig {
    ServerConfig {
        read_timeout: Duration::from_secs(5),
        write_timeout: Duration::from_secs(5),
        max_body_bytes: 1024 * 1024,
        name: "test".into(),
        ..ServerConfig::default()
    }
}

/// Starts a plain-TCP server on an ephemeral loopback port.
fn start(cfg: ServerConfig, handler: impl Handler + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    serve(listener, cfg, Arc::new(plain), Arc::new(handler)).unwrap();
    addr
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Reads one response from a raw socket (through the client's parser).
fn read_one(s: &TcpStream, head_request: bool) -> std::io::Result<ClientResponse> {
    let mut wire = Wire::new(Box::new(s.try_clone()?));
    let cfg = ClientConfig {
        read_timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    };
    read_response(&mut wire, &cfg, head_request)
        .map(|(r, _)| r)
        .map_err(|f| f.error)
}

/// Sends raw bytes and reads one response.
fn exchange(s: &mut TcpStream, raw: &[u8]) -> ClientResponse {
    s.write_all(raw).unwrap();
    read_one(s, false).unwrap()
}

/// True once the server has closed `s` (EOF or reset), waiting at most `limit`.
fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// Polls `cond` until it holds or `limit` passes.
fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cond()
}
