//! What the v1 and v2 keys handlers share: the key named by the URL, the
//! guard on the membership keys, and the round trips to the state thread
//! for a write, a read and a watch. Both APIs go through here, so a key
//! written through one is the same key, at the same index, in the other.
//!
//! It never renders a success body (each API has its own shape) and never
//! writes to the connection, except that a waiting watch asks it whether
//! the client is still there.

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, bounded, unbounded};

use crate::httpd::{HangupGuard, Request, Responder, Response};
use crate::server::oneshot::oneshot;
use crate::server::requests::{ClientRequest, Position, Reply, WatchMessage};
use crate::store::{ErrorCode, EtcdError, Event, KeyPath, StoreCommand, WatcherId};

use super::gateway::Gateway;
use super::reply;

/// How often a waiting watch checks whether its client went away.
const WATCH_POLL: Duration = Duration::from_millis(250);

/// The key after the API prefix: percent-decoded, UTF-8, cleaned.
/// `%2F` becomes a separator.
pub fn parse_key(raw: &str, index: u64) -> Result<KeyPath, EtcdError> {
    let bytes = crate::httpd::percent_decode(raw)
        .ok_or_else(|| EtcdError::new(ErrorCode::InvalidField, "key: bad percent-escape", index))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| EtcdError::new(ErrorCode::InvalidField, "key: not valid UTF-8", index))?;
    Ok(KeyPath::parse(&text))
}

/// Membership lives under `/_etcd/machines` and `/_etcd/config`; clients
/// may read it but never change it (ruling 10), through either API.
pub fn check_not_reserved(key: &KeyPath, deleting: bool, index: u64) -> Result<(), EtcdError> {
    let k = key.as_str();
    let reserved = k == "/_etcd/machines"
        || k.starts_with("/_etcd/machines/")
        || k == "/_etcd/config"
        || (deleting && k == "/_etcd");
    if reserved {
        Err(EtcdError::new(ErrorCode::KeyIsPreserved, k, index))
    } else {
        Ok(())
    }
}

/// Proposes a write and waits for it to be applied (or refused, or sent
/// to the leader). None: the state thread did not answer in time.
pub fn ask_write(gw: &Gateway, cmd: StoreCommand) -> Option<Reply> {
    let (tx, rx) = oneshot();
    gw.ask_reply(ClientRequest::Write { cmd, reply: tx }, &rx)
}

/// Reads a key. `linearizable` waits for a ReadIndex round (on any member)
/// and for this machine to apply up to its index.
pub fn ask_read(
    gw: &Gateway,
    key: KeyPath,
    recursive: bool,
    sorted: bool,
    linearizable: bool,
) -> Option<Reply> {
    let (tx, rx) = oneshot();
    let request = ClientRequest::Read {
        key,
        recursive,
        sorted,
        linearizable,
        reply: tx,
    };
    gw.ask_reply(request, &rx)
}

/// The response to a write or read answer: `done` renders a success in the
/// caller's API shape; errors, redirects and timeouts look the same in both.
pub fn respond(
    gw: &Gateway,
    req: &Request,
    answer: Option<Reply>,
    done: impl FnOnce(&Event, &Position) -> Response,
) -> Response {
    match answer {
        Some(Reply::Done { event, at }) => done(&event, &at),
        Some(Reply::Failed(e)) => reply::error(&e),
        // 0.4.6 sends the client to the leader with the same path and query.
        Some(Reply::Redirect { leader_client_url }) => {
            reply::redirect(&leader_client_url, &req.target)
        }
        None => reply::internal(gw.store_index()),
    }
}

/// Why a watch could not start.
#[derive(Debug)]
pub enum WatchRefused {
    /// The store refused it (401: the asked index left the history).
    Store(EtcdError),
    /// The state thread did not answer in time, or answered out of turn.
    NoAnswer,
}

/// Which events a watch may report (its caller's read permissions, see
/// `http::auth::guard`), applied on the connection's thread.
pub struct EventFilter {
    pub shows: Box<dyn Fn(&Event) -> bool + Send>,
    /// Events may be left out from the start (auth is on): a one-shot
    /// watch is then registered as a stream, so that a left-out event does
    /// not use it up, and cancelled after the one it reports.
    pub may_skip: bool,
}

/// A registered watch. Events come from the state thread's channel; the
/// connection's own thread waits on it, so no shared thread is held.
pub struct Watching {
    id: WatcherId,
    /// Where the machine stood when the watch was registered.
    pub at: Position,
    events: Receiver<WatchMessage>,
    filter: Option<EventFilter>,
    /// Registered as a stream, whatever the client asked.
    streaming: bool,
    /// The client asked for one event only.
    one_shot: bool,
    waiting: Wait,
    /// Held while the hang-up detector watches this connection.
    hangup: Option<HangupGuard>,
}

/// How a watch waits for its next event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// Not yet: first take what is queued already (history, a fast write).
    NotYet,
    /// Blocked on the channel; the hang-up detector cancels the watch if
    /// the client leaves, which closes the channel. No wake-ups at all.
    Notified,
    /// The detector cannot watch this connection: ask it every `WATCH_POLL`.
    Polling,
}

/// What a waiting watch got. The event is boxed so the waiting frames
/// above `next` need no event-sized slot (httpd/stack.rs); one allocation
/// per event, next to rendering it as JSON, is nothing.
#[derive(Debug)]
pub enum WatchNext {
    Event(Box<Event>),
    /// The client closed its connection; the watch is cancelled already.
    ClientGone,
    /// The state thread let go of this watch without another event.
    Ended,
}

/// Messages a one-shot watch can receive at most: `Started` (or `Failed`)
/// and one event. Its channel holds exactly that, allocated up front and
/// small; a stream's is unbounded, since its events keep coming.
const ONE_SHOT_MESSAGES: usize = 2;

/// Registers a watch on `key` (`since`: first event at or after that index,
/// from history if it is there; None or 0: the next change). Only events
/// `filter` shows are reported.
pub fn start_watch(
    gw: &Gateway,
    key: KeyPath,
    recursive: bool,
    stream: bool,
    since: Option<u64>,
    filter: Option<EventFilter>,
) -> Result<Watching, WatchRefused> {
    let streaming = stream || filter.as_ref().is_some_and(|f| f.may_skip);
    // An unbounded channel allocates blocks of 31 messages (8.7 KiB) on
    // the first send; thousands of idle one-shot watchers need 2 each.
    let (tx, rx) = if streaming {
        unbounded()
    } else {
        bounded(ONE_SHOT_MESSAGES)
    };
    let request = ClientRequest::Watch {
        key,
        recursive,
        stream: streaming,
        since: since.filter(|i| *i > 0),
        events: tx,
    };
    if !gw.submit(request) {
        return Err(WatchRefused::NoAnswer);
    }
    match rx.recv_timeout(gw.answer_timeout()) {
        Ok(WatchMessage::Started { id, at }) => Ok(Watching {
            id,
            at,
            events: rx,
            filter,
            streaming,
            one_shot: !stream,
            waiting: Wait::NotYet,
            hangup: None,
        }),
        Ok(WatchMessage::Failed(e)) => Err(WatchRefused::Store(e)),
        Ok(WatchMessage::Event(_)) | Err(_) => Err(WatchRefused::NoAnswer),
    }
}

impl Watching {
    /// Waits for the next event. A client that leaves cancels its watch:
    /// the hang-up detector tells the state thread, which lets go of the
    /// channel; where the detector cannot watch this connection, the
    /// client is asked every `WATCH_POLL` instead.
    ///
    /// One receive call for every way of waiting: each call site of a
    /// receive keeps a message-sized slot in this frame, and an idle
    /// watcher's memory is the stack its frames span (httpd/stack.rs).
    pub fn next(&mut self, gw: &Gateway, out: &Responder) -> WatchNext {
        loop {
            let wait = match self.waiting {
                Wait::NotYet => Duration::ZERO,
                // Too long to add to now: crossbeam then blocks for good.
                Wait::Notified => Duration::MAX,
                Wait::Polling => WATCH_POLL,
            };
            match self.events.recv_timeout(wait) {
                Ok(WatchMessage::Event(event)) => {
                    if let Some(next) = self.deliver(gw, event) {
                        return next;
                    }
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => match self.waiting {
                    Wait::NotYet => self.settle_in(gw, out),
                    Wait::Polling if out.peer_closed() => {
                        self.cancel(gw);
                        return WatchNext::ClientGone;
                    }
                    Wait::Polling | Wait::Notified => {}
                },
                // Cancelled for a client that left, or let go by the state thread.
                Err(RecvTimeoutError::Disconnected) if out.peer_closed() => {
                    return WatchNext::ClientGone;
                }
                Err(RecvTimeoutError::Disconnected) => return WatchNext::Ended,
            }
        }
    }

    /// What an event means for the caller: None when its filter leaves it
    /// out and the watch goes on. Out of line, so the filter's frames are
    /// not in the waiting watch's (httpd/stack.rs).
    #[inline(never)]
    fn deliver(&self, gw: &Gateway, event: Event) -> Option<WatchNext> {
        let shown = self.filter.as_ref().is_none_or(|f| (f.shows)(&event));
        if shown {
            if self.one_shot && self.streaming {
                // A one-shot watch registered as a stream is over.
                self.cancel(gw);
            }
            return Some(WatchNext::Event(Box::new(event)));
        }
        if !self.streaming {
            // Its one event was not the caller's to see (auth came on
            // after it started): the watch ends empty, and the client's
            // next try is checked afresh.
            self.cancel(gw);
            return Some(WatchNext::Ended);
        }
        None
    }

    /// Nothing is queued: hand the connection to the hang-up detector and
    /// give back the stack that parsing the request used, then wait.
    #[inline(never)]
    fn settle_in(&mut self, gw: &Gateway, out: &Responder) {
        let (gw, id) = (gw.clone(), self.id);
        self.hangup = out.notify_on_hangup(Box::new(move || gw.cancel_watch(id)));
        self.waiting = match self.hangup {
            Some(_) => Wait::Notified,
            None => Wait::Polling,
        };
        crate::httpd::release_unused_stack();
    }

    pub fn cancel(&self, gw: &Gateway) {
        gw.cancel_watch(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decoded_and_cleaned() {
        assert_eq!(parse_key("a%2Fb/", 0).unwrap().as_str(), "/a/b");
        assert_eq!(parse_key("", 0).unwrap().as_str(), "/");
        let err = parse_key("%ff", 4).unwrap_err();
        assert_eq!((err.code, err.index), (ErrorCode::InvalidField, 4));
    }

    #[test]
    fn membership_keys_are_reserved_and_the_rest_of_etcd_is_not() {
        let k = |s: &str| KeyPath::parse(s);
        assert!(check_not_reserved(&k("/_etcd/machines/m1"), false, 0).is_err());
        assert!(check_not_reserved(&k("/_etcd/config"), false, 0).is_err());
        assert!(check_not_reserved(&k("/_etcd"), true, 0).is_err());
        assert!(check_not_reserved(&k("/_etcd"), false, 0).is_ok());
        assert!(check_not_reserved(&k("/_etcd/registry/x"), true, 0).is_ok());
        let err = check_not_reserved(&k("/_etcd/machines"), false, 9).unwrap_err();
        assert_eq!(
            (err.code, err.cause.as_str(), err.index),
            (ErrorCode::KeyIsPreserved, "/_etcd/machines", 9)
        );
    }
}
