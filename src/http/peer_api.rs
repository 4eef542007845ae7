//! The peer port: Raft messages between members, joins, the version
//! handshake, and 0.4's admin API (`/v2/admin/machines`,
//! `/v2/admin/config`), plus `/v2/admin/backup` (ours). Our own protocol; it is plain HTTP so it can be
//! inspected with curl and wrapped in TLS.
//!
//! A machine still finding its cluster answers 300 to everything else (a
//! joiner tries its next peer). A standby serves only what it needs: the version endpoints and Raft
//! messages (the leader's appends arrive as soon as its join commits).
//! Everything else is sent to the leader's peer URL (307), or answered
//! with 402 "Standby Internal Error" when it knows no leader.
//!
//! With auth on, the admin changes (`DELETE /v2/admin/machines/<name>`,
//! `PUT /v2/admin/config`) and `GET /v2/admin/backup` (every key) need a
//! user with the root role, as etcd 2.x's member changes do; what
//! machines ask each other stays open (the peer port's TLS guards it).

use std::time::Duration;

use crossbeam_channel::{Sender, bounded};
use serde::Deserialize;

use crate::httpd::{Handler, Request, Responder, Response};
use crate::membership::{ConfigPatch, MachineEntry, Member};
use crate::server::mode::{Mode, ModeCell};
use crate::server::requests::{ClusterView, ConfigReply, JoinReply, PeerRequest, Reply};
use crate::store::{ErrorCode, EtcdError};
use crate::transport::handshake::{PEER_PROTOCOL, speaks};

use super::auth::guard::{Guard, refusal};
use super::reply;

/// How long the leader's half of a health check may take.
const HEALTH_WAIT: Duration = Duration::from_secs(1);

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
    pub mode: ModeCell,
    pub answer_timeout: Duration,
    /// Who may use the admin changes and backups.
    pub auth: Guard,
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
        let describe = |m: &Member| MachineEntry::of(m, Some(m.id) == leader_id);
        let mut members = view.members.clone();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        let body = match name {
            None => serde_json::to_string(&members.iter().map(describe).collect::<Vec<_>>()),
            Some(n) => serde_json::to_string(&members.iter().find(|m| m.name == n).map(describe)),
        };
        reply::json(200, format!("{}\n", body.unwrap_or_default()))
    }

    fn get_config(&self) -> Response {
        match self.cluster() {
            Some(view) => reply::json(200, format!("{}\n", view.config.to_json())),
            None => reply::internal(0),
        }
    }

    fn put_config(&self, req: &Request) -> Response {
        let patch = match ConfigPatch::parse(&req.body) {
            Ok(patch) => patch,
            Err(e) => {
                let index = self.cluster().map(|v| v.position.etcd_index).unwrap_or(0);
                return reply::error(&EtcdError::new(ErrorCode::InvalidField, e.0, index));
            }
        };
        let (tx, rx) = bounded(1);
        if self
            .state
            .send(PeerRequest::SetConfig { patch, reply: tx })
            .is_err()
        {
            return reply::internal(0);
        }
        match rx.recv_timeout(self.answer_timeout) {
            Ok(ConfigReply::Done(config)) => reply::json(200, format!("{}\n", config.to_json())),
            Ok(ConfigReply::Redirect { leader_peer_url }) => {
                reply::redirect(&leader_peer_url, &req.target)
            }
            Ok(ConfigReply::Failed(e)) => reply::error(&e),
            Err(_) => reply::internal(0),
        }
    }

    /// A linearizable read completes here (any member: a follower asks its
    /// leader for the read index), so the cluster can serve right now.
    fn health(&self) -> Response {
        let (tx, rx) = bounded(1);
        if self
            .state
            .send(PeerRequest::QuorumRead { reply: tx })
            .is_err()
        {
            return crate::http::health::unhealthy();
        }
        match rx.recv_timeout(HEALTH_WAIT) {
            Ok(Reply::Done { .. }) => crate::http::health::healthy(),
            _ => crate::http::health::unhealthy(),
        }
    }

    fn raft(&self, req: &Request) -> Response {
        match serde_json::from_slice(&req.body) {
            Ok(msgs) => match self.state.send(PeerRequest::Raft(msgs)) {
                Ok(()) => reply::text(204, ""),
                Err(_) => reply::text(503, "shutting down\n"),
            },
            Err(e) => reply::text(400, format!("bad raft message batch: {e}\n")),
        }
    }

    /// `GET /version/<n>/check`: 200 if this machine speaks protocol n.
    fn version_check(rest: &str) -> Option<Response> {
        let n = rest.strip_suffix("/check")?;
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let ok = n.parse::<u32>().is_ok_and(speaks);
        Some(reply::text(if ok { 200 } else { 403 }, ""))
    }

    /// What a standby does with everything but versions and Raft messages.
    fn standby_answer(leader: Option<&str>, req: &Request) -> Response {
        match leader {
            Some(peer_url) => reply::redirect(peer_url, &req.target),
            None => reply::error(&EtcdError::new(ErrorCode::StandbyInternal, "", 0)),
        }
    }
}

impl Handler for PeerApi {
    fn handle(&self, req: Request, out: &mut Responder) {
        let readable = matches!(req.method.as_str(), "GET" | "HEAD");
        if readable && req.path == "/version" {
            let _ = out.send(reply::text(200, PEER_PROTOCOL.to_string()));
            return;
        }
        if let Some(resp) = req
            .path
            .strip_prefix("/version/")
            .filter(|_| readable)
            .and_then(Self::version_check)
        {
            let _ = out.send(resp);
            return;
        }
        if req.method == "POST" && req.path == "/raft" {
            let _ = out.send(self.raft(&req));
            return;
        }
        match self.mode.get() {
            Mode::Standby { leader } => {
                let leader = leader.map(|l| l.peer_url);
                let _ = out.send(Self::standby_answer(leader.as_deref(), &req));
                return;
            }
            // Still finding its cluster: a joiner must try another peer.
            Mode::Starting => {
                let err = EtcdError::new(ErrorCode::RaftInternal, "not a member yet", 0);
                let _ = out.send(reply::error(&err));
                return;
            }
            Mode::Member => {}
        }
        let admin_change = (req.method == "PUT" && req.path == "/v2/admin/config")
            || (req.method == "DELETE" && req.path.starts_with("/v2/admin/machines/"))
            || (readable && req.path == "/v2/admin/backup");
        if admin_change && let Err(r) = self.auth.root(&req) {
            let _ = out.send(refusal(r));
            return;
        }
        if readable && req.path == "/v2/admin/backup" {
            let head = req.method == "HEAD";
            super::backup::stream(&self.state, self.answer_timeout, head, out);
            return;
        }
        let resp = match (req.method.as_str(), req.path.as_str()) {
            ("OPTIONS", _) => reply::text(200, ""),
            ("PUT", "/join") => match serde_json::from_slice::<JoinBody>(&req.body) {
                Ok(m) => {
                    let member = Member::new(&m.name, &m.peer_url, &m.client_url);
                    self.membership(|reply| PeerRequest::Join { member, reply }, "/join")
                }
                Err(e) => reply::text(400, format!("bad join request: {e}\n")),
            },
            ("GET" | "HEAD", "/v2/admin/machines") => self.admin_machines(None),
            ("GET" | "HEAD", "/v2/admin/config") => self.get_config(),
            ("GET" | "HEAD", "/v2/admin/health") => self.health(),
            ("PUT", "/v2/admin/config") => self.put_config(&req),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::httpd::call_in_memory;
    use crate::server::mode::LeaderUrls;

    /// A peer API whose state thread never answers (nothing here needs it).
    fn api(mode: Mode) -> PeerApi {
        let (tx, rx) = crossbeam_channel::unbounded();
        std::mem::forget(rx);
        PeerApi {
            state: tx,
            mode: ModeCell::new(mode),
            answer_timeout: Duration::from_millis(50),
            auth: Guard::default(),
        }
    }

    fn call(
        api: &PeerApi,
        method: &str,
        target: &str,
        body: &[u8],
    ) -> crate::httpd::ClientResponse {
        call_in_memory(api, Request::new(method, target, vec![], body.to_vec())).unwrap()
    }

    #[test]
    fn every_mode_answers_the_version_handshake() {
        for mode in [Mode::Starting, Mode::Member, Mode::Standby { leader: None }] {
            let api = api(mode);
            assert_eq!(call(&api, "GET", "/version", b"").body, b"3");
            assert_eq!(call(&api, "GET", "/version/3/check", b"").status, 200);
            assert_eq!(call(&api, "GET", "/version/2/check", b"").status, 403);
            assert_eq!(
                call(&api, "GET", "/version/99999999999999/check", b"").status,
                403
            );
        }
        let member = api(Mode::Member);
        assert_eq!(call(&member, "GET", "/version//check", b"").status, 404);
        assert_eq!(call(&member, "GET", "/version/x/check", b"").status, 404);
    }

    #[test]
    fn a_standby_sends_admin_requests_to_the_leader() {
        let api = api(Mode::Standby {
            leader: Some(LeaderUrls {
                name: "m1".into(),
                client_url: "http://127.0.0.1:4001".into(),
                peer_url: "http://127.0.0.1:7001".into(),
            }),
        });
        for (method, target) in [
            ("GET", "/v2/admin/machines"),
            ("GET", "/v2/admin/backup"),
            ("PUT", "/v2/admin/config"),
            ("DELETE", "/v2/admin/machines/m2"),
            ("PUT", "/join"),
        ] {
            let r = call(&api, method, target, b"{}");
            assert_eq!(r.status, 307, "{method} {target}");
            assert_eq!(
                r.header("location"),
                Some(format!("http://127.0.0.1:7001{target}").as_str())
            );
        }
        let api = self::api(Mode::Standby { leader: None });
        let r = call(&api, "GET", "/v2/admin/machines", b"");
        assert_eq!(r.status, 400);
        assert!(String::from_utf8_lossy(&r.body).contains("\"errorCode\":402"));
    }

    #[test]
    fn a_machine_still_finding_its_cluster_sends_joiners_elsewhere() {
        let api = api(Mode::Starting);
        let r = call(
            &api,
            "PUT",
            "/join",
            br#"{"name":"x","raftURL":"http://a:1","etcdURL":"http://a:2"}"#,
        );
        assert_eq!(r.status, 500);
        assert!(String::from_utf8_lossy(&r.body).contains("not a member yet"));
    }

    #[test]
    fn bad_settings_are_refused_before_the_state_thread_is_asked() {
        let api = api(Mode::Member);
        let r = call(&api, "PUT", "/v2/admin/config", b"{\"activeSize\":true}");
        assert_eq!(r.status, 400);
        let body = String::from_utf8_lossy(&r.body).into_owned();
        assert!(
            body.contains("\"errorCode\":209") && body.contains("activeSize must be a number"),
            "{body}"
        );
    }
}
