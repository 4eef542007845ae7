//! The Prometheus text exposition format (version 0.0.4): `# HELP` and
//! `# TYPE` lines, then one sample per line; histograms as cumulative
//! `_bucket{le=…}` samples with `_sum` and `_count`.

use std::fmt::Write;

use super::families::Metrics;
use super::primitives::Histogram;
use super::process;
use crate::store::StoreStats;

/// Everything, in one response body. `store` is the store's counters when
/// the state thread answered in time.
pub fn render(m: &Metrics, store: Option<&StoreStats>) -> String {
    let mut out = Out(String::with_capacity(16 * 1024));
    server(&mut out, m);
    out.histogram(
        "etcd_wal_fsync_duration_seconds",
        "The latency distributions of fsync called by WAL.",
        &[(Vec::new(), &m.wal_fsync_duration)],
    );
    out.single(
        "etcd_wal_write_bytes_total",
        "Total number of bytes written in WAL.",
        "counter",
        m.wal_write_bytes.get() as f64,
    );
    out.histogram(
        "etcd_snapshot_save_total_duration_seconds",
        "The total latency distributions of save called by snapshot.",
        &[(Vec::new(), &m.snapshot_save_duration)],
    );
    http(&mut out, m);
    auth(&mut out, m);
    peers(&mut out, m);
    if let Some(s) = store {
        store_counts(&mut out, s, m);
    }
    process_counts(&mut out);
    out.0
}

fn server(out: &mut Out, m: &Metrics) {
    let gauges = [
        (
            "etcd_server_has_leader",
            "Whether or not a leader exists. 1 is existence, 0 is not.",
            m.has_leader.get(),
        ),
        (
            "etcd_server_is_leader",
            "Whether or not this member is a leader. 1 if is, 0 otherwise.",
            m.is_leader.get(),
        ),
        (
            "etcd_server_proposals_pending",
            "The current number of pending proposals to commit.",
            m.proposals_pending.get(),
        ),
    ];
    for (name, help, v) in gauges {
        out.single(name, help, "gauge", v as f64);
    }
    let counters = [
        (
            "etcd_server_leader_changes_seen_total",
            "The number of leader changes seen.",
            m.leader_changes_seen.get(),
        ),
        (
            "etcd_server_proposals_committed_total",
            "The total number of consensus proposals committed.",
            m.proposals_committed.get(),
        ),
        (
            "etcd_server_proposals_applied_total",
            "The total number of consensus proposals applied.",
            m.proposals_applied.get(),
        ),
        (
            "etcd_server_proposals_failed_total",
            "The total number of failed proposals seen.",
            m.proposals_failed.get(),
        ),
    ];
    for (name, help, v) in counters {
        out.single(name, help, "counter", v as f64);
    }
}

/// Ours: etcd 2.x had no auth metrics.
fn auth(out: &mut Out, m: &Metrics) {
    out.single(
        "etcd_auth_password_hashes_total",
        "Password hashes computed: logins not answered from the cache of good ones, and new passwords.",
        "counter",
        m.auth_password_hashes.get() as f64,
    );
    out.single(
        "etcd_auth_failed_logins_total",
        "Requests whose Basic credentials were refused (unknown user, wrong password, unreadable header).",
        "counter",
        m.auth_failed_logins.get() as f64,
    );
}

fn http(out: &mut Out, m: &Metrics) {
    let methods: Vec<(&str, &super::families::MethodMetrics)> = m.http_methods().collect();
    out.head(
        "etcd_http_received_total",
        "Counter of requests received into the system (successfully parsed).",
        "counter",
    );
    for (method, mm) in &methods {
        out.sample(
            "etcd_http_received_total",
            &[("method", method)],
            mm.received.get() as f64,
        );
    }
    out.head(
        "etcd_http_failed_total",
        "Counter of handle failures of requests (non-watches), by method (GET/PUT etc.) and code (400, 500 etc.).",
        "counter",
    );
    for (method, code, n) in m.http_failures() {
        let code = code.to_string();
        out.sample(
            "etcd_http_failed_total",
            &[("method", method), ("code", &code)],
            n as f64,
        );
    }
    let series: Vec<(Vec<(&str, &str)>, &Histogram)> = methods
        .iter()
        .map(|(method, mm)| (vec![("method", *method)], &mm.successful_duration))
        .collect();
    out.histogram(
        "etcd_http_successful_duration_seconds",
        "Bucketed histogram of processing time (s) of successfully handled requests (non-watches), by method (GET/PUT etc.).",
        &series,
    );
}

fn peers(out: &mut Out, m: &Metrics) {
    let peers = m.peers();
    let series: Vec<(Vec<(&str, &str)>, &Histogram)> = peers
        .iter()
        .map(|(name, p)| (vec![("To", name.as_str())], &p.round_trip))
        .collect();
    out.histogram(
        "etcd_network_peer_round_trip_time_seconds",
        "Round-Trip-Time histogram between peers (a batch of Raft messages sent and acknowledged).",
        &series,
    );
    out.head(
        "etcd_network_peer_sent_failures_total",
        "The total number of send failures from peers.",
        "counter",
    );
    for (name, p) in &peers {
        out.sample(
            "etcd_network_peer_sent_failures_total",
            &[("To", name)],
            p.sent_failures.get() as f64,
        );
    }
    out.head(
        "etcd_network_peer_sent_bytes_total",
        "The total number of bytes sent to peers.",
        "counter",
    );
    for (name, p) in &peers {
        out.sample(
            "etcd_network_peer_sent_bytes_total",
            &[("To", name)],
            p.sent_bytes.get() as f64,
        );
    }
}

fn store_counts(out: &mut Out, s: &StoreStats, m: &Metrics) {
    let reads = [("get", s.gets_success, s.gets_fail)];
    let writes = [
        ("set", s.sets_success, s.sets_fail),
        ("create", s.create_success, s.create_fail),
        ("update", s.update_success, s.update_fail),
        ("delete", s.delete_success, s.delete_fail),
        (
            "compareAndSwap",
            s.compare_and_swap_success,
            s.compare_and_swap_fail,
        ),
        (
            "compareAndDelete",
            s.compare_and_delete_success,
            s.compare_and_delete_fail,
        ),
    ];
    for (name, help, rows, failed) in [
        (
            "etcd_store_reads_total",
            "Total number of reads action by (get/getRecursive), local to this member.",
            &reads[..],
            false,
        ),
        (
            "etcd_store_reads_failed_total",
            "Failed read actions by (get/getRecursive), local to this member.",
            &reads[..],
            true,
        ),
        (
            "etcd_store_writes_total",
            "Total number of writes (e.g. set/compareAndDelete) seen by this member.",
            &writes[..],
            false,
        ),
        (
            "etcd_store_writes_failed_total",
            "Failed write actions (e.g. set/compareAndDelete), seen by this member.",
            &writes[..],
            true,
        ),
    ] {
        out.head(name, help, "counter");
        for (action, ok, fail) in rows {
            let v = if failed { *fail } else { ok + fail };
            out.sample(name, &[("action", action)], v as f64);
        }
    }
    out.single(
        "etcd_store_expires_total",
        "Total number of expired keys.",
        "counter",
        s.expire_count as f64,
    );
    out.single(
        "etcd_store_watch_requests_total",
        "Total number of incoming watch requests (new or reestablished).",
        "counter",
        m.watch_requests.get() as f64,
    );
    out.single(
        "etcd_store_watchers",
        "Count of currently active watchers.",
        "gauge",
        s.watchers as f64,
    );
}

fn process_counts(out: &mut Out) {
    let p = process::read();
    for (name, help, kind, v) in [
        (
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            "counter",
            p.cpu_seconds,
        ),
        (
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            "gauge",
            p.resident_bytes as f64,
        ),
        (
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            "gauge",
            p.virtual_bytes as f64,
        ),
        (
            "process_open_fds",
            "Number of open file descriptors.",
            "gauge",
            p.open_fds as f64,
        ),
        (
            "process_max_fds",
            "Maximum number of open file descriptors.",
            "gauge",
            p.max_fds as f64,
        ),
        (
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            "gauge",
            p.start_time_seconds,
        ),
    ] {
        out.single(name, help, kind, v);
    }
}

struct Out(String);

impl Out {
    fn head(&mut self, name: &str, help: &str, kind: &str) {
        let _ = writeln!(self.0, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, val)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape_label(val));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {}", number(v));
    }

    fn single(&mut self, name: &str, help: &str, kind: &str, v: f64) {
        self.head(name, help, kind);
        self.sample(name, &[], v);
    }

    fn histogram(&mut self, name: &str, help: &str, series: &[(Vec<(&str, &str)>, &Histogram)]) {
        self.head(name, help, "histogram");
        let bucket = format!("{name}_bucket");
        let sum = format!("{name}_sum");
        let count = format!("{name}_count");
        for (labels, h) in series {
            let (buckets, total, n) = h.snapshot();
            for (le, c) in buckets {
                let le = if le.is_infinite() {
                    "+Inf".to_string()
                } else {
                    number(le)
                };
                let mut with_le = labels.clone();
                with_le.push(("le", &le));
                self.sample(&bucket, &with_le, c as f64);
            }
            self.sample(&sum, labels, total);
            self.sample(&count, labels, n as f64);
        }
    }
}

/// Whole numbers without a fraction; others in their shortest form.
fn number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn samples_and_histograms_are_in_the_text_format() {
        let m = Metrics::default();
        m.has_leader.set(1);
        m.http_answered("PUT", 201, Duration::from_millis(3));
        m.http_answered("PUT", 412, Duration::from_millis(3));
        m.wal_fsync_duration.observe(Duration::from_micros(1500));
        m.peer("m\"2").sent_failures.inc();
        let text = render(&m, Some(&StoreStats::default()));
        assert!(text.contains("# TYPE etcd_server_has_leader gauge\netcd_server_has_leader 1\n"));
        assert!(text.contains("etcd_http_received_total{method=\"PUT\"} 2\n"));
        assert!(text.contains("etcd_http_failed_total{method=\"PUT\",code=\"412\"} 1\n"));
        assert!(text.contains("etcd_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 0\n"));
        assert!(text.contains("etcd_wal_fsync_duration_seconds_bucket{le=\"0.002\"} 1\n"));
        assert!(text.contains("etcd_wal_fsync_duration_seconds_bucket{le=\"+Inf\"} 1\n"));
        assert!(text.contains("etcd_wal_fsync_duration_seconds_count 1\n"));
        assert!(text.contains("etcd_network_peer_sent_failures_total{To=\"m\\\"2\"} 1\n"));
        assert!(text.contains(
            "etcd_http_successful_duration_seconds_bucket{method=\"PUT\",le=\"0.004\"} 1\n"
        ));
        assert!(text.contains("etcd_store_writes_total{action=\"set\"} 0\n"));
        assert!(text.contains("# TYPE process_resident_memory_bytes gauge\n"));
        // Every sample line belongs to a family announced before it.
        let mut announced = std::collections::BTreeSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                announced.insert(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|f| announced.contains(*f)))
                    .unwrap_or(name);
                assert!(announced.contains(family), "{line}");
            }
        }
    }
}
