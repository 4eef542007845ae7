//! Every metric this program exports, by name, in one registry.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use super::primitives::{Counter, Gauge, Histogram};

/// HTTP methods as a label; anything else counts as `other`.
pub const METHODS: [&str; 7] = ["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "other"];

fn method_index(method: &str) -> usize {
    METHODS
        .iter()
        .position(|m| *m == method)
        .unwrap_or(METHODS.len() - 1)
}

/// What one HTTP method's requests did.
#[derive(Debug)]
pub struct MethodMetrics {
    pub received: Counter,
    pub successful_duration: Histogram,
}

/// Messages to one peer: round trips of the batches sent, failures, bytes.
#[derive(Debug)]
pub struct PeerMetrics {
    pub round_trip: Histogram,
    pub sent_failures: Counter,
    pub sent_bytes: Counter,
}

impl Default for PeerMetrics {
    fn default() -> PeerMetrics {
        PeerMetrics {
            // etcd 3's etcd_network_peer_round_trip_time_seconds buckets.
            round_trip: Histogram::exponential(0.0001, 2.0, 16),
            sent_failures: Counter::default(),
            sent_bytes: Counter::default(),
        }
    }
}

#[derive(Debug)]
pub struct Metrics {
    pub has_leader: Gauge,
    pub is_leader: Gauge,
    pub leader_changes_seen: Counter,
    pub proposals_committed: Counter,
    pub proposals_applied: Counter,
    pub proposals_pending: Gauge,
    pub proposals_failed: Counter,
    pub wal_fsync_duration: Histogram,
    pub wal_write_bytes: Counter,
    pub snapshot_save_duration: Histogram,
    pub watch_requests: Counter,
    /// Full password hashes computed (logins the cache did not answer, and
    /// new passwords): what guessing costs the machine.
    pub auth_password_hashes: Counter,
    /// Logins refused: unknown user, wrong password, unreadable header.
    pub auth_failed_logins: Counter,
    http: Vec<MethodMetrics>,
    /// (method index, status) of failed requests: few distinct values, and
    /// only failures take the lock.
    http_failed: Mutex<BTreeMap<(usize, u16), u64>>,
    /// By peer name; a sender looks its entry up once.
    peers: RwLock<BTreeMap<String, Arc<PeerMetrics>>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            has_leader: Gauge::default(),
            is_leader: Gauge::default(),
            leader_changes_seen: Counter::default(),
            proposals_committed: Counter::default(),
            proposals_applied: Counter::default(),
            proposals_pending: Gauge::default(),
            proposals_failed: Counter::default(),
            wal_fsync_duration: Histogram::exponential(0.001, 2.0, 14),
            wal_write_bytes: Counter::default(),
            snapshot_save_duration: Histogram::exponential(0.001, 2.0, 14),
            watch_requests: Counter::default(),
            auth_password_hashes: Counter::default(),
            auth_failed_logins: Counter::default(),
            http: METHODS
                .iter()
                .map(|_| MethodMetrics {
                    received: Counter::default(),
                    successful_duration: Histogram::exponential(0.0005, 2.0, 13),
                })
                .collect(),
            http_failed: Mutex::default(),
            peers: RwLock::default(),
        }
    }
}

/// The process's registry.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

impl Metrics {
    /// A keys API request was answered with `status` after `took`.
    pub fn http_answered(&self, method: &str, status: u16, took: Duration) {
        let i = method_index(method);
        self.http[i].received.inc();
        if status < 400 {
            self.http[i].successful_duration.observe(took);
        } else {
            let mut failed = self.http_failed.lock().unwrap_or_else(|p| p.into_inner());
            *failed.entry((i, status)).or_default() += 1;
        }
    }

    pub(super) fn http_methods(&self) -> impl Iterator<Item = (&'static str, &MethodMetrics)> {
        METHODS.iter().copied().zip(self.http.iter())
    }

    pub(super) fn http_failures(&self) -> Vec<(&'static str, u16, u64)> {
        let failed = self.http_failed.lock().unwrap_or_else(|p| p.into_inner());
        failed
            .iter()
            .map(|((i, code), n)| (METHODS[*i], *code, *n))
            .collect()
    }

    /// The entry of peer `name`, made on first use.
    pub fn peer(&self, name: &str) -> Arc<PeerMetrics> {
        if let Some(p) = self
            .peers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
        {
            return p.clone();
        }
        let mut peers = self.peers.write().unwrap_or_else(|p| p.into_inner());
        peers.entry(name.to_string()).or_default().clone()
    }

    pub(super) fn peers(&self) -> Vec<(String, Arc<PeerMetrics>)> {
        let peers = self.peers.read().unwrap_or_else(|p| p.into_inner());
        peers.iter().map(|(n, p)| (n.clone(), p.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_answers_are_counted_by_method_and_failures_by_code() {
        let m = Metrics::default();
        m.http_answered("GET", 200, Duration::from_millis(1));
        m.http_answered("PUT", 201, Duration::from_millis(2));
        m.http_answered("PUT", 412, Duration::from_millis(2));
        m.http_answered("BREW", 404, Duration::from_millis(2));
        let received: Vec<(&str, u64)> = m
            .http_methods()
            .map(|(name, mm)| (name, mm.received.get()))
            .filter(|(_, n)| *n > 0)
            .collect();
        assert_eq!(received, vec![("GET", 1), ("PUT", 2), ("other", 1)]);
        assert_eq!(m.http_failures(), vec![("PUT", 412, 1), ("other", 404, 1)]);
    }

    #[test]
    fn a_peer_entry_is_shared() {
        let m = Metrics::default();
        m.peer("m2").sent_failures.inc();
        m.peer("m2").sent_failures.inc();
        assert_eq!(m.peer("m2").sent_failures.get(), 2);
        assert_eq!(m.peers().len(), 1);
    }
}

/// What recording costs on a hot path: `cargo test --release --lib
/// recording_cost -- --ignored --nocapture` (quoted in the README).
#[cfg(test)]
#[test]
#[ignore = "prints what a recording costs"]
fn recording_cost() {
    use std::time::Instant;
    let m = Metrics::default();
    let n = 5_000_000u32;
    let started = Instant::now();
    for i in 0..n {
        m.http_answered("GET", 200, Duration::from_nanos(u64::from(i % 5000) * 1000));
    }
    let http = started.elapsed() / n;
    let started = Instant::now();
    for i in 0..n {
        m.wal_fsync_duration
            .observe(Duration::from_nanos(u64::from(i % 5000) * 1000));
    }
    let observe = started.elapsed() / n;
    let started = Instant::now();
    for _ in 0..n {
        m.proposals_applied.inc();
    }
    let inc = started.elapsed() / n;
    println!(
        "per answered request {http:?}, per histogram observation {observe:?}, per counter increment {inc:?}"
    );
}
