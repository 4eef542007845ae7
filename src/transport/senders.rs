//! One sender thread per peer. The state thread only ever `try_send`s into a
//! bounded queue: when a peer is slow the queue fills and messages are
//! dropped, which Raft tolerates (it retries from its progress tracking).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use log::{debug, info, warn};

use crate::httpd::HttpClient;
use crate::membership::Members;
use crate::raft::types::NodeId;
use crate::raft::{Message, MessageBody};
use crate::server::outbox::Outbox;
use crate::server::stats::{FollowerStats, LeaderStats};
use crate::wal::snapshot_file;

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

/// Each peer's queue by member id, shared with `DirectSender`s.
type Routes = Arc<RwLock<BTreeMap<NodeId, Sender<Message>>>>;

pub struct PeerSenders {
    me: NodeId,
    connector: Connector,
    timeout: Duration,
    peers: BTreeMap<NodeId, Peer>,
    routes: Routes,
    stats: SharedStats,
    /// Where the snapshots Raft sends as stubs are read from.
    snap_dir: Option<Arc<PathBuf>>,
}

impl PeerSenders {
    /// `timeout` bounds connecting and each request (a few heartbeats).
    pub fn new(me: NodeId, connector: Connector, timeout: Duration) -> PeerSenders {
        PeerSenders {
            me,
            connector,
            timeout,
            peers: BTreeMap::new(),
            routes: Routes::default(),
            stats: Arc::default(),
            snap_dir: None,
        }
    }

    /// Raft holds snapshots as stubs (`snapshot_file::stub`): the senders
    /// read their data from `dir` just before sending them.
    pub fn with_snapshot_dir(mut self, dir: PathBuf) -> PeerSenders {
        self.snap_dir = Some(Arc::new(dir));
        self
    }

    /// A handle another thread can send through, to the same queues: the
    /// WAL thread sends the acknowledgements that wait for its fsync itself,
    /// without a detour through the state thread.
    pub fn direct(&self) -> DirectSender {
        DirectSender {
            routes: Arc::clone(&self.routes),
        }
    }

    fn start(&self, name: &str, url: &str) -> Peer {
        let (tx, rx) = bounded(QUEUE_DEPTH);
        let client = HttpClient::new(host_port(url), self.connector.clone(), self.timeout);
        let stats = self.stats.clone();
        let peer_name = name.to_string();
        let snap_dir = self.snap_dir.clone();
        let spawned = thread::Builder::new()
            .name(format!("send-{name}"))
            .spawn(move || send_loop(client, rx, stats, peer_name, snap_dir));
        if let Err(e) = spawned {
            log::error!("cannot start the sender thread for {name}: {e}");
        }
        Peer {
            url: url.to_string(),
            queue: tx,
        }
    }
}

/// Sends to the peers' queues from outside the state thread (see
/// `PeerSenders::direct`); never blocks, drops like the state thread's sends.
#[derive(Clone)]
pub struct DirectSender {
    routes: Routes,
}

impl DirectSender {
    pub fn send(&self, msgs: Vec<Message>) {
        if msgs.is_empty() {
            return;
        }
        let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
        for m in msgs {
            match routes.get(&m.to) {
                Some(queue) => queue_message(queue, m),
                None => debug!("no route to member {:x}; message dropped", m.to),
            }
        }
    }
}

fn queue_message(queue: &Sender<Message>, m: Message) {
    match queue.try_send(m) {
        Ok(()) => {}
        Err(TrySendError::Full(m)) => debug!("queue to {:x} full; message dropped", m.to),
        Err(TrySendError::Disconnected(_)) => {}
    }
}

impl Outbox for PeerSenders {
    fn send(&mut self, msgs: Vec<Message>) {
        for m in msgs {
            match self.peers.get(&m.to) {
                Some(peer) => queue_message(&peer.queue, m),
                None => debug!("no route to member {:x}; message dropped", m.to),
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
            let entry = stats.entry(name.clone()).or_default();
            if !self.peers.contains_key(id) {
                entry.tracked_since = Some(Instant::now());
                let peer = self.start(name, url);
                self.peers.insert(*id, peer);
            }
        }
        let mut routes = self.routes.write().unwrap_or_else(|p| p.into_inner());
        *routes = self
            .peers
            .iter()
            .map(|(id, peer)| (*id, peer.queue.clone()))
            .collect();
    }

    fn last_reached(&self, name: &str) -> Option<Instant> {
        let stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.get(name).and_then(|f| f.last_reached)
    }

    fn silent_since(&self, name: &str) -> Option<Instant> {
        let stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        let f = stats.get(name)?;
        // A member reached before its sender moved to a new address counts
        // from the move.
        match (f.last_reached, f.tracked_since) {
            (Some(r), Some(t)) => Some(r.max(t)),
            (r, t) => r.or(t),
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

fn send_loop(
    mut client: HttpClient,
    queue: Receiver<Message>,
    stats: SharedStats,
    name: String,
    snap_dir: Option<Arc<PathBuf>>,
) {
    let mut backoff = Duration::from_millis(50);
    // Why the peer is unreachable, as last logged: a failure is logged when
    // it starts or its reason changes, never once per retry.
    let mut down_because: Option<String> = None;
    let metrics = crate::metrics::global().peer(&name);
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter().take(BATCH - 1));
        if let Some(dir) = &snap_dir {
            batch.retain_mut(|m| fill_snapshot(dir, m, &name));
            if batch.is_empty() {
                continue;
            }
        }
        let has_append = batch
            .iter()
            .any(|m| matches!(m.body, crate::raft::MessageBody::Append { .. }));
        let body = super::codec::encode(&batch);
        let started = Instant::now();
        let outcome = match client.request(
            "POST",
            "/raft",
            &[("Content-Type", super::codec::CONTENT_TYPE)],
            &body,
        ) {
            Ok(resp) if resp.status / 100 == 2 => Ok(()),
            // A member of another release cannot read our batches: say so,
            // through the version handshake, rather than "unreachable".
            Ok(resp) if resp.status == 400 => Err(match super::handshake::check(&mut client) {
                Err(super::handshake::HandshakeError::Foreign { answer, what }) => {
                    format!("speaks another peer protocol ({what}; its /version answered {answer})")
                }
                _ => refusal(&resp),
            }),
            Ok(resp) => Err(refusal(&resp)),
            Err(e) => Err(crate::tls::describe(&e)),
        };
        let took = started.elapsed();
        metrics.sent_bytes.add(body.len() as u64);
        match &outcome {
            Ok(()) => metrics.round_trip.observe(took),
            Err(_) => metrics.sent_failures.inc(),
        }
        let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
        let entry = s.entry(name.clone()).or_default();
        match outcome {
            Ok(()) => {
                entry.last_reached = Some(Instant::now());
                if has_append {
                    entry.succeeded(took.as_secs_f64() * 1000.0);
                }
                drop(s);
                if down_because.take().is_some() {
                    info!("peer {name} is reachable again");
                }
                backoff = Duration::from_millis(50);
                continue;
            }
            Err(reason) => {
                entry.failed();
                drop(s);
                if down_because.as_deref() != Some(reason.as_str()) {
                    log_unreachable(&name, client.addr(), &reason);
                    down_because = Some(reason);
                }
            }
        }
        // Whatever queued meanwhile is stale; Raft will resend.
        thread::sleep(backoff);
        let _ = queue.try_iter().count();
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Reads the data of a stub snapshot into `m`; false (drop the message, as
/// a lost one: Raft sends again) if its file is gone or broken.
fn fill_snapshot(dir: &Path, m: &mut Message, peer: &str) -> bool {
    let MessageBody::Snapshot { snapshot } = &mut m.body else {
        return true;
    };
    if !snapshot_file::is_stub(snapshot) {
        return true;
    }
    match snapshot_file::fill(dir, snapshot) {
        Ok(()) => true,
        Err(e) => {
            warn!(
                "cannot read snapshot {} for {peer}: {e}; not sent",
                snapshot.meta.index
            );
            false
        }
    }
}

fn log_unreachable(name: &str, addr: &str, reason: &str) {
    // A TLS failure or another release is a configuration problem, not an
    // outage: warn.
    if reason.starts_with("TLS") || reason.starts_with("speaks another") {
        warn!("peer {name} ({addr}) is unreachable: {reason}; retrying with backoff");
    } else {
        info!("peer {name} ({addr}) is unreachable: {reason}; retrying with backoff");
    }
}

/// A non-2xx answer in a few words: the status and the first line of the
/// body (e.g. a TLS port telling a plain client off).
fn refusal(resp: &crate::httpd::ClientResponse) -> String {
    let text = String::from_utf8_lossy(&resp.body);
    match text.lines().next().map(str::trim).filter(|l| !l.is_empty()) {
        Some(line) => format!(
            "answered {}: {}",
            resp.status,
            line.chars().take(120).collect::<String>()
        ),
        None => format!("answered {}", resp.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::Member;

    #[test]
    fn a_member_never_reached_is_silent_only_since_its_sender_started() {
        let mut senders =
            PeerSenders::new(1, Arc::new(crate::httpd::plain), Duration::from_millis(50));
        let mut members = Members::default();
        // Nobody listens on port 1.
        let m = Member::new("m2", "http://127.0.0.1:1", "http://127.0.0.1:2");
        members.upsert(m);
        let before = Instant::now();
        senders.set_members(&members);
        assert_eq!(senders.last_reached("m2"), None);
        assert!(!senders.reached_within("m2", Duration::from_secs(60)));
        let since = senders.silent_since("m2").expect("tracked");
        assert!(since >= before && since <= Instant::now());
        assert_eq!(senders.silent_since("nobody"), None);
    }
}
