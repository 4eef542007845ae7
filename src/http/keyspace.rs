//! What the v1 and v2 keys handlers share: the key named by the URL, the
//! guard on the membership keys, and the round trips to the state thread
//! for a write, a read and a watch. Both APIs go through here, so a key
//! written through one is the same key, at the same index, in the other.
//!
//! It never renders a success body (each API has its own shape) and never
//! writes to the connection, except that a waiting watch asks it whether
//! the client is still there.

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, unbounded};

use crate::httpd::{Request, Responder, Response};
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
}

/// What a waiting watch got.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "returned once per event, by value; boxing would add an allocation"
)]
pub enum WatchNext {
    Event(Event),
    /// The client closed its connection; the watch is cancelled already.
    ClientGone,
    /// The state thread let go of this watch without another event.
    Ended,
}

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
    let (tx, rx) = unbounded();
    let streaming = stream || filter.as_ref().is_some_and(|f| f.may_skip);
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
        }),
        Ok(WatchMessage::Failed(e)) => Err(WatchRefused::Store(e)),
        Ok(WatchMessage::Event(_)) | Err(_) => Err(WatchRefused::NoAnswer),
    }
}

impl Watching {
    /// Waits for the next event, checking every `WATCH_POLL` whether the
    /// client is still connected (a client that leaves cancels its watch).
    pub fn next(&self, gw: &Gateway, out: &Responder) -> WatchNext {
        loop {
            match self.events.recv_timeout(WATCH_POLL) {
                Ok(WatchMessage::Event(event)) => {
                    let shown = self.filter.as_ref().is_none_or(|f| (f.shows)(&event));
                    if shown {
                        if self.one_shot && self.streaming {
                            // A one-shot watch registered as a stream is over.
                            self.cancel(gw);
                        }
                        return WatchNext::Event(event);
                    }
                    if !self.streaming {
                        // Its one event was not the caller's to see (auth
                        // came on after it started): the watch ends empty,
                        // and the client's next try is checked afresh.
                        self.cancel(gw);
                        return WatchNext::Ended;
                    }
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    if out.peer_closed() {
                        self.cancel(gw);
                        return WatchNext::ClientGone;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return WatchNext::Ended,
            }
        }
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
