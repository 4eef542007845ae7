//! The client port's routes: the keys API, the cluster status endpoints
//! and `/version`. Anything else is Go's plain-text 404. A standby answers
//! every request with 307 to the leader's client URL (same path and
//! query), or 402 "Standby Internal Error" when it knows no leader.

use crate::httpd::{Handler, Request, Responder};
use crate::server::clock::now_nanos;
use crate::server::mode::Mode;
use crate::server::requests::ClientRequest;
use crate::store::{ErrorCode, EtcdError};

use super::gateway::Gateway;
use super::{keys, reply};

pub const VERSION_TEXT: &str = concat!("etcd ", env!("CARGO_PKG_VERSION"));

pub struct ClientApi {
    pub gw: Gateway,
}

impl Handler for ClientApi {
    fn handle(&self, req: Request, out: &mut Responder) {
        let gw = &self.gw;
        if let Mode::Standby { leader } = gw.mode().get() {
            let resp = match leader {
                Some(l) => reply::redirect(&l.client_url, &req.target),
                None => reply::error(&EtcdError::new(ErrorCode::StandbyInternal, "", 0)),
            };
            gw.send(&req, out, resp);
            return;
        }
        if req.method == "OPTIONS" {
            gw.send(&req, out, reply::text(200, ""));
            return;
        }
        if let Some(raw_key) = req.path.strip_prefix("/v2/keys/") {
            let raw_key = raw_key.to_string();
            keys::handle(gw, &req, out, &raw_key);
            return;
        }
        let readable = matches!(req.method.as_str(), "GET" | "HEAD");
        let resp = match req.path.as_str() {
            _ if !readable => reply::not_found(),
            "/version" => reply::text(200, VERSION_TEXT),
            "/v2/machines" | "/v2/peers" => match gw.cluster() {
                Some(view) => {
                    let urls: Vec<String> =
                        view.members.iter().map(|m| m.client_url.clone()).collect();
                    reply::text(200, urls.join(", "))
                }
                None => reply::internal(gw.store_index()),
            },
            // The 2.x member list: etcdctl (v2 mode) syncs its endpoints from it.
            "/v2/members" => match gw.cluster() {
                Some(view) => {
                    let members: Vec<serde_json::Value> = view
                        .members
                        .iter()
                        .map(|m| {
                            serde_json::json!({
                                "id": format!("{:x}", m.id),
                                "name": m.name,
                                "peerURLs": [m.peer_url],
                                "clientURLs": [m.client_url],
                            })
                        })
                        .collect();
                    reply::json(200, serde_json::json!({ "members": members }).to_string())
                }
                None => reply::internal(gw.store_index()),
            },
            "/v2/leader" => match gw.cluster() {
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
            "/v2/stats/self" => match gw.cluster() {
                Some(view) => reply::json(200, view.self_stats.to_json(now_nanos())),
                None => reply::internal(gw.store_index()),
            },
            "/v2/stats/leader" => match gw.cluster() {
                Some(view) => match (view.leader_stats, view.leader) {
                    (Some(stats), _) => reply::json(200, stats.to_json()),
                    (None, Some(leader)) => reply::redirect(&leader.client_url, &req.target),
                    (None, None) => reply::internal(view.position.etcd_index),
                },
                None => reply::internal(gw.store_index()),
            },
            "/v2/stats/store" => {
                let (tx, rx) = crossbeam_channel::bounded(1);
                match gw.ask(ClientRequest::StoreStats { reply: tx }, &rx) {
                    Some(body) => reply::json(200, body),
                    None => reply::internal(gw.store_index()),
                }
            }
            _ => reply::not_found(),
        };
        gw.send(&req, out, resp);
    }
}
