//! One answer from the state thread to a waiting connection thread.
//!
//! A crossbeam channel's blocking receive spins and then calls
//! `sched_yield` a few times before it sleeps. With one waiting thread per
//! client connection that kept dozens of threads runnable on a 2-core
//! machine: 18% of the leader's CPU at 64 clients went to yielding, and the
//! runnable queue delayed the peer threads enough to cost elections. Here
//! the receiver sleeps on a condition variable at once.
//!
//! The sender wakes the receiver only when it sleeps, and once: a
//! condition variable's notify is a `futex` call whether anyone sleeps or
//! not, and the sender's drop after an answer was a second one. Those were
//! two fifths of a lone machine's `futex` calls at 64 clients, all made by
//! the state thread, which answers every request.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

struct Slot<T> {
    state: Mutex<State<T>>,
    filled: Condvar,
}

struct State<T> {
    value: Option<T>,
    /// The sender answered or is gone: nothing more will come.
    closed: bool,
    /// The receiver sleeps on `filled`.
    waiting: bool,
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
            closed: false,
            waiting: false,
        }),
        filled: Condvar::new(),
    });
    (ReplySender(slot.clone()), ReplyReceiver(slot))
}

impl<T> Slot<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the slot, with the answer if there is one, and wakes a sleeping
    /// receiver; a second close (the drop after a send) does nothing.
    fn close(&self, value: Option<T>) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        state.closed = true;
        state.value = value;
        let waiting = state.waiting;
        drop(state);
        if waiting {
            self.filled.notify_one();
        }
    }
}

impl<T> ReplySender<T> {
    /// Hands over the answer; `Err` gives it back when nobody waits any more.
    pub fn send(&self, value: T) -> Result<(), T> {
        if Arc::strong_count(&self.0) < 2 {
            return Err(value);
        }
        self.0.close(Some(value));
        Ok(())
    }
}

impl<T> ReplyReceiver<T> {
    /// The answer, or `None` after `timeout` or when the sender is gone
    /// without one.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut state = self.0.lock();
        loop {
            if state.closed {
                return state.value.take();
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            state.waiting = true;
            state = self
                .0
                .filled
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            state.waiting = false;
        }
    }
}

impl<T> Drop for ReplySender<T> {
    fn drop(&mut self) {
        self.0.close(None);
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

    /// Waits until the receiver's thread sleeps in `recv_timeout`.
    fn sleeping<T>(tx: &ReplySender<T>) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !tx.0.lock().waiting {
            assert!(Instant::now() < deadline, "the receiver never slept");
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_dropped_sender_ends_the_wait_at_once() {
        let (tx, rx) = oneshot::<u8>();
        let t = std::thread::spawn(move || {
            let started = Instant::now();
            (rx.recv_timeout(Duration::from_secs(30)), started.elapsed())
        });
        sleeping(&tx);
        drop(tx);
        let (got, took) = t.join().unwrap();
        assert_eq!(got, None);
        assert!(took < Duration::from_secs(10), "{took:?}");
    }

    #[test]
    fn an_answer_wakes_a_sleeping_receiver_and_the_drop_after_it_changes_nothing() {
        let (tx, rx) = oneshot();
        let t = std::thread::spawn(move || rx.recv_timeout(Duration::from_secs(30)));
        sleeping(&tx);
        assert!(tx.send(9).is_ok());
        drop(tx);
        assert_eq!(t.join().unwrap(), Some(9));
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
