//! What every HTTP handler shares: the channel into the state thread, the
//! store index it publishes (for error bodies), CORS and timeouts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};

use crate::httpd::{Request, Responder, Response};
use crate::server::mode::ModeCell;
use crate::server::requests::{ClientRequest, ClusterView};

#[derive(Clone)]
pub struct Gateway {
    state: Sender<ClientRequest>,
    store_index: Arc<AtomicU64>,
    cors: Arc<Vec<String>>,
    answer_timeout: Duration,
    mode: ModeCell,
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
        }
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

    pub fn cluster(&self) -> Option<ClusterView> {
        let (tx, rx) = bounded(1);
        self.ask(ClientRequest::Cluster { reply: tx }, &rx)
    }

    pub fn cancel_watch(&self, id: u64) {
        let _ = self.state.send(ClientRequest::CancelWatch(id));
    }

    /// CORS headers for an allowed `Origin` (`-cors`).
    pub fn cors_headers(&self, req: &Request) -> Vec<(String, String)> {
        let Some(origin) = req.header("origin") else {
            return Vec::new();
        };
        let allowed = self.cors.iter().any(|o| o == "*" || o == origin);
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
                "accept, content-type".into(),
            ),
        ]
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
