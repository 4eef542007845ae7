//! The byte stream a connection runs over: plain TCP today, TLS later.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

/// A bidirectional byte stream the HTTP layer can read, write, time out and
/// probe for a vanished peer. A TLS wrapper implements it by delegating the
/// probes and timeouts to a clone of its raw `TcpStream`.
pub trait Stream: Read + Write + Send {
    /// True once the peer has closed its side or the connection is broken.
    /// Must not block and must not consume data.
    fn peer_closed(&self) -> bool;
    /// Bounds every later blocking read (`None` = wait forever).
    fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()>;
    /// Bounds every later blocking write (`None` = wait forever).
    fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()>;
    /// Closes both directions; errors are irrelevant at that point.
    fn shutdown(&self);
    /// The socket underneath, so a waiting handler can be told of a hang-up
    /// without polling (`Responder::notify_on_hangup`). None: no socket.
    fn raw_fd(&self) -> Option<RawFd> {
        None
    }
}

/// The probe used by `TcpStream` and by wrappers holding a raw clone: one
/// `recv` that peeks without waiting, so the socket stays blocking (every
/// other use of it relies on timeouts). Switching it to non-blocking and
/// back around a plain peek took two more system calls, before every
/// message a peer sender sent.
pub fn tcp_peer_closed(tcp: &TcpStream) -> bool {
    let mut byte = 0u8;
    // SAFETY: recv writes at most one byte into `byte`, which lives for the
    // call; the descriptor belongs to `tcp` for the whole call.
    let n = unsafe {
        libc::recv(
            tcp.as_raw_fd(),
            (&raw mut byte).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    match n {
        0 => true,
        n if n > 0 => false,
        _ => !matches!(
            io::Error::last_os_error().kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
        ),
    }
}

impl Stream for TcpStream {
    fn peer_closed(&self) -> bool {
        tcp_peer_closed(self)
    }

    fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, d.map(nonzero))
    }

    fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, d.map(nonzero))
    }

    fn shutdown(&self) {
        let _ = TcpStream::shutdown(self, Shutdown::Both);
    }

    fn raw_fd(&self) -> Option<RawFd> {
        Some(self.as_raw_fd())
    }
}

/// std rejects a zero timeout; the smallest real one means "already late".
fn nonzero(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}

/// Wraps an accepted or connected socket as-is (no TLS).
pub fn plain(tcp: TcpStream) -> io::Result<Box<dyn Stream>> {
    Ok(Box::new(tcp))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Instant;

    /// A connected loopback pair: (client side, server side). Also used by
    /// the hang-up detector's tests.
    pub(crate) fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        (c, s)
    }

    #[test]
    fn open_idle_peer_is_not_closed_and_socket_stays_blocking() {
        let (_c, s) = pair();
        assert!(!s.peer_closed());
        // Still blocking: a read waits for the timeout instead of WouldBlock.
        Stream::set_read_timeout(&s, Some(Duration::from_millis(50))).unwrap();
        let err = (&s).read(&mut [0u8; 1]).unwrap_err();
        assert!(matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ));
    }

    #[test]
    fn pending_data_is_not_consumed_by_the_probe() {
        let (mut c, mut s) = pair();
        c.write_all(b"x").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut b = [0u8; 1];
        while s.peek(&mut b).unwrap() == 0 && Instant::now() < deadline {}
        assert!(!s.peer_closed());
        s.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"x");
    }

    #[test]
    fn peer_that_closed_is_reported_closed() {
        let (c, s) = pair();
        drop(c);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !s.peer_closed() {
            assert!(Instant::now() < deadline, "close never seen");
            std::thread::yield_now();
        }
    }
}
