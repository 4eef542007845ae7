//! Joining a cluster through any reachable listed peer: `PUT /join` on the
//! peer port, following redirects to the leader, for up to
//! `-max-retry-attempts` rounds over the peer list.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::httpd::HttpClient;
use crate::server::members::Member;

use super::{Connector, host_port};

#[derive(Debug)]
pub enum JoinError {
    /// The cluster refused us (e.g. 109, peer address taken): retrying
    /// cannot help.
    Refused(String),
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
}

fn try_peer(plan: &JoinPlan, peer: &str, body: &[u8]) -> Result<Vec<Member>, Failure> {
    let mut target = peer.to_string();
    // A follower redirects to the leader; the leader may have moved once more.
    for _ in 0..4 {
        let mut client = HttpClient::new(&target, plan.connector.clone(), plan.timeout);
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
            }
            400..=499 => {
                let reason = match serde_json::from_slice::<serde_json::Value>(&resp.body) {
                    Ok(v) => format!(
                        "{} ({})",
                        v["message"].as_str().unwrap_or("refused"),
                        v["cause"].as_str().unwrap_or("")
                    ),
                    Err(_) => String::from_utf8_lossy(&resp.body).trim().to_string(),
                };
                return Err(Failure::Refused(reason));
            }
            // 500 "Raft Internal Error" (no leader yet) and the like: retry.
            status => return Err(Failure::Retry(format!("answered {status}"))),
        }
    }
    Err(Failure::Retry("too many redirects".into()))
}
