//! What every HTTP handler shares: the channel into the state thread, the
//! store index it publishes (for error bodies), CORS, timeouts and the
//! auth checks (`guard`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};

use super::auth::guard::Guard;
use crate::httpd::{Request, Responder, Response};
use crate::server::mode::ModeCell;
use crate::server::oneshot::ReplyReceiver;
use crate::server::requests::{ClientRequest, ClusterView, Reply};

#[derive(Clone)]
pub struct Gateway {
    state: Sender<ClientRequest>,
    store_index: Arc<AtomicU64>,
    cors: Arc<Vec<String>>,
    answer_timeout: Duration,
    mode: ModeCell,
    guard: Guard,
}

impl Gateway {
    /// `answer_timeout` bounds how long a handler waits for the state thread
    /// (which itself fails requests that cannot commit in time).
    pub fn new(
        state: Sender<ClientRequest>,
        store_index: Arc<AtomicU64>,
        cors: Vec<String>,
        answer_timeout: Duration,
        mode: ModeCell,
    ) -> Gateway {
        Gateway {
            state,
            store_index,
            cors: Arc::new(cors),
            answer_timeout,
            mode,
            guard: Guard::default(),
        }
    }

    /// Checks requests against these users and roles (auth stays off
    /// without it).
    pub fn with_auth(mut self, guard: Guard) -> Gateway {
        self.guard = guard;
        self
    }

    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// Member or standby (a standby redirects every request to the leader).
    pub fn mode(&self) -> &ModeCell {
        &self.mode
    }

    pub fn store_index(&self) -> u64 {
        self.store_index.load(Ordering::Acquire)
    }

    pub fn answer_timeout(&self) -> Duration {
        self.answer_timeout
    }

    pub fn submit(&self, req: ClientRequest) -> bool {
        self.state.send(req).is_ok()
    }

    /// Send a request and wait for its answer; None if the state thread did
    /// not answer in time.
    pub fn ask<T>(&self, req: ClientRequest, rx: &Receiver<T>) -> Option<T> {
        if !self.submit(req) {
            return None;
        }
        rx.recv_timeout(self.answer_timeout).ok()
    }

    /// `ask` for a write or read: the answer comes through a oneshot.
    pub fn ask_reply(&self, req: ClientRequest, rx: &ReplyReceiver<Reply>) -> Option<Reply> {
        if !self.submit(req) {
            return None;
        }
        rx.recv_timeout(self.answer_timeout)
    }

    pub fn cluster(&self) -> Option<ClusterView> {
        let (tx, rx) = bounded(1);
        self.ask(ClientRequest::Cluster { reply: tx }, &rx)
    }

    pub fn cancel_watch(&self, id: u64) {
        let _ = self.state.send(ClientRequest::CancelWatch(id));
    }

    /// CORS headers for an allowed `Origin`: one listed in `-cors`, or a
    /// member's own client URL (the dashboard served by one member calls
    /// the others; see `dashboard::origin`).
    pub fn cors_headers(&self, req: &Request) -> Vec<(String, String)> {
        let Some(origin) = req.header("origin") else {
            return Vec::new();
        };
        let allowed =
            self.cors.iter().any(|o| o == "*" || o == origin) || self.is_member_origin(origin);
        if !allowed {
            return Vec::new();
        }
        vec![
            ("Access-Control-Allow-Origin".into(), origin.to_string()),
            (
                "Access-Control-Allow-Methods".into(),
                "POST, GET, OPTIONS, PUT, DELETE".into(),
            ),
            (
                "Access-Control-Allow-Headers".into(),
                // The dashboard's write marker and etcd 2.x auth's Basic credentials.
                "accept, content-type, authorization, x-etcd-dashboard".into(),
            ),
            (
                "Access-Control-Expose-Headers".into(),
                "X-Etcd-Index, X-Raft-Index, X-Raft-Term, X-Etcd-Auth-Refused".into(),
            ),
            // The dashboard polls every member each second or two.
            ("Access-Control-Max-Age".into(), "600".into()),
        ]
    }

    /// Only browsers send `Origin`, so the state thread is asked for the
    /// member list only for their requests. A standby redirects everything.
    fn is_member_origin(&self, origin: &str) -> bool {
        !self.mode.is_standby()
            && crate::dashboard::origin::is_one_of(
                origin,
                self.member_client_urls().iter().map(String::as_str),
            )
    }

    /// Every member's client URL, as this machine knows them (empty if the
    /// state thread did not answer in time).
    pub fn member_client_urls(&self) -> Vec<String> {
        self.cluster()
            .map(|v| v.members.into_iter().map(|m| m.client_url).collect())
            .unwrap_or_default()
    }

    /// Write a whole response, with CORS headers, and no body for HEAD.
    /// Keys API answers are counted in the metrics (watch streams are not
    /// sent through here, so they are not, as in etcd 2.x).
    #[inline(never)] // not in the frame of a waiting watch (httpd/stack.rs)
    pub fn send(&self, req: &Request, out: &mut Responder, mut resp: Response) {
        resp.headers.extend(self.cors_headers(req));
        if is_keys_api(&req.path) {
            crate::metrics::global().http_answered(
                &req.method,
                resp.status,
                req.received.elapsed(),
            );
        }
        let _ = out.send(resp);
    }
}

/// The v2 (and v1) keys API, whose requests etcd's HTTP metrics count
/// (v1 watches are long polls: not counted, like v2 watch streams).
fn is_keys_api(path: &str) -> bool {
    path.starts_with("/v2/keys") || path.starts_with("/v1/keys")
}
