//! A small HTTP/1.1 client keeping one persistent connection to one peer.

use super::body::{Framing, read_body, response_framing};
use super::head::{Version, find_header, has_token, parse_response_head};
use super::stream::{Stream, plain};
use super::wire::{ReadError, Wire};
use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Turns a connected socket into the stream to speak over (TLS or nothing).
pub type Connect = Arc<dyn Fn(TcpStream) -> io::Result<Box<dyn Stream>> + Send + Sync>;

/// Timeouts and caps of a client. Changes apply from the next request.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub connect_timeout: Duration,
    /// Bound on each blocking read (not on the whole response, so a large
    /// snapshot may take longer as long as bytes keep coming).
    pub read_timeout: Duration,
    /// Bound on each blocking write.
    pub write_timeout: Duration,
    pub max_header_bytes: usize,
    /// Largest response body accepted (snapshots can be big).
    pub max_body_bytes: usize,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
            max_header_bytes: 64 * 1024,
            max_body_bytes: 1 << 30,
        }
    }
}

/// A complete response, body de-chunked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ClientResponse {
    /// First value of the header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// One keep-alive connection to `addr`, opened on first use and reopened
/// (once per request) when a reused connection turns out dead.
pub struct HttpClient {
    addr: String,
    cfg: ClientConfig,
    connect: Connect,
    conn: Option<Kept>,
    opened: u64,
}

/// The kept connection and what is known of its socket; all of it goes
/// when the connection does.
struct Kept {
    wire: Wire,
    /// The (read, write) timeouts its socket has: set again only when the
    /// configuration changed, not before each request (two system calls of
    /// a peer message's six). None: unknown (a set failed half-way).
    timeouts: Option<(Duration, Duration)>,
    /// When it last completed an exchange.
    last_used: Option<Instant>,
}

/// A connection used more recently than this is not probed before the next
/// request: no server closes a connection for idleness that fast, and one
/// that died anyway is caught by the retry on a fresh one. A peer sender
/// probed before each of its messages, one system call each.
const PROBE_IDLE_AFTER: Duration = Duration::from_secs(1);

/// A failed attempt. `retry` is set when a reused connection proved dead
/// before a single response byte came back: almost always the server closed
/// it while idle just as we sent (the keep-alive race), so one more try on a
/// fresh connection is what the caller wants. Timeouts are never retried.
pub(crate) struct Failure {
    pub(crate) error: io::Error,
    retry: bool,
}

impl HttpClient {
    /// A client to `addr` (`host:port`, preferably an IP literal such as
    /// `127.0.0.1:7001`) whose connect, read and write timeouts are all
    /// `timeout`; other limits are the defaults.
    pub fn new(addr: &str, connect: Connect, timeout: Duration) -> HttpClient {
        let cfg = ClientConfig {
            connect_timeout: timeout,
            read_timeout: timeout,
            write_timeout: timeout,
            ..ClientConfig::default()
        };
        HttpClient::with_config(addr, cfg, connect)
    }

    /// A client with every timeout and cap chosen by the caller.
    pub fn with_config(addr: &str, cfg: ClientConfig, connect: Connect) -> HttpClient {
        HttpClient {
            addr: addr.to_string(),
            cfg,
            connect,
            conn: None,
            opened: 0,
        }
    }

    /// A client over plain TCP.
    pub fn plain(addr: &str, cfg: ClientConfig) -> HttpClient {
        HttpClient::with_config(addr, cfg, Arc::new(plain))
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    pub fn config_mut(&mut self) -> &mut ClientConfig {
        &mut self.cfg
    }

    /// How many connections this client has opened so far.
    pub fn connections_opened(&self) -> u64 {
        self.opened
    }

    /// True when the kept connection has been closed by the server.
    #[cfg(test)]
    pub(crate) fn kept_connection_lost(&self) -> bool {
        self.conn
            .as_ref()
            .is_some_and(|k| k.wire.stream.peer_closed())
    }

    /// Drops the connection; the next request opens a new one.
    pub fn close(&mut self) {
        if let Some(kept) = self.conn.take() {
            kept.wire.stream.shutdown();
        }
    }

    /// Sends one request and reads the whole response. `path` is the raw
    /// request-target (`/raft/append?x=1`).
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<ClientResponse> {
        let mut message = self.encode(method, path, headers, body)?;
        // One write (one segment) for head and body: a peer message is a
        // few hundred bytes, and two writes were two system calls for it.
        let body = if body.len() <= super::responder::COALESCE_LIMIT {
            message.extend_from_slice(body);
            &[]
        } else {
            body
        };
        let head_request = method.eq_ignore_ascii_case("HEAD");
        let probe = |k: &Kept| k.last_used.is_none_or(|t| t.elapsed() >= PROBE_IDLE_AFTER);
        if self
            .conn
            .as_ref()
            .is_some_and(|k| probe(k) && k.wire.stream.peer_closed())
        {
            self.close();
        }
        let reused = self.conn.is_some();
        match self.attempt(&message, body, head_request) {
            Err(f) if reused && f.retry => {
                log::debug!(
                    "httpd client {}: reused connection was dead ({}); reconnecting",
                    self.addr,
                    f.error
                );
                self.attempt(&message, body, head_request)
                    .map_err(|f| f.error)
            }
            other => other.map_err(|f| f.error),
        }
    }

    fn encode(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Vec<u8>> {
        let bad = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid {what} for an HTTP request"),
            )
        };
        if method.is_empty()
            || !method
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad("method"));
        }
        if path.is_empty() || path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(bad("path"));
        }
        let mut out = format!("{method} {path} HTTP/1.1\r\n").into_bytes();
        let mut has_host = false;
        for (name, value) in headers {
            if name.is_empty()
                || name
                    .bytes()
                    .chain(value.bytes())
                    .any(|b| b == b'\r' || b == b'\n')
                || name.contains(':')
            {
                return Err(bad("header"));
            }
            has_host |= name.eq_ignore_ascii_case("host");
            if !name.eq_ignore_ascii_case("content-length") {
                out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
        }
        if !has_host {
            out.extend_from_slice(format!("Host: {}\r\n", self.addr).as_bytes());
        }
        let expects_body = matches!(method, "POST" | "PUT" | "PATCH");
        if !body.is_empty() || expects_body {
            out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }

    fn attempt(
        &mut self,
        message: &[u8],
        body: &[u8],
        head_request: bool,
    ) -> Result<ClientResponse, Failure> {
        let fresh = self.conn.is_none();
        let result = self.exchange(message, body, head_request);
        match result {
            Ok((resp, keep)) => {
                match self.conn.as_mut() {
                    Some(kept) if keep => kept.last_used = Some(Instant::now()),
                    _ => self.close(),
                }
                Ok(resp)
            }
            Err(mut f) => {
                self.close();
                f.retry &= !fresh;
                Err(f)
            }
        }
    }

    /// Returns the response and whether the connection may be reused.
    fn exchange(
        &mut self,
        message: &[u8],
        body: &[u8],
        head_request: bool,
    ) -> Result<(ClientResponse, bool), Failure> {
        let fatal = |error| Failure {
            error,
            retry: false,
        };
        if self.conn.is_none() {
            let stream = self.open().map_err(fatal)?;
            self.conn = Some(Kept {
                wire: Wire::new(stream),
                // `open` gave the socket the configured timeouts.
                timeouts: Some((self.cfg.read_timeout, self.cfg.write_timeout)),
                last_used: None,
            });
            self.opened += 1;
        }
        let cfg = self.cfg.clone();
        let Some(kept) = self.conn.as_mut() else {
            return Err(fatal(io::Error::other("no connection")));
        };
        let wanted = (cfg.read_timeout, cfg.write_timeout);
        let wire = &mut kept.wire;
        if kept.timeouts != Some(wanted) {
            kept.timeouts = None;
            wire.stream
                .set_read_timeout(Some(cfg.read_timeout))
                .map_err(fatal)?;
            wire.stream
                .set_write_timeout(Some(cfg.write_timeout))
                .map_err(fatal)?;
            kept.timeouts = Some(wanted);
        }
        let sent = wire
            .stream
            .write_all(message)
            .and_then(|_| wire.stream.write_all(body))
            .and_then(|_| wire.stream.flush());
        if let Err(error) = sent {
            let retry = is_dead_connection(&error);
            return Err(Failure { error, retry });
        }
        read_response(wire, &cfg, head_request)
    }

    fn open(&self) -> io::Result<Box<dyn Stream>> {
        let mut last = io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no address for {}", self.addr),
        );
        for addr in self.addr.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, self.cfg.connect_timeout) {
                Ok(tcp) => {
                    let _ = tcp.set_nodelay(true);
                    // Bounds a TLS handshake done by `connect`.
                    tcp.set_read_timeout(Some(self.cfg.read_timeout))?;
                    tcp.set_write_timeout(Some(self.cfg.write_timeout))?;
                    return (self.connect)(tcp);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

pub(crate) fn read_response(
    wire: &mut Wire,
    cfg: &ClientConfig,
    head_request: bool,
) -> Result<(ClientResponse, bool), Failure> {
    let fail = |e: ReadError| Failure {
        error: e.into_io(),
        retry: false,
    };
    let head = loop {
        let raw = match wire.read_head(cfg.max_header_bytes) {
            Ok(raw) => raw,
            // Nothing at all came back: the server had closed the idle
            // connection before our request arrived.
            Err(ReadError::Closed) => {
                return Err(Failure {
                    error: ReadError::Closed.into_io(),
                    retry: true,
                });
            }
            Err(ReadError::Io(error)) if is_dead_connection(&error) => {
                return Err(Failure { retry: true, error });
            }
            Err(e) => return Err(fail(e)),
        };
        let head = parse_response_head(&raw)
            .map_err(|_| fail(ReadError::Malformed("bad response head")))?;
        // Interim answers (100 Continue) precede the real one.
        if !(100..200).contains(&head.status) {
            break head;
        }
    };
    let framing = response_framing(&head.headers, head.status, head_request).map_err(fail)?;
    let body = read_body(wire, framing, cfg.max_body_bytes, cfg.max_header_bytes).map_err(fail)?;
    let keep = framing != Framing::UntilClose
        && !has_token(&head.headers, "connection", "close")
        && (head.version == Version::Http11
            || has_token(&head.headers, "connection", "keep-alive"));
    Ok((
        ClientResponse {
            status: head.status,
            headers: head.headers,
            body,
        },
        keep,
    ))
}

fn is_dead_connection(e: &io::Error) -> bool {
    use io::ErrorKind as K;
    matches!(
        e.kind(),
        K::BrokenPipe
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::UnexpectedEof
            | K::NotConnected
    )
}
