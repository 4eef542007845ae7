//! The listening side: accept thread, one thread per connection, limits.

use super::connection::{refuse, serve_connection};
use super::request::Request;
use super::responder::Responder;
use super::stream::Stream;
use super::wire::Wire;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Application code answering requests. Called on the connection's own
/// thread, whose stack is small (`ServerConfig::stack_size`).
pub trait Handler: Send + Sync {
    fn handle(&self, req: Request, out: &mut Responder);
}

/// Any suitable closure is a handler (handy for small servers and tests).
impl<F> Handler for F
where
    F: Fn(Request, &mut Responder) + Send + Sync,
{
    fn handle(&self, req: Request, out: &mut Responder) {
        self(req, out)
    }
}

/// Turns an accepted socket into the stream to speak HTTP over (TLS
/// handshake or nothing). Runs on the connection's thread.
pub type Wrap = Arc<dyn Fn(TcpStream) -> io::Result<Box<dyn Stream>> + Send + Sync>;

/// Limits and timeouts of one server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// A whole request (head and body) must arrive within it; an idle
    /// keep-alive connection is closed after it. Also bounds a TLS handshake.
    pub read_timeout: Duration,
    /// Bound on each blocking write of a response (handlers may lift it).
    pub write_timeout: Duration,
    /// Request line plus headers; beyond it the answer is 431.
    pub max_header_bytes: usize,
    /// Request body; beyond it the answer is 413 and the rest is not read.
    pub max_body_bytes: usize,
    /// Open connections; beyond it new ones get 503 and are closed.
    pub max_connections: usize,
    /// Stack of each connection thread; handlers must stay modest.
    pub stack_size: usize,
    /// Prefix of thread names (`<name>-accept`, `<name>-conn`).
    pub name: String,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_header_bytes: 64 * 1024,
            max_body_bytes: 10 * 1024 * 1024,
            max_connections: 10_000,
            stack_size: 128 * 1024,
            name: "httpd".to_string(),
        }
    }
}

/// Over-limit connections still get a thread to be told 503, up to this
/// many more; past that they are dropped without a word.
fn overflow_allowance(cfg: &ServerConfig) -> usize {
    cfg.max_connections / 10 + 16
}

/// Longest a refused (over-limit) client may take to send its head.
const REFUSAL_BUDGET: Duration = Duration::from_secs(1);

/// Starts the accept thread and returns at once. Each connection gets its
/// own thread, where `wrap` runs first (so a slow TLS handshake never holds
/// up accepting).
pub fn serve(
    listener: TcpListener,
    cfg: ServerConfig,
    wrap: Wrap,
    handler: Arc<dyn Handler>,
) -> io::Result<JoinHandle<()>> {
    let cfg = Arc::new(cfg);
    let active = Arc::new(AtomicUsize::new(0));
    thread::Builder::new()
        .name(format!("{}-accept", cfg.name))
        .spawn(move || accept_loop(listener, cfg, wrap, handler, active))
}

fn accept_loop(
    listener: TcpListener,
    cfg: Arc<ServerConfig>,
    wrap: Wrap,
    handler: Arc<dyn Handler>,
    active: Arc<AtomicUsize>,
) {
    for conn in listener.incoming() {
        match conn {
            Ok(tcp) => dispatch(tcp, &cfg, &wrap, &handler, &active),
            // A client that gave up while queued: nothing to do.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => {
                log::warn!("httpd {}: accept failed: {e}", cfg.name);
                // Out of descriptors or memory: back off instead of spinning.
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Counts a connection for as long as its thread holds it, even through a
/// panic in the handler.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn dispatch(
    tcp: TcpStream,
    cfg: &Arc<ServerConfig>,
    wrap: &Wrap,
    handler: &Arc<dyn Handler>,
    active: &Arc<AtomicUsize>,
) {
    let already = active.fetch_add(1, Ordering::SeqCst);
    let slot = Slot(Arc::clone(active));
    if already >= cfg.max_connections + overflow_allowance(cfg) {
        log::warn!(
            "httpd {}: {already} connections open; dropping a new one",
            cfg.name
        );
        return;
    }
    let over_limit = already >= cfg.max_connections;
    let remote = tcp.peer_addr().ok();
    // Timeouts before `wrap`, so a stalled TLS handshake is bounded too.
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_read_timeout(Some(cfg.read_timeout));
    let _ = tcp.set_write_timeout(Some(cfg.write_timeout));
    let (cfg2, wrap, handler) = (Arc::clone(cfg), Arc::clone(wrap), Arc::clone(handler));
    let spawned = thread::Builder::new()
        .name(format!("{}-conn", cfg.name))
        .stack_size(cfg.stack_size)
        .spawn(move || {
            let _slot = slot;
            let stream = match wrap(tcp) {
                Ok(s) => s,
                Err(e) => {
                    log::debug!(
                        "httpd {}: connection from {remote:?} not set up: {e}",
                        cfg2.name
                    );
                    return;
                }
            };
            let wire = Wire::new(stream);
            if over_limit {
                refuse_busy(wire, &cfg2);
            } else {
                serve_connection(wire, remote, &cfg2, &*handler);
            }
        });
    if let Err(e) = spawned {
        log::warn!("httpd {}: cannot start a connection thread: {e}", cfg.name);
    }
}

/// Reads the head (so the client is listening when the answer comes) and
/// answers 503.
fn refuse_busy(mut wire: Wire, cfg: &ServerConfig) {
    wire.set_deadline(Some(Instant::now() + cfg.read_timeout.min(REFUSAL_BUDGET)));
    let _ = wire.read_head(cfg.max_header_bytes);
    refuse(&mut wire, 503);
    wire.stream.shutdown();
}
