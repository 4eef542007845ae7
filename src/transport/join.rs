//! Joining a cluster through any reachable listed peer: the version
//! handshake, then `PUT /join` on the peer port, following redirects to the
//! leader, for up to `-max-retry-attempts` rounds over the peer list.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::httpd::HttpClient;
use crate::membership::Member;

use super::handshake::{self, HandshakeError};
use super::{Connector, host_port};

#[derive(Debug)]
pub enum JoinError {
    /// The cluster refused us (e.g. 109, peer address taken): retrying
    /// cannot help.
    Refused(String),
    /// The cluster has `activeSize` members (103): wait as a standby.
    Full(String),
    /// The peer is not this program (etcd 0.4, etcd 2.x/3.x, ...): no join
    /// was sent, and none may be.
    Foreign {
        peer: String,
        answer: String,
        what: String,
    },
    /// No listed peer could be reached in any round. `last` is the latest
    /// failure (`peer: reason`), which usually says what to fix.
    Unreachable { attempts: u32, last: Option<String> },
}

impl std::fmt::Display for JoinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JoinError::Refused(why) => {
                write!(f, "the cluster refused to let this machine join: {why}")
            }
            JoinError::Full(why) => write!(f, "the cluster is full: {why}"),
            JoinError::Foreign { peer, answer, what } => write!(
                f,
                "refusing to join through {peer}: its /version answered {answer}: {what}"
            ),
            JoinError::Unreachable { attempts, last } => {
                write!(
                    f,
                    "fail joining the cluster via given peers after {attempts} retries"
                )?;
                match last {
                    Some(last) => write!(f, " (last failure: {last})"),
                    None => Ok(()),
                }
            }
        }
    }
}

pub struct JoinPlan<'a> {
    pub me: &'a Member,
    /// `host:port` of existing members' peer ports, tried in order.
    pub peers: &'a [String],
    pub attempts: u32,
    pub retry_interval: Duration,
    pub connector: Connector,
    pub timeout: Duration,
}

/// Returns the members of the cluster once the leader has committed our
/// registration.
pub fn join(plan: &JoinPlan) -> Result<Vec<Member>, JoinError> {
    let body = json!({
        "name": plan.me.name,
        "raftURL": plan.me.peer_url,
        "etcdURL": plan.me.client_url,
    })
    .to_string();
    let rounds = plan.attempts.max(1);
    // The reason last logged per peer: a reason is logged when it first
    // shows or changes, not again on every round.
    let mut logged: BTreeMap<&str, String> = BTreeMap::new();
    let mut last = None;
    for round in 1..=rounds {
        for peer in plan.peers {
            match try_peer(plan, peer, body.as_bytes()) {
                Ok(members) => return Ok(members),
                Err(Failure::Refused(refusal)) => return Err(JoinError::Refused(refusal)),
                Err(Failure::Full(why)) => return Err(JoinError::Full(why)),
                Err(Failure::Foreign { answer, what }) => {
                    return Err(JoinError::Foreign {
                        peer: peer.clone(),
                        answer,
                        what,
                    });
                }
                Err(Failure::Retry(reason)) => {
                    if logged.get(peer.as_str()) != Some(&reason) {
                        log_failure(peer, &reason, round, rounds);
                        logged.insert(peer, reason.clone());
                    } else {
                        log::debug!("join via {peer} failed (round {round}/{rounds}): {reason}");
                    }
                    last = Some(format!("{peer}: {reason}"));
                }
            }
        }
        if round < rounds {
            std::thread::sleep(plan.retry_interval);
        }
    }
    Err(JoinError::Unreachable {
        attempts: rounds,
        last,
    })
}

fn log_failure(peer: &str, reason: &str, round: u32, rounds: u32) {
    // A TLS failure is a configuration mismatch that retrying will not fix.
    if reason.starts_with("TLS") {
        log::warn!("join via {peer} failed (round {round}/{rounds}): {reason}");
    } else {
        log::info!("join via {peer} failed (round {round}/{rounds}): {reason}");
    }
}

enum Failure {
    /// Try the next peer (or the next round): why this one failed.
    Retry(String),
    /// The cluster said no; retrying cannot help.
    Refused(String),
    /// 103: no room for another member.
    Full(String),
    /// Not our peer protocol.
    Foreign { answer: String, what: String },
}

fn try_peer(plan: &JoinPlan, peer: &str, body: &[u8]) -> Result<Vec<Member>, Failure> {
    let mut target = peer.to_string();
    let mut client = HttpClient::new(&target, plan.connector.clone(), plan.timeout);
    handshake::check(&mut client).map_err(|e| match e {
        HandshakeError::Unreachable(why) => Failure::Retry(why),
        HandshakeError::Foreign { answer, what } => Failure::Foreign { answer, what },
    })?;
    // A follower redirects to the leader; the leader may have moved once more.
    for _ in 0..4 {
        let resp = client
            .request(
                "PUT",
                "/join",
                &[("Content-Type", "application/json")],
                body,
            )
            .map_err(|e| Failure::Retry(crate::tls::describe(&e)))?;
        match resp.status {
            200 => {
                return serde_json::from_slice(&resp.body)
                    .map_err(|e| Failure::Retry(format!("unreadable member list: {e}")));
            }
            307 => {
                let location = resp
                    .header("location")
                    .ok_or_else(|| Failure::Retry("redirect without a Location".into()))?;
                target = host_port(location.trim_end_matches("/join")).to_string();
                client = HttpClient::new(&target, plan.connector.clone(), plan.timeout);
            }
            400..=499 => {
                let error = serde_json::from_slice::<serde_json::Value>(&resp.body).ok();
                let reason = match &error {
                    Some(v) => format!(
                        "{} ({})",
                        v["message"].as_str().unwrap_or("refused"),
                        v["cause"].as_str().unwrap_or("")
                    ),
                    None => String::from_utf8_lossy(&resp.body).trim().to_string(),
                };
                let code = error.as_ref().and_then(|v| v["errorCode"].as_u64());
                if code == Some(crate::store::ErrorCode::NoMorePeer as u64) {
                    return Err(Failure::Full(reason));
                }
                return Err(Failure::Refused(reason));
            }
            // 500 "Raft Internal Error" (no leader yet) and the like: retry.
            status => {
                let why = serde_json::from_slice::<serde_json::Value>(&resp.body)
                    .ok()
                    .and_then(|v| {
                        let message = v["message"].as_str()?.to_string();
                        Some(match v["cause"].as_str().filter(|c| !c.is_empty()) {
                            Some(cause) => format!(": {message} ({cause})"),
                            None => format!(": {message}"),
                        })
                    })
                    .unwrap_or_default();
                return Err(Failure::Retry(format!("answered {status}{why}")));
            }
        }
    }
    Err(Failure::Retry("too many redirects".into()))
}
