//! The client port's routes: the v2 keys API, the v1 API, the cluster
//! status endpoints (under `/v2/` and, as in 0.4.6, the same ones under
//! `/v1/`), `/version`, etcd 2.x's auth API (`/v2/auth/`, see `auth`) and
//! the dashboard (`/mod/dashboard/`, whose rule against cross-site writes
//! is checked before any write is routed). Anything else is Go's
//! plain-text 404. A standby
//! answers every request with 307 to the leader's client URL (same path
//! and query), or 402 "Standby Internal Error" when it knows no leader.

use crate::httpd::{Handler, Request, Responder};
use crate::server::clock::now_nanos;
use crate::server::mode::Mode;
use crate::server::requests::ClientRequest;
use crate::store::{ErrorCode, EtcdError};

use super::gateway::Gateway;
use super::health::{self, HealthCheck};
use super::{auth, keys, reply, v1};

pub const VERSION_TEXT: &str = concat!("etcd ", env!("CARGO_PKG_VERSION"));

pub struct ClientApi {
    pub gw: Gateway,
    pub health: HealthCheck,
}

impl Handler for ClientApi {
    fn handle(&self, req: Request, out: &mut Responder) {
        if self.answered_early(&req, out) {
            return;
        }
        let gw = &self.gw;
        if let Some(raw_key) = req.path.strip_prefix("/v2/keys/") {
            let raw_key = raw_key.to_string();
            keys::handle(gw, &req, out, &raw_key);
            return;
        }
        if let Some(raw_key) = req.path.strip_prefix("/v1/keys/") {
            let raw_key = raw_key.to_string();
            v1::keys::handle(gw, &req, out, &raw_key);
            return;
        }
        if let Some(rest) = req.path.strip_prefix("/v2/auth/") {
            let rest = rest.to_string();
            auth::handle(gw, &req, out, &rest);
            return;
        }
        if let Some(raw_key) = req.path.strip_prefix("/v1/watch/") {
            let raw_key = raw_key.to_string();
            v1::watch::handle(gw, &req, out, &raw_key);
            return;
        }
        status_routes(self, req, out);
    }
}

impl ClientApi {
    /// A standby's redirect, CORS preflights and the dashboard (its files
    /// and its rule against cross-site writes): true if answered. Out of
    /// line, so its locals are not in the frame of every waiting watch.
    #[inline(never)]
    fn answered_early(&self, req: &Request, out: &mut Responder) -> bool {
        let gw = &self.gw;
        let resp = if let Mode::Standby { leader } = gw.mode().get() {
            match leader {
                Some(l) => reply::redirect(&l.client_url, &req.target),
                // A load balancer reads the health answer, not our 402.
                None if req.path == "/health" => health::unhealthy(),
                None => reply::error(&EtcdError::new(ErrorCode::StandbyInternal, "", 0)),
            }
        } else if req.method == "OPTIONS" {
            reply::text(200, "")
        } else {
            let refused = || crate::dashboard::csrf::refuse(req, || gw.member_client_urls());
            match crate::dashboard::answer(req).or_else(refused) {
                Some(resp) => resp,
                None => return false,
            }
        };
        gw.send(req, out, resp);
        true
    }
}

/// Everything but the keys APIs. Out of line: its locals (cluster views,
/// metrics text) would otherwise sit in the frame of every waiting watch.
#[inline(never)]
fn status_routes(api: &ClientApi, req: Request, out: &mut Responder) {
    let gw = &api.gw;
    let readable = matches!(req.method.as_str(), "GET" | "HEAD");
    let resp = match req.path.as_str() {
        _ if !readable => reply::not_found(),
        "/version" => reply::text(200, VERSION_TEXT),
        "/health" => api.health.answer(gw),
        "/metrics" => {
            let (tx, rx) = crossbeam_channel::bounded(1);
            let store = gw.ask(ClientRequest::StoreStats { reply: tx }, &rx);
            let mut resp = reply::text(
                200,
                crate::metrics::render(crate::metrics::global(), store.as_ref()),
            );
            resp.headers = vec![(
                "Content-Type".into(),
                "text/plain; version=0.0.4; charset=utf-8".into(),
            )];
            resp
        }
        // etcd 2.x's leader of `/v2/members` (etcdctl member list).
        "/v2/members/leader" => match gw.cluster() {
            Some(view) => match view.leader {
                Some(m) => reply::json(200, format!("{}\n", member_json(&m))),
                None => reply::json(503, "{\"message\":\"During election\"}\n"),
            },
            None => reply::internal(gw.store_index()),
        },
        "/v2/machines" | "/v2/peers" | "/v1/machines" | "/v1/peers" => match gw.cluster() {
            Some(view) => {
                let urls: Vec<String> = view.members.iter().map(|m| m.client_url.clone()).collect();
                reply::text(200, urls.join(", "))
            }
            None => reply::internal(gw.store_index()),
        },
        // The 2.x member list: etcdctl (v2 mode) syncs its endpoints from it.
        "/v2/members" => match gw.cluster() {
            Some(view) => {
                let members: Vec<serde_json::Value> =
                    view.members.iter().map(member_json).collect();
                reply::json(200, serde_json::json!({ "members": members }).to_string())
            }
            None => reply::internal(gw.store_index()),
        },
        "/v2/leader" | "/v1/leader" => match gw.cluster() {
            Some(view) => match view.leader {
                Some(leader) => reply::text(200, leader.peer_url),
                None => reply::error(&EtcdError::new(
                    ErrorCode::LeaderElect,
                    "",
                    view.position.etcd_index,
                )),
            },
            None => reply::internal(gw.store_index()),
        },
        "/v2/stats/self" | "/v1/stats/self" => match gw.cluster() {
            Some(view) => reply::json(200, view.self_stats.to_json(now_nanos())),
            None => reply::internal(gw.store_index()),
        },
        "/v2/stats/leader" | "/v1/stats/leader" => match gw.cluster() {
            Some(view) => match (view.leader_stats, view.leader) {
                (Some(stats), _) => reply::json(200, stats.to_json()),
                (None, Some(leader)) => reply::redirect(&leader.client_url, &req.target),
                (None, None) => reply::internal(view.position.etcd_index),
            },
            None => reply::internal(gw.store_index()),
        },
        "/v2/stats/store" | "/v1/stats/store" => {
            let (tx, rx) = crossbeam_channel::bounded(1);
            match gw.ask(ClientRequest::StoreStats { reply: tx }, &rx) {
                Some(stats) => reply::json(200, stats.to_json()),
                None => reply::internal(gw.store_index()),
            }
        }
        _ => reply::not_found(),
    };
    gw.send(&req, out, resp);
}

/// A member in etcd 2.x's `/v2/members` shape.
fn member_json(m: &crate::membership::Member) -> serde_json::Value {
    serde_json::json!({
        "id": format!("{:x}", m.id),
        "name": m.name,
        "peerURLs": [m.peer_url],
        "clientURLs": [m.client_url],
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;
    use std::time::Duration;

    use super::*;
    use crate::httpd::call_in_memory;
    use crate::server::mode::{LeaderUrls, ModeCell};

    /// A client API whose state thread never answers: a standby must not
    /// need it.
    fn api(mode: Mode) -> ClientApi {
        let (tx, rx) = crossbeam_channel::unbounded();
        std::mem::forget(rx);
        let gw = Gateway::new(
            tx,
            Arc::new(AtomicU64::new(7)),
            Vec::new(),
            Duration::from_millis(50),
            ModeCell::new(mode),
        );
        ClientApi {
            gw,
            health: HealthCheck {
                budget: Duration::from_millis(50),
            },
        }
    }

    fn leader() -> LeaderUrls {
        LeaderUrls {
            name: "m1".into(),
            client_url: "http://127.0.0.1:4001".into(),
            peer_url: "http://127.0.0.1:7001".into(),
        }
    }

    #[test]
    fn a_standby_sends_every_request_to_the_leader_with_path_and_query() {
        let api = api(Mode::Standby {
            leader: Some(leader()),
        });
        for (method, target) in [
            ("GET", "/v2/keys/a/b?recursive=true&consistent=true"),
            ("PUT", "/v2/keys/a?ttl=5"),
            ("DELETE", "/v2/keys/a"),
            ("PUT", "/v1/keys/a?ttl=5"),
            ("POST", "/v1/watch/a"),
            ("GET", "/v1/leader"),
            ("GET", "/v2/machines"),
            ("GET", "/version"),
            ("GET", "/anything/else"),
        ] {
            let req = Request::new(method, target, vec![], b"value=1".to_vec());
            let r = call_in_memory(&api, req).unwrap();
            assert_eq!(r.status, 307, "{method} {target}");
            assert_eq!(
                r.header("location"),
                Some(format!("http://127.0.0.1:4001{target}").as_str())
            );
        }
    }

    #[test]
    fn a_standby_that_knows_no_leader_says_so() {
        let api = api(Mode::Standby { leader: None });
        let r = call_in_memory(&api, Request::new("GET", "/v2/keys/a", vec![], vec![])).unwrap();
        assert_eq!(r.status, 400);
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["errorCode"], 402);
        assert_eq!(body["message"], "Standby Internal Error");
    }
}
