//! Reading another machine's view of the cluster over its peer port:
//! `GET /v2/admin/machines` and `GET /v2/admin/config`, following a
//! standby's redirect to the leader.

use std::time::Duration;

use crate::httpd::HttpClient;
use crate::membership::{ClusterConfig, MachineEntry};
use crate::transport::{Connector, host_port};

/// What one machine answered.
#[derive(Debug, Clone)]
pub struct ClusterListing {
    pub machines: Vec<MachineEntry>,
    pub config: ClusterConfig,
    /// `host:port` of the machine that answered (after redirects).
    pub answered_by: String,
}

impl ClusterListing {
    pub fn leader(&self) -> Option<&MachineEntry> {
        self.machines.iter().find(|m| m.is_leader())
    }
}

/// Ask the machine at `peer` (`host:port`); the error says why it failed.
pub fn fetch(
    peer: &str,
    connector: &Connector,
    timeout: Duration,
) -> Result<ClusterListing, String> {
    let mut target = host_port(peer).to_string();
    for _ in 0..3 {
        let mut client = HttpClient::new(&target, connector.clone(), timeout);
        let machines = get(&mut client, "/v2/admin/machines")?;
        if let Answer::Moved(to) = machines {
            target = to;
            continue;
        }
        let config = get(&mut client, "/v2/admin/config")?;
        let (Answer::Body(machines), Answer::Body(config)) = (machines, config) else {
            return Err(format!("{target} redirected the settings elsewhere"));
        };
        let machines: Vec<MachineEntry> = serde_json::from_slice(&machines)
            .map_err(|e| format!("{target}: unreadable member list: {e}"))?;
        let config: ClusterConfig = serde_json::from_slice(&config)
            .map_err(|e| format!("{target}: unreadable cluster settings: {e}"))?;
        return Ok(ClusterListing {
            machines,
            config,
            answered_by: target,
        });
    }
    Err(format!("{peer}: too many redirects"))
}

enum Answer {
    Body(Vec<u8>),
    /// A standby sent us to the leader (`host:port`).
    Moved(String),
}

fn get(client: &mut HttpClient, path: &str) -> Result<Answer, String> {
    let resp = client
        .request("GET", path, &[], b"")
        .map_err(|e| format!("{}: {}", client.addr(), crate::tls::describe(&e)))?;
    match resp.status {
        200 => Ok(Answer::Body(resp.body)),
        307 => resp
            .header("location")
            .map(|l| Answer::Moved(host_port(strip_path(l)).to_string()))
            .ok_or_else(|| format!("{}: redirect without a Location", client.addr())),
        status => Err(format!("{}: {path} answered {status}", client.addr())),
    }
}

/// `http://h:p/v2/admin/machines` → `http://h:p`.
fn strip_path(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::strip_path;

    #[test]
    fn locations_lose_their_path() {
        assert_eq!(
            strip_path("http://127.0.0.1:7001/v2/admin/machines"),
            "http://127.0.0.1:7001"
        );
        assert_eq!(strip_path("https://h:1"), "https://h:1");
    }
}
