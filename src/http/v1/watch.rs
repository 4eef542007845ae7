//! `/v1/watch/<prefix>`: a long poll for the first change at or under the
//! prefix. GET and HEAD wait for the next change; POST takes `index` (body
//! or query) and answers at once from the 1000-event history when a
//! matching event at or after it is there.
//!
//! As in 0.4.6 nothing is sent until the event exists (no early headers,
//! unlike a v2 watch), the body is the event in the v1 shape, a POST
//! without a numeric `index` is 203, and a watch the store refuses (its
//! index left the history) is 500 "Client Internal Error" naming the key.
//!
//! Two deliberate differences from 0.4.6, both so that a v1 client gets
//! what v1 promised and misses no change:
//! - the watch covers the whole prefix, as etcd 0.1's README documented
//!   v1 watches (0.4.6 registered it on the exact key only, so a watch on
//!   a directory never saw its children change); hidden keys below the
//!   prefix are left out, as for a recursive v2 watch (ruling 13);
//! - `index` is the delivered event's own index (0.4.6 wrote the store
//!   index at delivery, which skips every later event already in the
//!   history when the client resumes from it).
//!
//! With auth on, the watch is admitted as a recursive v2 read of the
//! prefix and reports only events its caller may see (`auth::guard`).
//!
//! It never holds the state thread: the connection's own thread waits.

use crate::auth::Access;
use crate::http::gateway::Gateway;
use crate::http::keyspace::{self, WatchNext, WatchRefused, parse_key};
use crate::http::params::Params;
use crate::http::reply;
use crate::httpd::{Request, Responder};
use crate::store::{ErrorCode, EtcdError, KeyPath};

use super::body;

/// The cause 0.4.6 gave for a bad `index`.
const INDEX_CAUSE: &str = "Watch From Index";

pub fn handle(gw: &Gateway, req: &Request, out: &mut Responder, raw_key: &str) {
    let index = gw.store_index();
    let since = match req.method.as_str() {
        // 0.4.6 read `index` on POST only: a GET always waits for the next change.
        "GET" | "HEAD" => Ok(None),
        "POST" => Params::from_request(req, index).and_then(|p| since_index(&p, index).map(Some)),
        _ => return gw.send(req, out, reply::not_found()),
    };
    let started = since.and_then(|since| parse_key(raw_key, index).map(|key| (key, since)));
    let (key, since) = match started {
        Ok(v) => v,
        Err(e) => return gw.send(req, out, reply::error(&e)),
    };
    let pass = match gw.guard().keys(req, &key, raw_key, Access::Read, true) {
        Ok(pass) => pass,
        Err(refused) => return gw.send(req, out, refused),
    };
    let filter = gw.guard().watch_filter(&pass, &key, true);
    let mut watching =
        match keyspace::start_watch(gw, key.clone(), true, false, since, Some(filter)) {
            Ok(w) => w,
            Err(WatchRefused::Store(e)) => {
                return gw.send(req, out, reply::error(&refused(&e, &key)));
            }
            Err(WatchRefused::NoAnswer) => {
                return gw.send(req, out, reply::internal(gw.store_index()));
            }
        };
    match watching.next(gw, out) {
        WatchNext::Event(event) => gw.send(req, out, body::success(&event)),
        WatchNext::ClientGone => {}
        // The state thread gave the watch up without an event: say so
        // rather than answer 200 with no body.
        WatchNext::Ended => gw.send(req, out, reply::internal(gw.store_index())),
    }
}

/// `index` of a POST watch: required, an unsigned number; 0 means "from
/// the next change".
fn since_index(p: &Params, index: u64) -> Result<u64, EtcdError> {
    p.index("index", INDEX_CAUSE, index)?
        .ok_or_else(|| EtcdError::new(ErrorCode::IndexNaN, INDEX_CAUSE, index))
}

/// 0.4.6 answered every refusal of a v1 watch with 500 "Client Internal
/// Error" naming the key (HTTP 400), whatever the store said; the store's
/// index stays.
fn refused(store_error: &EtcdError, key: &KeyPath) -> EtcdError {
    EtcdError::new(ErrorCode::ClientInternal, key.as_str(), store_error.index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(form: &str) -> Params {
        let req = Request::new(
            "POST",
            "/v1/watch/k",
            vec![(
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            )],
            form.as_bytes().to_vec(),
        );
        Params::from_request(&req, 5).unwrap()
    }

    #[test]
    fn a_post_watch_needs_a_numeric_index() {
        assert_eq!(since_index(&post("index=4"), 5), Ok(4));
        assert_eq!(since_index(&post("index=0"), 5), Ok(0));
        for bad in ["", "index=", "index=abc", "index=-1"] {
            let e = since_index(&post(bad), 5).unwrap_err();
            assert_eq!(
                (e.code.number(), e.cause.as_str(), e.index),
                (203, "Watch From Index", 5),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_refused_watch_is_client_internal_with_the_key() {
        let cleared = EtcdError::new(
            ErrorCode::EventIndexCleared,
            "the requested history has been cleared [36/5]",
            1035,
        );
        let e = refused(&cleared, &KeyPath::parse("/foo/bar"));
        assert_eq!(e.code.http_status(), 400);
        assert_eq!(
            e.to_json(),
            "{\"errorCode\":500,\"message\":\"Client Internal Error\",\"cause\":\"/foo/bar\",\"index\":1035}\n"
        );
    }
}
