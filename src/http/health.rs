//! `GET /health` on the client port, as etcd 2.x/3.x answer it for load
//! balancers and `etcdctl cluster-health`: `200 {"health":"true"}` when
//! this machine knows a leader and a linearizable read through that leader
//! completes within the budget (one second), else `503 {"health":"false"}`
//! by then. The leader answers the read itself (ReadIndex); a follower asks
//! the leader's peer port (`GET /v2/admin/health`), so the answer says the
//! cluster can serve it right now, not only that a leader was heard of.

use std::time::{Duration, Instant};

use crate::httpd::{HttpClient, Response};
use crate::server::requests::{ClientRequest, Reply};
use crate::store::KeyPath;
use crate::transport::{Connector, host_port};

use super::gateway::Gateway;
use super::reply;

pub struct HealthCheck {
    /// To reach the leader's peer port (plain or TLS, as the cluster uses).
    pub connector: Connector,
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
        let deadline = Instant::now() + self.budget;
        let (tx, rx) = crate::server::oneshot::oneshot();
        let read = ClientRequest::Read {
            key: KeyPath::parse("/"),
            recursive: false,
            sorted: false,
            linearizable: true,
            reply: tx,
        };
        if !gw.submit(read) {
            return false;
        }
        match rx.recv_timeout(self.budget) {
            Some(Reply::Done { .. }) => true,
            // A follower: the leader must confirm it can serve.
            Some(Reply::Redirect { .. }) => self.leader_says_healthy(gw, deadline),
            _ => false,
        }
    }

    fn leader_says_healthy(&self, gw: &Gateway, deadline: Instant) -> bool {
        let Some(leader) = gw.cluster().and_then(|v| v.leader) else {
            return false;
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let mut client = HttpClient::new(host_port(&leader.peer_url), self.connector.clone(), left);
        matches!(
            client.request("GET", "/v2/admin/health", &[], b""),
            Ok(r) if r.status == 200
        )
    }
}

pub fn healthy() -> Response {
    reply::json(200, r#"{"health":"true"}"#)
}

pub fn unhealthy() -> Response {
    reply::json(503, r#"{"health":"false"}"#)
}
