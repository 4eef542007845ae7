//! Noticing that a waiting client hung up, without waking its thread.
//!
//! A long-poll watch parks its connection's thread on a channel for as long
//! as nothing changes; it must still learn when its client goes away. Asking
//! the socket every few hundred milliseconds costs a wake-up and three
//! system calls per watcher per poll, which at 15 000 idle watchers is most
//! of a core. Instead one process-wide thread holds every waiting socket in
//! an epoll set (`EPOLLRDHUP`, one-shot) and runs the waiter's callback when
//! the peer closes; idle watchers then cost no CPU at all.
//!
//! It owns the epoll descriptor, its thread and the callbacks. It never
//! reads from, writes to or closes a registered socket: the connection's
//! thread keeps the socket and must drop the [`HangupGuard`] before closing
//! it (the guard takes the socket out of the set).

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;

/// What runs on the detector's thread when the peer hung up. It must be
/// short and must not block (a channel send, typically).
pub type OnHangup = Box<dyn FnOnce() + Send>;

/// Events taken from the kernel per `epoll_wait`.
const BATCH: usize = 256;

/// The process's detector, started on first use.
static DETECTOR: OnceLock<Option<Arc<Detector>>> = OnceLock::new();

struct Detector {
    epoll: OwnedFd,
    /// Keyed by a token of our own (never reused), not by descriptor:
    /// descriptor numbers are recycled as soon as a socket closes.
    waiting: Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    next_token: u64,
    by_token: HashMap<u64, (RawFd, OnHangup)>,
}

/// Keeps a socket registered; dropping it unregisters the socket (do so
/// before the socket is closed) and forgets the callback if it has not run.
pub struct HangupGuard {
    detector: Arc<Detector>,
    token: u64,
}

/// Registers `fd` so that `on_hangup` runs once its peer closes or resets
/// the connection. None when the detector cannot run here (the caller then
/// polls `Stream::peer_closed` itself).
#[inline(never)] // out of the waiting watcher's frame
pub(crate) fn notify_on_hangup(fd: RawFd, on_hangup: OnHangup) -> Option<HangupGuard> {
    let detector = DETECTOR.get_or_init(start).as_ref()?;
    let mut waiting = detector.lock();
    waiting.next_token += 1;
    let token = waiting.next_token;
    let mut event = libc::epoll_event {
        // RDHUP: the peer sent FIN; HUP and ERR (a reset) are always reported.
        events: (libc::EPOLLRDHUP | libc::EPOLLONESHOT) as u32,
        u64: token,
    };
    // Under the lock, like every epoll_ctl here, so a DEL can never meet a
    // descriptor number that was closed and reused by another connection.
    // SAFETY: `event` is a valid epoll_event for the duration of the call.
    let rc = unsafe {
        libc::epoll_ctl(
            detector.epoll.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            fd,
            &mut event,
        )
    };
    if rc != 0 {
        log::debug!(
            "httpd: cannot watch a socket for hang-ups: {}",
            io::Error::last_os_error()
        );
        return None;
    }
    waiting.by_token.insert(token, (fd, on_hangup));
    drop(waiting);
    Some(HangupGuard {
        detector: Arc::clone(detector),
        token,
    })
}

impl Drop for HangupGuard {
    fn drop(&mut self) {
        let mut waiting = self.detector.lock();
        if let Some((fd, _callback)) = waiting.by_token.remove(&self.token) {
            self.detector.forget(fd);
        }
    }
}

impl Detector {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        // A callback never runs under the lock, so poisoning cannot leave
        // the map half-changed.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `fd` out of the set; the caller holds the lock.
    fn forget(&self, fd: RawFd) {
        // SAFETY: DEL ignores the event argument (null is allowed since 2.6.9).
        unsafe {
            libc::epoll_ctl(
                self.epoll.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            );
        }
    }

    fn run(&self) {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
        loop {
            // SAFETY: the buffer holds BATCH events and outlives the call.
            let n = unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    BATCH as i32,
                    -1,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // Nothing sensible is left to do; waiters are still bounded
                // by their writes failing once an event comes.
                log::error!("httpd: the hang-up detector stopped: {e}");
                return;
            }
            let fired: Vec<OnHangup> = {
                let mut waiting = self.lock();
                events[..n as usize]
                    .iter()
                    .filter_map(|event| {
                        let token = event.u64;
                        let (fd, callback) = waiting.by_token.remove(&token)?;
                        self.forget(fd);
                        Some(callback)
                    })
                    .collect()
            };
            for callback in fired {
                callback();
            }
        }
    }
}

fn start() -> Option<Arc<Detector>> {
    // SAFETY: epoll_create1 takes a flag word and returns a new descriptor
    // (or -1), which OwnedFd then owns.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if fd < 0 {
        log::warn!(
            "httpd: no epoll ({}); waiting clients are polled instead",
            io::Error::last_os_error()
        );
        return None;
    }
    // SAFETY: `fd` was just created and nothing else owns it.
    let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
    let detector = Arc::new(Detector {
        epoll,
        waiting: Mutex::default(),
    });
    let runner = Arc::clone(&detector);
    let spawned = thread::Builder::new()
        .name("httpd-hangups".into())
        .stack_size(64 * 1024)
        .spawn(move || runner.run());
    match spawned {
        Ok(_) => Some(detector),
        Err(e) => {
            log::warn!(
                "httpd: cannot start the hang-up detector ({e}); waiting clients are polled instead"
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::httpd::stream::tests::pair;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn the_callback_runs_when_the_peer_closes_and_not_before() {
        let (client, served) = pair();
        let (tx, rx) = mpsc::channel();
        let guard = notify_on_hangup(served.as_raw_fd(), Box::new(move || tx.send(()).unwrap()))
            .expect("epoll works on Linux");
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        drop(client);
        rx.recv_timeout(Duration::from_secs(5))
            .expect("hang-up noticed");
        drop(guard);
    }

    #[test]
    fn data_from_the_peer_is_not_a_hang_up() {
        use std::io::Write;
        let (mut client, served) = pair();
        let (tx, rx) = mpsc::channel();
        let _guard = notify_on_hangup(served.as_raw_fd(), Box::new(move || tx.send(()).unwrap()))
            .expect("epoll works on Linux");
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
    }

    #[test]
    fn a_dropped_guard_forgets_the_callback() {
        let (client, served) = pair();
        let (tx, rx) = mpsc::channel::<()>();
        let guard = notify_on_hangup(served.as_raw_fd(), Box::new(move || tx.send(()).unwrap()))
            .expect("epoll works on Linux");
        drop(guard);
        drop(client);
        // The sender went with the callback: the channel is closed, unused.
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(2)),
            Err(mpsc::RecvTimeoutError::Disconnected)
        );
    }
}
