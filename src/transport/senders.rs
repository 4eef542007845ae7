//! One sender thread per peer. The state thread only ever `try_send`s into a
//! bounded queue: when a peer is slow the queue fills and messages are
//! dropped, which Raft tolerates (it retries from its progress tracking).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use log::{debug, info};

use crate::httpd::HttpClient;
use crate::raft::Message;
use crate::raft::types::NodeId;
use crate::server::members::Members;
use crate::server::outbox::Outbox;
use crate::server::stats::{FollowerStats, LeaderStats};

use super::{Connector, host_port};

/// Messages waiting for one peer before new ones are dropped.
const QUEUE_DEPTH: usize = 4096;
/// Messages sent in one HTTP request at most.
const BATCH: usize = 256;
const MAX_BACKOFF: Duration = Duration::from_secs(1);

type SharedStats = Arc<Mutex<BTreeMap<String, FollowerStats>>>;

struct Peer {
    url: String,
    queue: Sender<Message>,
}

pub struct PeerSenders {
    me: NodeId,
    connector: Connector,
    timeout: Duration,
    peers: BTreeMap<NodeId, Peer>,
    stats: SharedStats,
}

impl PeerSenders {
    /// `timeout` bounds connecting and each request (a few heartbeats).
    pub fn new(me: NodeId, connector: Connector, timeout: Duration) -> PeerSenders {
        PeerSenders {
            me,
            connector,
            timeout,
            peers: BTreeMap::new(),
            stats: Arc::default(),
        }
    }

    fn start(&self, name: &str, url: &str) -> Peer {
        let (tx, rx) = bounded(QUEUE_DEPTH);
        let client = HttpClient::new(host_port(url), self.connector.clone(), self.timeout);
        let stats = self.stats.clone();
        let peer_name = name.to_string();
        let spawned = thread::Builder::new()
            .name(format!("send-{name}"))
            .spawn(move || send_loop(client, rx, stats, peer_name));
        if let Err(e) = spawned {
            log::error!("cannot start the sender thread for {name}: {e}");
        }
        Peer {
            url: url.to_string(),
            queue: tx,
        }
    }
}

impl Outbox for PeerSenders {
    fn send(&mut self, msgs: Vec<Message>) {
        for m in msgs {
            let Some(peer) = self.peers.get(&m.to) else {
                debug!("no route to member {:x}; message dropped", m.to);
                continue;
            };
            match peer.queue.try_send(m) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => debug!("queue to {} full; message dropped", peer.url),
                Err(TrySendError::Disconnected(_)) => {}
            }
        }
    }

    fn set_members(&mut self, members: &Members) {
        let wanted: BTreeMap<NodeId, (String, String)> = members
            .iter()
            .filter(|m| m.id != self.me)
            .map(|m| (m.id, (m.name.clone(), m.peer_url.clone())))
            .collect();
        // Dropping a peer's queue ends its thread.
        self.peers
            .retain(|id, peer| wanted.get(id).is_some_and(|(_, url)| *url == peer.url));
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.retain(|name, _| wanted.values().any(|(n, _)| n == name));
        for (id, (name, url)) in &wanted {
            stats.entry(name.clone()).or_default();
            if !self.peers.contains_key(id) {
                let peer = self.start(name, url);
                self.peers.insert(*id, peer);
            }
        }
    }

    fn leader_stats(&self, leader_name: &str) -> LeaderStats {
        let followers = self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone();
        LeaderStats {
            leader: leader_name.to_string(),
            followers,
        }
    }
}

fn send_loop(mut client: HttpClient, queue: Receiver<Message>, stats: SharedStats, name: String) {
    let mut backoff = Duration::from_millis(50);
    let mut was_down = false;
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter().take(BATCH - 1));
        let has_append = batch
            .iter()
            .any(|m| matches!(m.body, crate::raft::MessageBody::Append { .. }));
        let body = serde_json::to_vec(&batch).unwrap_or_default();
        let started = Instant::now();
        let ok = matches!(
            client.request("POST", "/raft", &[("Content-Type", "application/json")], &body),
            Ok(resp) if resp.status / 100 == 2
        );
        let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
        let entry = s.entry(name.clone()).or_default();
        if ok {
            if has_append {
                entry.succeeded(started.elapsed().as_secs_f64() * 1000.0);
            }
            drop(s);
            if was_down {
                info!("peer {name} is reachable again");
                was_down = false;
            }
            backoff = Duration::from_millis(50);
        } else {
            entry.failed();
            drop(s);
            if !was_down {
                info!("peer {name} is unreachable; retrying with backoff");
                was_down = true;
            }
            // Whatever queued meanwhile is stale; Raft will resend.
            thread::sleep(backoff);
            let _ = queue.try_iter().count();
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}
