//! The listening side: the accept thread, one thread per connection, the
//! connection limit and what a connection past it is told.
//!
//! The accept thread only accepts, counts and hands the socket to the
//! spawner thread, which starts the connection's thread; socket options,
//! TLS, naming the thread and every log line about a single connection
//! happen on that connection's own thread. So a burst of new connections
//! is taken off the kernel's queue as fast as `accept` returns, however
//! slowly threads start. Lines about refusals and accept or spawn failures
//! are throttled to one per second.

use super::connection::serve_connection;
use super::head::Version;
use super::request::Request;
use super::responder::Responder;
use super::response::Response;
use super::stream::Stream;
use super::throttle::Throttle;
use super::wire::Wire;
use std::ffi::CString;
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
    /// Open connections; beyond it new ones get `busy` (a 503) and are closed.
    pub max_connections: usize,
    /// Stack of each connection thread; handlers must stay modest.
    pub stack_size: usize,
    /// Prefix of thread names (`<name>-accept`, `<name>-conn`).
    pub name: String,
    /// The answer for a connection past `max_connections`.
    pub busy: BusyReply,
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
            busy: BusyReply::default(),
        }
    }
}

/// Builds the response for a connection past the limit (given the limit),
/// on that connection's own thread. It is sent with `Connection: close`.
#[derive(Clone)]
pub struct BusyReply(pub Arc<dyn Fn(usize) -> Response + Send + Sync>);

impl Default for BusyReply {
    /// 503 with a small JSON body saying why.
    fn default() -> BusyReply {
        BusyReply(Arc::new(|limit| {
            let body = format!(
                "{{\"message\":\"too many connections: this server holds at most {limit}\"}}\n"
            );
            Response::json(503, body)
        }))
    }
}

impl std::fmt::Debug for BusyReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BusyReply(..)")
    }
}

/// Over-limit connections still get a thread to be told 503, up to this
/// many at once; past that they are closed without a word. Fixed, so the
/// descriptors they take can be reserved next to `max_connections`.
pub const REFUSING_AT_ONCE: usize = 64;

/// Longest a refused (over-limit) client may take to send its head.
const REFUSAL_BUDGET: Duration = Duration::from_secs(1);

/// At most one log line per this about refusals and accept failures.
const LOG_PERIOD: Duration = Duration::from_secs(1);

/// Everything a connection thread needs, behind one `Arc` so the accept
/// loop hands each new thread a single reference count.
struct Shared {
    cfg: ServerConfig,
    wrap: Wrap,
    handler: Arc<dyn Handler>,
    /// Connections currently holding a thread (refused ones included).
    active: AtomicUsize,
    /// `<name>-conn`, which each connection thread gives itself.
    thread_name: CString,
}

/// Accepted sockets waiting for their thread, at most (beyond it the
/// accept thread waits, and new connections wait in the kernel's queue).
/// Preallocated: handing a socket over allocates nothing.
const HANDOFF_QUEUE: usize = 8192;

/// A socket accepted and counted, on its way to its own thread.
struct Accepted {
    tcp: TcpStream,
    slot: Slot,
    over_limit: bool,
}

/// Starts the accept thread (and the thread that starts connection
/// threads) and returns at once. Each connection gets its own thread,
/// where `wrap` runs first (so a slow TLS handshake never holds up
/// accepting).
pub fn serve(
    listener: TcpListener,
    cfg: ServerConfig,
    wrap: Wrap,
    handler: Arc<dyn Handler>,
) -> io::Result<JoinHandle<()>> {
    let accept_name = format!("{}-accept", cfg.name);
    let spawn_name = format!("{}-spawn", cfg.name);
    // Kernel thread names are 15 bytes; a NUL inside cannot come from
    // our own names, and would only cost the name.
    let thread_name = CString::new(format!("{}-conn", cfg.name)).unwrap_or_default();
    let queue = HANDOFF_QUEUE.min(cfg.max_connections + REFUSING_AT_ONCE);
    let shared = Arc::new(Shared {
        cfg,
        wrap,
        handler,
        active: AtomicUsize::new(0),
        thread_name,
    });
    let (handoff, accepted) = crossbeam_channel::bounded(queue);
    let spawner_shared = Arc::clone(&shared);
    thread::Builder::new()
        .name(spawn_name)
        .spawn(move || spawn_loop(accepted, &spawner_shared))?;
    thread::Builder::new()
        .name(accept_name)
        .spawn(move || accept_loop(listener, shared, handoff))
}

/// What the accept loop tells the log about, at most once per `LOG_PERIOD`.
struct Refusals {
    throttle: Throttle,
    answered: u64,
    dropped: u64,
}

/// Accepts, counts and hands each socket over, nothing else: no TLS, no
/// socket options, no thread start, no per-connection log line. Starting a
/// thread takes tens of microseconds and, during a storm, waits on the
/// process's memory map lock behind the threads just started; accepting
/// takes a few. So a burst is drained from the kernel's queue (whose SYNs
/// would otherwise be dropped, each costing its client a 1 s retry) while
/// `spawn_loop` catches up.
fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    handoff: crossbeam_channel::Sender<Accepted>,
) {
    let mut refusals = Refusals {
        throttle: Throttle::new(LOG_PERIOD),
        answered: 0,
        dropped: 0,
    };
    let mut accept_failures = Throttle::new(LOG_PERIOD);
    for conn in listener.incoming() {
        match conn {
            Ok(tcp) => {
                if let Some(accepted) = admit(tcp, &shared, &mut refusals)
                    && handoff.send(accepted).is_err()
                {
                    return; // the spawner is gone: so is the server
                }
            }
            // A client that gave up while queued: nothing to do.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => {
                if let Some(held) = accept_failures.hit(Instant::now()) {
                    log::warn!(
                        "httpd {}: accept failed: {e}{}",
                        shared.cfg.name,
                        since_last_line(held, "failure")
                    );
                }
                // Out of descriptors or memory: back off instead of spinning;
                // the kernel keeps the queued connections meanwhile.
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Counts a connection for as long as its thread holds it, even through a
/// panic in the handler.
struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a new connection against the limit; None when it is to be closed
/// unanswered (too many being refused already).
fn admit(tcp: TcpStream, shared: &Arc<Shared>, refusals: &mut Refusals) -> Option<Accepted> {
    let already = shared.active.fetch_add(1, Ordering::SeqCst);
    let slot = Slot(Arc::clone(shared));
    let limit = shared.cfg.max_connections;
    let over_limit = already >= limit;
    if over_limit {
        let unanswered = already >= limit + REFUSING_AT_ONCE;
        if unanswered {
            refusals.dropped += 1;
        } else {
            refusals.answered += 1;
        }
        if refusals.throttle.hit(Instant::now()).is_some() {
            log::warn!(
                "httpd {}: {limit} connections open, the most allowed: refused {} new ones with 503{}",
                shared.cfg.name,
                refusals.answered,
                match refusals.dropped {
                    0 => String::new(),
                    n => format!(" and closed {n} unanswered (too many refusals at once)"),
                },
            );
            (refusals.answered, refusals.dropped) = (0, 0);
        }
        if unanswered {
            // Dropping `tcp` closes it; dropping `slot` gives the count back.
            return None;
        }
    }
    Some(Accepted {
        tcp,
        slot,
        over_limit,
    })
}

/// Starts one thread per accepted socket, in the order they were accepted.
fn spawn_loop(accepted: crossbeam_channel::Receiver<Accepted>, shared: &Shared) {
    let mut spawn_failures = Throttle::new(LOG_PERIOD);
    for Accepted {
        tcp,
        slot,
        over_limit,
    } in accepted
    {
        let spawned = thread::Builder::new()
            .stack_size(shared.cfg.stack_size)
            .spawn(move || connection(tcp, slot, over_limit));
        if let Err(e) = spawned
            && let Some(held) = spawn_failures.hit(Instant::now())
        {
            log::warn!(
                "httpd {}: cannot start a connection thread: {e}{}",
                shared.cfg.name,
                since_last_line(held, "failure")
            );
        }
    }
}

/// `" (and N more …s since the last line)"`, or nothing.
fn since_last_line(held: u64, what: &str) -> String {
    match held {
        0 => String::new(),
        n => format!(" (and {n} more {what}s since the last line)"),
    }
}

/// A connection's thread: everything the accept loop left to it.
fn connection(tcp: TcpStream, slot: Slot, over_limit: bool) {
    let shared = &*slot.0;
    let Some((wire, remote)) = set_up(tcp, shared, over_limit) else {
        return;
    };
    if over_limit {
        refuse_busy(wire, &shared.cfg);
    } else {
        serve_connection(wire, remote, &shared.cfg, &*shared.handler);
    }
}

/// Names the thread, sets the socket's options and runs `wrap` (the TLS
/// handshake). Out of line: its locals would otherwise stay in the frame
/// every idle watcher keeps below it (see `stack.rs`).
#[inline(never)]
fn set_up(
    tcp: TcpStream,
    shared: &Shared,
    over_limit: bool,
) -> Option<(Wire, Option<std::net::SocketAddr>)> {
    let cfg = &shared.cfg;
    name_this_thread(&shared.thread_name);
    let remote = tcp.peer_addr().ok();
    // Timeouts before `wrap`, so a stalled TLS handshake is bounded too.
    let read_timeout = if over_limit {
        cfg.read_timeout.min(REFUSAL_BUDGET)
    } else {
        cfg.read_timeout
    };
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_read_timeout(Some(read_timeout));
    let _ = tcp.set_write_timeout(Some(cfg.write_timeout));
    match (shared.wrap)(tcp) {
        Ok(stream) => Some((Wire::new(stream), remote)),
        Err(e) => {
            not_set_up(cfg, remote, &e);
            None
        }
    }
}

/// Out of line, like everything on this thread that an idle watcher does
/// not need: a waiting thread's memory is the stack its frames span.
#[cold]
#[inline(never)]
fn not_set_up(cfg: &ServerConfig, remote: Option<std::net::SocketAddr>, e: &io::Error) {
    log::debug!(
        "httpd {}: connection from {remote:?} not set up: {e}",
        cfg.name
    );
}

/// Names the calling thread for `top -H`, `ps -L` and debuggers (the
/// kernel keeps the first 15 bytes). Done by the thread itself, so the
/// accept loop does not build a name per connection.
fn name_this_thread(name: &CString) {
    // SAFETY: PR_SET_NAME reads a NUL-terminated string, which `name` is,
    // for the duration of the call.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, name.as_ptr());
    }
}

/// Reads the head (so the client is listening when the answer comes) and
/// answers with `cfg.busy`, closing the connection.
#[cold]
#[inline(never)]
fn refuse_busy(mut wire: Wire, cfg: &ServerConfig) {
    wire.set_deadline(Some(Instant::now() + cfg.read_timeout.min(REFUSAL_BUDGET)));
    if wire.read_head(cfg.max_header_bytes).is_ok() {
        let answer = (cfg.busy.0)(cfg.max_connections);
        let mut out = Responder::new(&mut *wire.stream, Version::Http11, false, false);
        let _ = out.send(answer);
    }
    wire.stream.shutdown();
}
