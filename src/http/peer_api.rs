//! The peer port: Raft messages between members, joins, and 0.4's admin
//! API (`/v2/admin/machines`, `/v2/admin/config`). Our own protocol; it is
//! plain HTTP so it can be inspected with curl and wrapped in TLS.

use std::time::Duration;

use crossbeam_channel::{Sender, bounded};
use serde::Deserialize;
use serde_json::json;

use crate::httpd::{Handler, Request, Responder, Response};
use crate::server::members::Member;
use crate::server::requests::{ClusterView, JoinReply, PeerRequest};

use super::reply;

/// What `GET /version` answers on the peer port: our peer protocol version.
pub const PEER_PROTOCOL_VERSION: &str = "2";

/// The body of `PUT /join`, with 0.4's field names.
#[derive(Deserialize)]
struct JoinBody {
    name: String,
    #[serde(rename = "raftURL")]
    peer_url: String,
    #[serde(rename = "etcdURL")]
    client_url: String,
}

pub struct PeerApi {
    pub state: Sender<PeerRequest>,
    /// `{"activeSize":..,"removeDelay":..,"syncInterval":..}`
    pub cluster_config: String,
    pub answer_timeout: Duration,
}

impl PeerApi {
    fn cluster(&self) -> Option<ClusterView> {
        let (tx, rx) = bounded(1);
        self.state.send(PeerRequest::Cluster { reply: tx }).ok()?;
        rx.recv_timeout(self.answer_timeout).ok()
    }

    fn membership(
        &self,
        make: impl FnOnce(Sender<JoinReply>) -> PeerRequest,
        path: &str,
    ) -> Response {
        let (tx, rx) = bounded(1);
        if self.state.send(make(tx)).is_err() {
            return reply::internal(0);
        }
        match rx.recv_timeout(self.answer_timeout) {
            Ok(JoinReply::Accepted { members }) => {
                reply::json(200, serde_json::to_string(&members).unwrap_or_default())
            }
            Ok(JoinReply::Redirect { leader_peer_url }) => reply::redirect(&leader_peer_url, path),
            Ok(JoinReply::Failed(e)) => reply::error(&e),
            Err(_) => reply::internal(0),
        }
    }

    fn admin_machines(&self, name: Option<&str>) -> Response {
        let Some(view) = self.cluster() else {
            return reply::internal(0);
        };
        let leader_id = view.leader.as_ref().map(|l| l.id);
        let describe = |m: &Member| {
            json!({
                "name": m.name,
                "state": if Some(m.id) == leader_id { "leader" } else { "follower" },
                "clientURL": m.client_url,
                "peerURL": m.peer_url,
            })
        };
        let mut members = view.members.clone();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        let body = match name {
            None => serde_json::Value::Array(members.iter().map(describe).collect()),
            Some(n) => members
                .iter()
                .find(|m| m.name == n)
                .map(describe)
                .unwrap_or(serde_json::Value::Null),
        };
        reply::json(200, format!("{body}\n"))
    }
}

impl Handler for PeerApi {
    fn handle(&self, req: Request, out: &mut Responder) {
        let resp = match (req.method.as_str(), req.path.as_str()) {
            ("OPTIONS", _) => reply::text(200, ""),
            ("GET" | "HEAD", "/version") => reply::text(200, PEER_PROTOCOL_VERSION),
            ("POST", "/raft") => match serde_json::from_slice(&req.body) {
                Ok(msgs) => match self.state.send(PeerRequest::Raft(msgs)) {
                    Ok(()) => reply::text(204, ""),
                    Err(_) => reply::text(503, "shutting down\n"),
                },
                Err(e) => reply::text(400, format!("bad raft message batch: {e}\n")),
            },
            ("PUT", "/join") => match serde_json::from_slice::<JoinBody>(&req.body) {
                Ok(m) => {
                    let member = Member::new(&m.name, &m.peer_url, &m.client_url);
                    self.membership(|reply| PeerRequest::Join { member, reply }, "/join")
                }
                Err(e) => reply::text(400, format!("bad join request: {e}\n")),
            },
            ("GET" | "HEAD", "/v2/admin/machines") => self.admin_machines(None),
            ("GET" | "HEAD", "/v2/admin/config") => {
                reply::json(200, format!("{}\n", self.cluster_config))
            }
            (method, path) => match path.strip_prefix("/v2/admin/machines/") {
                Some(name) if method == "GET" || method == "HEAD" => {
                    self.admin_machines(Some(name))
                }
                Some(name) if method == "DELETE" => {
                    let name = name.to_string();
                    let resp =
                        self.membership(|reply| PeerRequest::Remove { name, reply }, &req.target);
                    // 0.4 answers 200 with an empty body, also for an unknown name.
                    if matches!(resp.status, 200 | 404) {
                        reply::text(200, "")
                    } else {
                        resp
                    }
                }
                _ => reply::not_found(),
            },
        };
        let _ = out.send(resp);
    }
}
