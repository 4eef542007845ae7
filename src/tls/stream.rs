//! An established TLS session as the HTTP layer's `Stream`. Timeouts and
//! shutdown act on a clone of the raw socket (same descriptor); OpenSSL's
//! long error messages are shortened on the way out.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use openssl::ssl::{ErrorCode, SslStream};

use super::reason::of_ssl;
use crate::httpd::{Stream, tcp_peer_closed};

/// The accepting side (OpenSSL).
pub(crate) struct ServerTls {
    /// In a mutex only so `peer_closed(&self)` can peek through the session;
    /// reads and writes take `&mut self` and never lock.
    tls: Mutex<SslStream<TcpStream>>,
    raw: TcpStream,
}

/// The connecting side (native-tls).
pub(crate) struct ClientTls {
    pub(crate) tls: native_tls::TlsStream<TcpStream>,
    pub(crate) raw: TcpStream,
}

impl ServerTls {
    pub(crate) fn new(tls: SslStream<TcpStream>, raw: TcpStream) -> ServerTls {
        ServerTls {
            tls: Mutex::new(tls),
            raw,
        }
    }

    fn session(&mut self) -> &mut SslStream<TcpStream> {
        self.tls.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

/// OpenSSL reports protocol failures as `Other` errors wrapping its own
/// error type; keep the kind, shorten the text. Socket errors (timeouts,
/// resets) pass through untouched.
fn shorten(e: io::Error) -> io::Error {
    match e
        .get_ref()
        .and_then(|i| i.downcast_ref::<openssl::ssl::Error>())
    {
        Some(tls) => io::Error::new(e.kind(), format!("TLS: {}", of_ssl(tls))),
        None => e,
    }
}

fn set_timeout(
    raw: &TcpStream,
    d: Option<Duration>,
    set: fn(&TcpStream, Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    // std rejects a zero timeout; the smallest real one means "already late".
    set(raw, d.map(|d| d.max(Duration::from_millis(1))))
}

impl Read for ServerTls {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.session().read(buf).map_err(shorten)
    }
}

impl Write for ServerTls {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.session().write(buf).map_err(shorten)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.session().flush().map_err(shorten)
    }
}

impl Stream for ServerTls {
    /// Looks through the session, not just the socket: a client that says
    /// goodbye properly sends a close_notify record before its FIN, and a
    /// socket-level peek would take those bytes for a pending request.
    fn peer_closed(&self) -> bool {
        let mut tls = self.tls.lock().unwrap_or_else(PoisonError::into_inner);
        if self.raw.set_nonblocking(true).is_err() {
            return true;
        }
        let mut byte = [0u8; 1];
        let closed = match tls.ssl_peek(&mut byte) {
            Ok(n) => n == 0,
            Err(e) => !matches!(e.code(), ErrorCode::WANT_READ | ErrorCode::WANT_WRITE),
        };
        // Back to blocking: every other use of the socket relies on timeouts.
        let restored = self.raw.set_nonblocking(false).is_ok();
        closed || !restored
    }

    fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        set_timeout(&self.raw, d, TcpStream::set_read_timeout)
    }

    fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        set_timeout(&self.raw, d, TcpStream::set_write_timeout)
    }

    /// No close_notify: closing the socket is what the other side's probe
    /// (and any HTTP client) looks for, and it cannot block.
    fn shutdown(&self) {
        let _ = self.raw.shutdown(Shutdown::Both);
    }

    /// The socket itself: a client that leaves sends FIN after its
    /// close_notify, and the FIN is what the hang-up detector sees.
    fn raw_fd(&self) -> Option<RawFd> {
        Some(self.raw.as_raw_fd())
    }
}

impl Read for ClientTls {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tls.read(buf).map_err(shorten)
    }
}

impl Write for ClientTls {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tls.write(buf).map_err(shorten)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tls.flush().map_err(shorten)
    }
}

impl Stream for ClientTls {
    /// Our servers never send close_notify (see `ServerTls::shutdown`), so
    /// an idle connection they dropped shows as a closed socket.
    fn peer_closed(&self) -> bool {
        tcp_peer_closed(&self.raw)
    }

    fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        set_timeout(&self.raw, d, TcpStream::set_read_timeout)
    }

    fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        set_timeout(&self.raw, d, TcpStream::set_write_timeout)
    }

    fn shutdown(&self) {
        let _ = self.raw.shutdown(Shutdown::Both);
    }
}
