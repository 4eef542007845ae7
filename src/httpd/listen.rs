//! Opening a listening socket whose accept queue is as long as the system
//! allows, so a burst of new connections waits in the kernel instead of
//! having its SYNs dropped (a dropped SYN costs the client a 1 s retry).
//!
//! It owns the bind and the backlog; it never accepts and never touches an
//! accepted socket. std's `TcpListener::bind` listens with a backlog of 128;
//! calling `listen(2)` again on the bound, listening socket only changes the
//! queue length (Linux allows it), which is all this module does beyond std.

use std::io;
use std::net::{TcpListener, ToSocketAddrs};
use std::os::fd::AsRawFd;

/// Where Linux publishes the largest accept queue a socket may have.
const SOMAXCONN_PATH: &str = "/proc/sys/net/core/somaxconn";
/// What to ask for when that file cannot be read: Linux's default since 5.4
/// (the kernel caps any request at the real maximum anyway).
const FALLBACK_BACKLOG: i32 = 4096;

/// The accept-queue length this system allows (`net.core.somaxconn`).
pub fn system_backlog() -> i32 {
    std::fs::read_to_string(SOMAXCONN_PATH)
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(FALLBACK_BACKLOG)
}

/// Binds `addr` and listens with the system's largest backlog. The socket
/// is the one std made (close-on-exec, `SO_REUSEADDR`), only its queue is longer.
pub fn listen(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)?;
    set_backlog(&listener, system_backlog())?;
    Ok(listener)
}

/// Sets the accept-queue length of a socket that is already listening.
pub fn set_backlog(listener: &TcpListener, backlog: i32) -> io::Result<()> {
    // SAFETY: `listen` only reads its two integer arguments; the descriptor
    // is owned by `listener`, which outlives the call.
    let rc = unsafe { libc::listen(listener.as_raw_fd(), backlog) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    /// Connections nobody accepts yet: each completes its handshake into the
    /// accept queue, or (queue full) has its SYN dropped and times out.
    fn unaccepted_connects(listener: &TcpListener, n: usize) -> (usize, Vec<TcpStream>) {
        let addr = listener.local_addr().unwrap();
        let mut held = Vec::new();
        let mut refused = 0;
        for _ in 0..n {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => held.push(s),
                Err(_) => refused += 1,
            }
            // Once the queue is full every later attempt waits its 300 ms.
            if refused > 2 {
                break;
            }
        }
        (refused, held)
    }

    #[test]
    fn the_accept_queue_holds_more_than_std_s_128() {
        let want = 300;
        if system_backlog() < want as i32 + 10 {
            eprintln!(
                "skipped: net.core.somaxconn is {} here, too small to tell",
                system_backlog()
            );
            return;
        }
        let started = Instant::now();
        let ours = listen("127.0.0.1:0").unwrap();
        let (refused, held) = unaccepted_connects(&ours, want);
        assert_eq!(refused, 0, "only {} of {want} fit in the queue", held.len());
        assert!(started.elapsed() < Duration::from_secs(5));
        // And the comparison that shows why: std's own backlog of 128.
        let std_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let (refused, held) = unaccepted_connects(&std_listener, want);
        assert!(
            refused > 0 && held.len() < want,
            "std queued {}",
            held.len()
        );
    }

    #[test]
    fn the_system_backlog_is_positive() {
        assert!(system_backlog() > 0);
    }
}
