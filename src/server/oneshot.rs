//! One answer from the state thread to a waiting connection thread.
//!
//! A crossbeam channel's blocking receive spins and then calls
//! `sched_yield` a few times before it sleeps. With one waiting thread per
//! client connection that kept dozens of threads runnable on a 2-core
//! machine: 18% of the leader's CPU at 64 clients went to yielding, and the
//! runnable queue delayed the peer threads enough to cost elections. Here
//! the receiver sleeps on a condition variable at once.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

struct Slot<T> {
    state: Mutex<State<T>>,
    filled: Condvar,
}

struct State<T> {
    value: Option<T>,
    sender_gone: bool,
}

/// The state thread's end: one `send` per request.
pub struct ReplySender<T>(Arc<Slot<T>>);

/// The waiting connection's end.
pub struct ReplyReceiver<T>(Arc<Slot<T>>);

/// A fresh slot for one answer.
pub fn oneshot<T>() -> (ReplySender<T>, ReplyReceiver<T>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State {
            value: None,
            sender_gone: false,
        }),
        filled: Condvar::new(),
    });
    (ReplySender(slot.clone()), ReplyReceiver(slot))
}

impl<T> ReplySender<T> {
    /// Hands over the answer; `Err` gives it back when nobody waits any more.
    pub fn send(&self, value: T) -> Result<(), T> {
        if Arc::strong_count(&self.0) < 2 {
            return Err(value);
        }
        let mut state = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        state.value = Some(value);
        drop(state);
        self.0.filled.notify_one();
        Ok(())
    }
}

impl<T> ReplyReceiver<T> {
    /// The answer, or `None` after `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut state = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(v) = state.value.take() {
                return Some(v);
            }
            // The sender is gone without answering: nothing will come.
            if state.sender_gone {
                return None;
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            state = self
                .0
                .filled
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl<T> Drop for ReplySender<T> {
    fn drop(&mut self) {
        // Wake a receiver so it sees the sender gone.
        let mut state = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        state.sender_gone = true;
        drop(state);
        self.0.filled.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reaches_a_waiting_thread() {
        let (tx, rx) = oneshot();
        let t = std::thread::spawn(move || rx.recv_timeout(Duration::from_secs(10)));
        assert!(tx.send(7).is_ok());
        assert_eq!(t.join().unwrap(), Some(7));
    }

    #[test]
    fn an_answer_sent_first_is_kept() {
        let (tx, rx) = oneshot();
        assert!(tx.send("x").is_ok());
        assert_eq!(rx.recv_timeout(Duration::ZERO), Some("x"));
    }

    #[test]
    fn a_dropped_sender_ends_the_wait_at_once() {
        let (tx, rx) = oneshot::<u8>();
        let t = std::thread::spawn(move || {
            let started = Instant::now();
            (rx.recv_timeout(Duration::from_secs(30)), started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(20));
        drop(tx);
        let (got, took) = t.join().unwrap();
        assert_eq!(got, None);
        assert!(took < Duration::from_secs(10), "{took:?}");
    }

    #[test]
    fn nobody_waiting_gives_the_answer_back() {
        let (tx, rx) = oneshot();
        drop(rx);
        assert_eq!(tx.send(1), Err(1));
    }

    #[test]
    fn no_answer_times_out() {
        let (_tx, rx) = oneshot::<u8>();
        assert_eq!(rx.recv_timeout(Duration::from_millis(5)), None);
    }
}
