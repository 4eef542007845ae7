//! Joining a cluster through any reachable listed peer: `PUT /join` on the
//! peer port, following redirects to the leader, for up to
//! `-max-retry-attempts` rounds over the peer list.

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
    /// No listed peer could be reached in any round.
    Unreachable { attempts: u32 },
}

impl std::fmt::Display for JoinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JoinError::Refused(why) => {
                write!(f, "the cluster refused to let this machine join: {why}")
            }
            JoinError::Unreachable { attempts } => {
                write!(
                    f,
                    "fail joining the cluster via given peers after {attempts} retries"
                )
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
    for round in 1..=rounds {
        for peer in plan.peers {
            match try_peer(plan, peer, body.as_bytes()) {
                Ok(members) => return Ok(members),
                Err(Some(refusal)) => return Err(JoinError::Refused(refusal)),
                Err(None) => log::info!("join via {peer} failed (round {round}/{rounds})"),
            }
        }
        if round < rounds {
            std::thread::sleep(plan.retry_interval);
        }
    }
    Err(JoinError::Unreachable { attempts: rounds })
}

/// Err(None): try the next peer; Err(Some(reason)): a final refusal.
fn try_peer(plan: &JoinPlan, peer: &str, body: &[u8]) -> Result<Vec<Member>, Option<String>> {
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
            .map_err(|_| None)?;
        match resp.status {
            200 => return serde_json::from_slice(&resp.body).map_err(|_| None),
            307 => {
                let location = resp.header("location").ok_or(None)?;
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
                return Err(Some(reason));
            }
            // 500 "Raft Internal Error" (no leader yet) and the like: retry.
            _ => return Err(None),
        }
    }
    Err(None)
}
