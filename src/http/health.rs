//! `GET /health` on the client port, as etcd 2.x/3.x answer it for load
//! balancers and `etcdctl cluster-health`: `200 {"health":"true"}` when a
//! linearizable read completes on this machine within the budget (one
//! second), else `503 {"health":"false"}` by then. The read needs a leader
//! that a quorum still follows (ReadIndex, asked of the leader by a
//! follower), so the answer says the cluster can serve right now, not only
//! that a leader was heard of.

use std::time::Duration;

use crossbeam_channel::bounded;

use crate::httpd::Response;
use crate::server::requests::{ClientRequest, Reply};
use crate::store::KeyPath;

use super::gateway::Gateway;
use super::reply;

pub struct HealthCheck {
    pub budget: Duration,
}

impl HealthCheck {
    pub fn answer(&self, gw: &Gateway) -> Response {
        if self.healthy(gw) {
            healthy()
        } else {
            unhealthy()
        }
    }

    fn healthy(&self, gw: &Gateway) -> bool {
        let (tx, rx) = bounded(1);
        let read = ClientRequest::Read {
            key: KeyPath::parse("/"),
            recursive: false,
            sorted: false,
            linearizable: true,
            reply: tx,
        };
        gw.submit(read) && matches!(rx.recv_timeout(self.budget), Ok(Reply::Done { .. }))
    }
}

pub fn healthy() -> Response {
    reply::json(200, r#"{"health":"true"}"#)
}

pub fn unhealthy() -> Response {
    reply::json(503, r#"{"health":"false"}"#)
}
