//! etcd 0.4's discovery steps for one machine: register its peer URL,
//! claim the start of the cluster, or else list the machines registered
//! before it; and the refresh of the registration while it runs.
//!
//! Owns the order of the steps and what each answer means. Never joins a
//! cluster, never retries a step and never decides what a failure leads to
//! (falling back to `-peers` or exiting is the caller's choice).

use std::io;
use std::sync::{Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::{Map, Value};

use super::error::DiscoveryError;
use super::keys::{self, Registry, Reply};
use super::url::{DiscoveryUrl, escape};
use super::{Outcome, REGISTRATION_TTL_SECS};
use crate::httpd::HttpClient;
use crate::transport::{Connector, host_port};

/// The hidden key whose creation decides which machine starts the cluster.
const STATE_KEY: &str = "_state";
const STARTED: &str = "started";

/// Discovery for one machine through one registry.
///
/// ```ignore
/// let url = DiscoveryUrl::parse("https://discovery.etcd.io/abc")?;
/// let d = Discoverer::new(url, "node1", "http://10.0.0.1:7001", connector, Duration::from_secs(5));
/// match d.run()? {
///     Outcome::StartNewCluster => { /* bootstrap alone */ }
///     Outcome::Peers(peers) => { /* join through peers */ }
/// }
/// d.spawn_refresh(REFRESH_EVERY)?;
/// ```
pub struct Discoverer {
    url: DiscoveryUrl,
    name: String,
    peer_url: String,
    connector: Connector,
    timeout: Duration,
    /// Keep-alive connection to the URL's host; hops to other hosts after
    /// a redirect get their own short-lived client.
    client: Mutex<HttpClient>,
}

impl Discoverer {
    /// `connector` wraps each TCP connection (plain or TLS); `timeout`
    /// bounds connecting and each read and write of every request.
    pub fn new(
        url: DiscoveryUrl,
        name: &str,
        peer_url: &str,
        connector: Connector,
        timeout: Duration,
    ) -> Discoverer {
        let client = keys::client(url.host_port(), &connector, timeout);
        Discoverer {
            url,
            name: name.to_string(),
            peer_url: peer_url.to_string(),
            connector,
            timeout,
            client: Mutex::new(client),
        }
    }

    /// Registers this machine, claims the start of the cluster, and when
    /// another machine claimed it first, lists the registered peers.
    pub fn run(&self) -> Result<Outcome, DiscoveryError> {
        let outcome = self.with_client(|client| {
            self.register_through(client)?;
            if self.claim(client)? {
                Ok(Outcome::StartNewCluster)
            } else {
                self.peers(client).map(Outcome::Peers)
            }
        });
        match &outcome {
            Ok(Outcome::StartNewCluster) => {
                log::info!(
                    "discovery via {}: this machine starts the cluster",
                    self.url
                )
            }
            Ok(Outcome::Peers(peers)) => log::info!(
                "discovery via {}: found peers [{}]",
                self.url,
                peers.join(", ")
            ),
            Err(_) => {}
        }
        outcome
    }

    /// Puts this machine's peer URL under its name in the registry for
    /// [`REGISTRATION_TTL_SECS`] (step 1 alone: what a restarted machine
    /// and the refresh loop do).
    pub fn register(&self) -> Result<(), DiscoveryError> {
        self.with_client(|client| self.register_through(client))
    }

    /// Re-registers every `every` until the process ends, on a thread
    /// named `discovery`. A failed refresh is logged and tried again at the
    /// next turn: the entry outlives several missed refreshes.
    pub fn spawn_refresh(self, every: Duration) -> io::Result<JoinHandle<()>> {
        thread::Builder::new()
            .name("discovery".to_string())
            .spawn(move || {
                loop {
                    thread::sleep(every);
                    match self.register() {
                        Ok(()) => log::debug!(
                            "discovery via {}: registration of {} refreshed",
                            self.url,
                            self.name
                        ),
                        Err(e) => log::warn!(
                            "refreshing this machine's registration: {e} (next try in {}s)",
                            every.as_secs()
                        ),
                    }
                }
            })
    }

    /// Runs `steps` with the client, whose connection is closed afterwards:
    /// the next use may be a day away.
    fn with_client<T>(
        &self,
        steps: impl FnOnce(&mut HttpClient) -> Result<T, DiscoveryError>,
    ) -> Result<T, DiscoveryError> {
        let mut client = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        self.check_name()?;
        let result = steps(&mut client);
        client.close();
        result
    }

    fn registry(&self) -> Registry<'_> {
        Registry {
            url: &self.url,
            connector: &self.connector,
            timeout: self.timeout,
        }
    }

    fn check_name(&self) -> Result<(), DiscoveryError> {
        let reason = if self.name.is_empty() {
            "it is empty"
        } else if self.name == "." || self.name == ".." {
            "'.' and '..' are not key names"
        } else if self.name.starts_with('_') {
            "names starting with '_' are hidden in the registry, so other machines would never \
             find this one; choose another -name"
        } else if self.name.contains('/') {
            "a '/' would make it a directory in the registry; choose another -name"
        } else {
            return Ok(());
        };
        Err(DiscoveryError::BadName {
            url: self.url.as_str().to_string(),
            name: self.name.clone(),
            reason,
        })
    }

    /// Step 1: `PUT <registry>/<name>` with `value=<peer URL>&ttl=604800`.
    fn register_through(&self, client: &mut HttpClient) -> Result<(), DiscoveryError> {
        let registry = self.registry();
        let target = format!("{}/{}", self.url.registry_path(), escape(&self.name));
        let body = format!(
            "value={}&ttl={REGISTRATION_TTL_SECS}",
            escape(&self.peer_url)
        );
        let ex = registry.send(client, "PUT", &target, body.as_bytes())?;
        match registry.reply(&ex)? {
            Reply::Node {
                status: 200 | 201,
                action: Some(_),
                ..
            } => {
                log::debug!(
                    "discovery via {}: registered {} as {}",
                    self.url,
                    self.name,
                    self.peer_url
                );
                Ok(())
            }
            Reply::Node {
                status: 200 | 201,
                action: None,
                ..
            } => Err(registry.not_etcd(&ex)),
            other => Err(registry.unexpected(&ex, other)),
        }
    }

    /// Step 2: creates `_state` if absent. True when this machine did.
    fn claim(&self, client: &mut HttpClient) -> Result<bool, DiscoveryError> {
        let registry = self.registry();
        let target = format!("{}/{STATE_KEY}?prevExist=false", self.url.registry_path());
        let body = format!("value={STARTED}");
        let ex = registry.send(client, "PUT", &target, body.as_bytes())?;
        match registry.reply(&ex)? {
            Reply::Node {
                status: 200 | 201,
                node,
                ..
            } => match node.get("value").and_then(Value::as_str) {
                Some(STARTED) => Ok(true),
                other => Err(DiscoveryError::UnexpectedAnswer {
                    url: self.url.as_str().to_string(),
                    request: ex.request,
                    reason: format!(
                        "the claim stored {} instead of \"{STARTED}\"",
                        other.map_or("no value".to_string(), |v| format!("{v:?}"))
                    ),
                }),
            },
            // "Key already exists": another machine started the cluster.
            Reply::Error {
                status: 412,
                code: 105,
                ..
            } => {
                log::debug!("discovery via {}: the cluster is already started", self.url);
                Ok(false)
            }
            other => Err(registry.unexpected(&ex, other)),
        }
    }

    /// Step 3: the peer addresses of the other registered machines.
    fn peers(&self, client: &mut HttpClient) -> Result<Vec<String>, DiscoveryError> {
        let registry = self.registry();
        let target = format!(
            "{}?recursive=true&consistent=true",
            self.url.registry_path()
        );
        let ex = registry.send(client, "GET", &target, b"")?;
        match registry.reply(&ex)? {
            Reply::Node {
                status: 200, node, ..
            } => {
                let peers = peers_in(&node, &self.name, host_port(&self.peer_url));
                if peers.is_empty() {
                    Err(DiscoveryError::NoPeers {
                        url: self.url.as_str().to_string(),
                    })
                } else {
                    Ok(peers)
                }
            }
            other => Err(registry.unexpected(&ex, other)),
        }
    }
}

/// The `host:port` of every machine listed under `registry` but this one
/// (`name`), in listing order, once each. Entries that cannot be a machine
/// (directories, hidden keys, empty values) are skipped; so is any other
/// name registered with this machine's own address (`own`), since joining
/// through oneself cannot work.
pub(crate) fn peers_in(registry: &Map<String, Value>, name: &str, own: &str) -> Vec<String> {
    let suffix = format!("/{name}");
    let children = registry
        .get("nodes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut peers: Vec<String> = Vec::new();
    for child in children {
        let key = child.get("key").and_then(Value::as_str).unwrap_or_default();
        let base = key.rsplit('/').next().unwrap_or_default();
        if key == name || key.ends_with(&suffix) || base.starts_with('_') {
            continue;
        }
        if child.get("dir").and_then(Value::as_bool) == Some(true) {
            log::warn!("discovery: registry entry {key:?} is a directory, not a machine; ignored");
            continue;
        }
        let addr = child
            .get("value")
            .and_then(Value::as_str)
            .map(|v| host_port(v.trim()))
            .unwrap_or_default();
        if addr.is_empty() {
            log::warn!("discovery: registry entry {key:?} holds no peer URL; ignored");
        } else if addr == own {
            log::debug!("discovery: registry entry {key:?} is this machine's address; ignored");
        } else if !peers.iter().any(|p| p == addr) {
            peers.push(addr.to_string());
        }
    }
    peers
}

#[cfg(test)]
mod tests {
    use super::peers_in;
    use serde_json::{Value, json};

    fn listing(v: Value) -> serde_json::Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn peers_are_the_other_entries_stripped_to_host_port_in_listing_order() {
        let node = listing(json!({
            "key": "/_etcd/registry/abc",
            "dir": true,
            "nodes": [
                {"key": "/_etcd/registry/abc/n3", "value": "http://10.0.0.3:7001"},
                {"key": "/_etcd/registry/abc/n1", "value": "http://10.0.0.1:7001"},
                {"key": "/_etcd/registry/abc/n2", "value": "https://10.0.0.2:7001/"},
            ]
        }));
        assert_eq!(
            peers_in(&node, "n1", "10.0.0.1:7001"),
            vec!["10.0.0.3:7001", "10.0.0.2:7001"]
        );
    }

    #[test]
    fn only_an_exact_name_is_this_machine() {
        let node = listing(json!({"nodes": [
            {"key": "/r/xn1", "value": "http://10.0.0.9:7001"},
            {"key": "/r/n1", "value": "http://10.0.0.1:7001"},
        ]}));
        assert_eq!(
            peers_in(&node, "n1", "10.0.0.1:7001"),
            vec!["10.0.0.9:7001"]
        );
    }

    #[test]
    fn entries_that_cannot_be_machines_are_skipped() {
        let node = listing(json!({"nodes": [
            {"key": "/r/_state", "value": "started"},
            {"key": "/r/sub", "dir": true, "nodes": []},
            {"key": "/r/empty", "value": ""},
            {"key": "/r/number", "value": 7},
            {"key": "/r/renamed-me", "value": "http://10.0.0.1:7001"},
            {"key": "/r/a", "value": "http://10.0.0.2:7001"},
            {"key": "/r/a-again", "value": "http://10.0.0.2:7001"},
        ]}));
        assert_eq!(
            peers_in(&node, "me", "10.0.0.1:7001"),
            vec!["10.0.0.2:7001"]
        );
        assert!(peers_in(&listing(json!({"key": "/r", "dir": true})), "me", "x").is_empty());
    }
}
