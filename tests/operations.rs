//! What operators poll, with real processes: `/metrics` accepted by
//! `promtool check metrics` on a busy three-machine cluster, its counters
//! and histograms moving with the work done (writes, reads, fsyncs,
//! snapshots, a leader change, proposals failing without a quorum), and
//! `/health` on a healthy cluster, during an election and on a member cut
//! off from its quorum.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Etcd, TempDir, form_request, request, request_l, try_request, wait_for};

fn cluster(dir: &Path, extra: &[&str]) -> Vec<Etcd> {
    let mut machines: Vec<Etcd> = Vec::new();
    for i in 1..=3 {
        let mut flags: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        if let Some(first) = machines.first() {
            flags.push("-peers".into());
            flags.push(first.peer.clone());
        }
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let mut m = Etcd::new(dir, &format!("m{i}"), &flags);
        m.spawn();
        m.wait_ready();
        machines.push(m);
    }
    wait_for("three members everywhere", Duration::from_secs(10), || {
        machines
            .iter()
            .all(|m| m.machines().is_some_and(|l| l.len() == 3))
            .then_some(())
    });
    machines
}

fn leader(machines: &[Etcd]) -> usize {
    wait_for("a leader", Duration::from_secs(10), || {
        for m in machines.iter().filter(|m| m.child.is_some()) {
            let r = try_request(&m.client, "GET", "/v2/leader", &[], b"").ok()?;
            if r.status == 200 {
                let url = r.text();
                return machines
                    .iter()
                    .position(|x| url.ends_with(&x.peer) && x.child.is_some());
            }
        }
        None
    })
}

/// The samples of one machine's `/metrics`, by name with labels.
fn metrics(m: &Etcd) -> (String, BTreeMap<String, f64>) {
    let r = request(&m.client, "GET", "/metrics", &[], b"");
    assert_eq!(r.status, 200);
    assert!(
        r.header("Content-Type")
            .unwrap_or_default()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        r.header("Content-Type")
    );
    let text = r.text();
    let samples = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (name, v) = l.rsplit_once(' ')?;
            Some((name.to_string(), v.parse().ok()?))
        })
        .collect();
    (text, samples)
}

fn value(samples: &BTreeMap<String, f64>, name: &str) -> f64 {
    *samples
        .get(name)
        .unwrap_or_else(|| panic!("no sample {name} in {samples:#?}"))
}

fn promtool_accepts(text: &str) {
    let bin = "/usr/bin/promtool";
    assert!(
        Path::new(bin).exists(),
        "{bin} is missing: install Debian's prometheus (scripts/test does)"
    );
    let mut child = Command::new(bin)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn put(m: &Etcd, key: &str, value: &str) -> common::Resp {
    request_l(
        &m.client,
        "PUT",
        &format!("/v2/keys/{key}"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("value={value}").as_bytes(),
    )
    .expect("PUT")
}

#[test]
fn metrics_are_valid_and_move_with_the_work() {
    let dir = TempDir::new("metrics");
    let mut machines = cluster(dir.path(), &["-snapshot-count", "20"]);
    let l = leader(&machines);
    let (_, before) = metrics(&machines[l]);
    for i in 0..60 {
        assert_eq!(put(&machines[l], &format!("k{i}"), "v").status, 201);
    }
    for i in 0..30 {
        let r = request(
            &machines[l].client,
            "GET",
            &format!("/v2/keys/k{i}"),
            &[],
            b"",
        );
        assert_eq!(r.status, 200);
    }
    assert_eq!(
        request(&machines[l].client, "GET", "/v2/keys/missing", &[], b"").status,
        404
    );
    // Every machine's output passes promtool while the cluster is busy.
    for m in &machines {
        let (text, _) = metrics(m);
        promtool_accepts(&text);
    }
    let (_, after) = metrics(&machines[l]);
    let grew = |name: &str| value(&after, name) - before.get(name).copied().unwrap_or(0.0);
    assert!(grew("etcd_server_proposals_committed_total") >= 60.0);
    assert!(grew("etcd_server_proposals_applied_total") >= 60.0);
    assert_eq!(grew("etcd_http_received_total{method=\"PUT\"}"), 60.0);
    assert_eq!(grew("etcd_http_received_total{method=\"GET\"}"), 31.0);
    assert_eq!(
        value(
            &after,
            "etcd_http_failed_total{method=\"GET\",code=\"404\"}"
        ),
        1.0
    );
    assert_eq!(
        grew("etcd_http_successful_duration_seconds_count{method=\"PUT\"}"),
        60.0
    );
    assert!(grew("etcd_wal_fsync_duration_seconds_count") >= 1.0);
    assert!(value(&after, "etcd_snapshot_save_total_duration_seconds_count") >= 1.0);
    assert_eq!(grew("etcd_store_writes_total{action=\"set\"}"), 60.0);
    // (The store also counts its own registry lookups, as 0.4.6 did.)
    assert_eq!(grew("etcd_store_reads_total{action=\"get\"}"), 31.0);
    assert_eq!(value(&after, "etcd_server_has_leader"), 1.0);
    assert_eq!(value(&after, "etcd_server_is_leader"), 1.0);
    assert!(value(&after, "process_resident_memory_bytes") > 1e6);
    assert!(value(&after, "process_open_fds") > 3.0);
    assert!(value(&after, "process_max_fds") >= value(&after, "process_open_fds"));
    let others: Vec<&Etcd> = machines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != l)
        .map(|(_, m)| m)
        .collect();
    for o in &others {
        let rtt = format!(
            "etcd_network_peer_round_trip_time_seconds_count{{To=\"{}\"}}",
            o.name
        );
        assert!(value(&after, &rtt) > 0.0, "{rtt}");
    }
    // A watcher shows up in the store gauge.
    let watcher = machines[l].client.clone();
    let waiting = std::thread::spawn(move || {
        request(&watcher, "GET", "/v2/keys/watched?wait=true", &[], b"").status
    });
    wait_for("the watcher to be counted", Duration::from_secs(5), || {
        let (_, s) = metrics(&machines[l]);
        (value(&s, "etcd_store_watchers") >= 1.0).then_some(())
    });
    assert_eq!(put(&machines[l], "watched", "x").status, 201);
    assert_eq!(waiting.join().unwrap(), 200);

    // A leader change is seen by the survivors.
    let survivor = (l + 1) % 3;
    let (_, s) = metrics(&machines[survivor]);
    let changes = value(&s, "etcd_server_leader_changes_seen_total");
    machines[l].kill();
    let new_leader = leader(&machines);
    assert_ne!(new_leader, l);
    wait_for(
        "the leader change in the metrics",
        Duration::from_secs(5),
        || {
            let (_, s) = metrics(&machines[survivor]);
            (value(&s, "etcd_server_leader_changes_seen_total") > changes).then_some(())
        },
    );

    // Without a quorum, proposals fail and the failure is counted.
    let last = (0..3).find(|i| *i != l && *i != new_leader).unwrap();
    machines[last].kill();
    let alone = &machines[new_leader];
    let (_, s) = metrics(alone);
    let failed = value(&s, "etcd_server_proposals_failed_total");
    let r = form_request(&alone.client, "PUT", "/v2/keys/no-quorum", "value=1");
    assert_eq!(r.status, 500, "{}", r.text());
    let (text, s) = metrics(alone);
    assert!(value(&s, "etcd_server_proposals_failed_total") > failed);
    assert!(value(&s, "etcd_http_failed_total{method=\"PUT\",code=\"500\"}") >= 1.0);
    promtool_accepts(&text);
}

fn health(m: &Etcd) -> (u16, String, Duration) {
    let started = Instant::now();
    let r = request(&m.client, "GET", "/health", &[], b"");
    (r.status, r.text(), started.elapsed())
}

#[test]
fn health_follows_the_leader_and_the_quorum() {
    let dir = TempDir::new("health");
    let mut machines = cluster(dir.path(), &[]);
    for m in &machines {
        let (status, body, _) = health(m);
        assert_eq!(
            (status, body.as_str()),
            (200, r#"{"health":"true"}"#),
            "{}",
            m.name
        );
    }
    // During an election every answer comes within about a second, and the
    // survivors are healthy again once a new leader serves.
    let l = leader(&machines);
    machines[l].kill();
    let survivors: Vec<usize> = (0..3).filter(|i| *i != l).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut healthy_again = false;
    while Instant::now() < deadline && !healthy_again {
        for &s in &survivors {
            let (status, body, took) = health(&machines[s]);
            assert!(took < Duration::from_millis(1500), "{took:?}");
            assert!(
                (status == 200 && body.contains("true"))
                    || (status == 503 && body.contains("false")),
                "{status} {body}"
            );
        }
        healthy_again = survivors.iter().all(|s| health(&machines[*s]).0 == 200);
    }
    assert!(healthy_again, "the survivors never became healthy");
    // Cut off from its quorum: unhealthy, answered within about a second.
    let new_leader = leader(&machines);
    let other = survivors.into_iter().find(|s| *s != new_leader).unwrap();
    machines[other].kill();
    wait_for(
        "the lone member to say unhealthy",
        Duration::from_secs(5),
        || {
            let (status, body, took) = health(&machines[new_leader]);
            assert!(took < Duration::from_millis(1500), "{took:?}");
            (status == 503 && body == r#"{"health":"false"}"#).then_some(())
        },
    );
}
