//! Three real processes on loopback: failover under a write load with no
//! acknowledged write lost, a full-cluster crash and restart, a member that
//! needs a snapshot to catch up, removal, and joins that must be refused.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Etcd, TempDir, free_port, request, try_request, wait_for};

struct Cluster {
    _dir: TempDir,
    machines: Vec<Etcd>,
}

impl Cluster {
    /// Three machines, started one after the other; 2 and 3 join through 1.
    fn start(tag: &str, extra: &[&str]) -> Cluster {
        let dir = TempDir::new(tag);
        let machines = common::three_machines(dir.path(), extra);
        Cluster {
            _dir: dir,
            machines,
        }
    }

    fn leader(&self) -> usize {
        wait_for("a leader", Duration::from_secs(10), || {
            for m in self.machines.iter().filter(|m| m.child.is_some()) {
                let r = try_request(&m.client, "GET", "/v2/leader", &[], b"").ok()?;
                if r.status == 200 {
                    let url = r.text();
                    let i = self.machines.iter().position(|x| url.ends_with(&x.peer))?;
                    if self.machines[i].child.is_some() {
                        return Some(i);
                    }
                }
            }
            None
        })
    }

    fn alive(&self) -> impl Iterator<Item = &Etcd> {
        self.machines.iter().filter(|m| m.child.is_some())
    }
}

/// Follow redirects like `curl -L`.
fn put_l(addr: &str, path: &str, form: &str) -> std::io::Result<common::Resp> {
    let mut target = addr.to_string();
    for _ in 0..3 {
        let r = try_request(
            &target,
            "PUT",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form.as_bytes(),
        )?;
        if r.status != 307 {
            return Ok(r);
        }
        let loc = r.header("Location").unwrap_or_default().to_string();
        target = loc
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
    }
    Err(std::io::Error::other("too many redirects"))
}

/// Runs a new machine that tries to join through `peers` and returns
/// whether it exited successfully, with its stderr. It must give up by itself.
fn run_joiner(
    dir: &TempDir,
    name: &str,
    peer_addr: &str,
    peers: &str,
    extra: &[&str],
) -> (bool, String) {
    let client = format!("127.0.0.1:{}", free_port());
    let data_dir = dir.path().join(name).display().to_string();
    let mut args = vec![
        "-name",
        name,
        "-addr",
        &client,
        "-peer-addr",
        peer_addr,
        "-data-dir",
        &data_dir,
        "-peers",
        peers,
    ];
    args.extend_from_slice(extra);
    let out = std::process::Command::new(common::BIN)
        .args(&args)
        .output()
        .expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn killing_the_leader_during_writes_loses_no_acknowledged_write() {
    let mut c = Cluster::start("failover", &[]);
    let acked: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<String> = c.machines.iter().map(|m| m.client.clone()).collect();
    let mut writers = Vec::new();
    for w in 0..6 {
        let (acked, stop, clients) = (acked.clone(), stop.clone(), clients.clone());
        writers.push(std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("/v2/keys/load/w{w}-{i}");
                let via = &clients[(w + i) % clients.len()];
                if let Ok(r) = put_l(via, &key, &format!("value=v{i}"))
                    && r.status == 201
                {
                    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
                    acked
                        .lock()
                        .unwrap()
                        .insert(key, v["node"]["modifiedIndex"].as_u64().unwrap());
                }
                i += 1;
            }
        }));
    }
    wait_for("writes before the kill", Duration::from_secs(20), || {
        (acked.lock().unwrap().len() >= 200).then_some(())
    });
    let old = c.leader();
    c.machines[old].kill();
    let killed_at = Instant::now();
    let n = acked.lock().unwrap().len();
    wait_for("writes after the failover", Duration::from_secs(20), || {
        (acked.lock().unwrap().len() >= n + 200).then_some(())
    });
    let failover = killed_at.elapsed();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    c.machines[old].spawn();
    c.machines[old].wait_ready();
    let acked = acked.lock().unwrap().clone();
    let highest = acked.values().max().copied().unwrap_or(0);
    for m in c.alive() {
        wait_for("every member to catch up", Duration::from_secs(20), || {
            let r = try_request(&m.client, "GET", "/v2/keys/", &[], b"").ok()?;
            (r.etcd_index() >= highest).then_some(())
        });
        for (key, index) in &acked {
            let r = request(&m.client, "GET", key, &[], b"");
            assert_eq!(r.status, 200, "{} lost {key}", m.name);
            assert_eq!(r.json()["node"]["modifiedIndex"].as_u64(), Some(*index));
        }
    }
    eprintln!("failover under load: writes resumed within {failover:?}");
}

#[test]
fn a_full_cluster_crash_and_restart_keeps_data_and_indices() {
    let mut c = Cluster::start("fullrestart", &[]);
    let l = c.leader();
    let leader_client = c.machines[l].client.clone();
    for i in 0..20 {
        assert_eq!(
            put_l(&leader_client, &format!("/v2/keys/k{i}"), "value=v")
                .unwrap()
                .status,
            201
        );
    }
    let before = request(&leader_client, "GET", "/v2/keys/k19", &[], b"").json();
    let high = before["node"]["modifiedIndex"].as_u64().unwrap();
    for m in c.machines.iter_mut() {
        m.kill();
    }
    for m in c.machines.iter_mut() {
        m.spawn();
    }
    for m in c.machines.iter_mut() {
        m.wait_ready();
    }
    // A member that lagged at the crash serves its local copy until the new
    // leader brings it up to date: wait for that, with a deadline.
    for m in c.alive() {
        wait_for(
            "every member to serve k19 as before",
            Duration::from_secs(10),
            || {
                let r = try_request(&m.client, "GET", "/v2/keys/k19", &[], b"").ok()?;
                (r.status == 200 && r.json()["node"] == before["node"]).then_some(())
            },
        );
    }
    let l = c.leader();
    let r = put_l(&c.machines[l].client, "/v2/keys/after", "value=1").unwrap();
    assert_eq!(r.status, 201);
    assert_eq!(
        r.json()["node"]["modifiedIndex"].as_u64(),
        Some(high + 1),
        "a restart uses no store index"
    );
}

#[test]
fn a_member_behind_a_compacted_log_gets_a_snapshot() {
    let mut c = Cluster::start("snapshot", &["-snapshot-count", "50"]);
    let l = c.leader();
    let lagging = (l + 1) % 3;
    c.machines[lagging].kill();
    let leader_client = c.machines[l].client.clone();
    for i in 0..300 {
        assert_eq!(
            put_l(
                &leader_client,
                &format!("/v2/keys/s{}", i % 7),
                &format!("value={i}")
            )
            .unwrap()
            .status
                / 100,
            2
        );
    }
    let want = request(&leader_client, "GET", "/v2/keys/s6", &[], b"").json();
    c.machines[lagging].spawn();
    c.machines[lagging].wait_ready();
    let m = &c.machines[lagging];
    wait_for(
        "the lagging member to catch up",
        Duration::from_secs(15),
        || {
            let r = try_request(&m.client, "GET", "/v2/keys/s6", &[], b"").ok()?;
            (r.status == 200 && r.json()["node"] == want["node"]).then_some(())
        },
    );
    assert!(
        m.log_text().contains("snapshot"),
        "caught up through a snapshot: {}",
        m.log_text()
    );
}

#[test]
fn removal_through_the_admin_api_and_refused_joins() {
    let c = Cluster::start("remove", &[]);
    let peer = &c.machines[0].peer;
    let r = request(peer, "GET", "/v2/admin/machines", &[], b"");
    assert_eq!(r.status, 200);
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(list[0]["name"], "machine1");
    // A new machine whose peer address is already taken by another name.
    let dir = TempDir::new("dup");
    let bind = format!("127.0.0.1:{}", free_port());
    let (ok, stderr) = run_joiner(
        &dir,
        "intruder",
        &c.machines[2].peer,
        peer,
        &["-peer-bind-addr", &bind],
    );
    assert!(!ok);
    assert!(stderr.contains("Peer address has existed"), "{stderr}");
    let victim = c.machines[2].name.clone();
    let l = c.leader();
    let r = request(
        &c.machines[l].peer,
        "DELETE",
        &format!("/v2/admin/machines/{victim}"),
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    let client = &c.machines[l].client;
    wait_for("the removal to apply", Duration::from_secs(5), || {
        let r = try_request(
            client,
            "GET",
            &format!("/v2/keys/_etcd/machines/{victim}"),
            &[],
            b"",
        )
        .ok()?;
        (r.status == 404).then_some(())
    });
    assert_eq!(
        request(client, "GET", "/v2/machines", &[], b"")
            .text()
            .split(", ")
            .count(),
        2
    );
    assert_eq!(
        put_l(client, "/v2/keys/after-removal", "value=1")
            .unwrap()
            .status,
        201
    );
}

#[test]
fn linearizable_reads_need_a_quorum_and_every_member_answers_them() {
    let c = Cluster::start("linearizable", &[]);
    let l = c.leader();
    let leader = &c.machines[l];
    assert_eq!(
        put_l(&leader.client, "/v2/keys/lin", "value=1")
            .unwrap()
            .status,
        201
    );
    // A follower answers itself after a ReadIndex round with the leader.
    let follower = &c.machines[(l + 1) % 3];
    let r = request(
        &follower.client,
        "GET",
        "/v2/keys/lin?consistent=true",
        &[],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["node"]["value"], "1");
    let r = request(&leader.client, "GET", "/v2/keys/lin?quorum=true", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["node"]["value"], "1");

    // Cut the leader off from both followers: it must not answer from its
    // possibly stale copy.
    for i in 0..3 {
        if i != l {
            c.machines[i].pause();
        }
    }
    let started = Instant::now();
    let r = request(
        &leader.client,
        "GET",
        "/v2/keys/lin?consistent=true",
        &[],
        b"",
    );
    assert_eq!(
        r.status,
        500,
        "a partitioned leader answered a linearizable read: {}",
        r.text()
    );
    // 300 while it still leads, 301 once CheckQuorum made it step down.
    let code = r.json()["errorCode"].as_u64().unwrap();
    assert!(code == 300 || code == 301, "{}", r.text());
    assert!(started.elapsed() < Duration::from_secs(6));
    // Plain reads are still served locally.
    assert_eq!(
        request(&leader.client, "GET", "/v2/keys/lin", &[], b"").status,
        200
    );
    for i in 0..3 {
        if i != l {
            c.machines[i].resume();
        }
    }
    wait_for(
        "linearizable reads to work again",
        Duration::from_secs(10),
        || {
            let l = c.leader();
            let r = try_request(
                &c.machines[l].client,
                "GET",
                "/v2/keys/lin?quorum=true",
                &[],
                b"",
            )
            .ok()?;
            (r.status == 200).then_some(())
        },
    );
}

#[test]
fn stats_report_real_follower_counts() {
    let c = Cluster::start("stats", &[]);
    let l = c.leader();
    let leader = &c.machines[l];
    for i in 0..10 {
        put_l(&leader.client, &format!("/v2/keys/s{i}"), "value=1").unwrap();
    }
    let v = request(&leader.client, "GET", "/v2/stats/leader", &[], b"").json();
    assert_eq!(v["leader"], leader.name.as_str());
    let followers = v["followers"].as_object().unwrap();
    assert_eq!(followers.len(), 2);
    for (name, f) in followers {
        assert!(f["counts"]["success"].as_u64().unwrap() > 0, "{name}: {f}");
        assert!(
            f["latency"]["average"].as_f64().unwrap() > 0.0,
            "{name}: {f}"
        );
    }
    let follower = &c.machines[(l + 1) % 3];
    let v = request(&follower.client, "GET", "/v2/stats/self", &[], b"").json();
    assert_eq!(v["state"], "follower");
    assert_eq!(v["leaderInfo"]["leader"], leader.name.as_str());
    assert!(v["recvAppendRequestCnt"].as_u64().unwrap() > 0);
    let r = request(&follower.client, "GET", "/v2/stats/leader", &[], b"");
    assert_eq!(r.status, 307);
}

#[test]
fn a_second_machine_with_a_live_members_name_is_refused() {
    let c = Cluster::start("samename", &[]);
    let dir = TempDir::new("samename-dup");
    let own_peer = format!("127.0.0.1:{}", free_port());
    let (ok, stderr) = run_joiner(&dir, "machine2", &own_peer, &c.machines[0].peer, &[]);
    assert!(!ok);
    assert!(stderr.contains("machine2 is active at"), "{stderr}");
    let r = request(
        &c.machines[0].client,
        "GET",
        "/v2/keys/_etcd/machines/machine2",
        &[],
        b"",
    );
    assert_eq!(
        r.json()["node"]["value"],
        format!(
            "raft=http://{}&etcd=http://{}",
            c.machines[1].peer, c.machines[1].client
        )
    );
}

#[test]
fn joining_through_unreachable_peers_gives_up_after_the_retries() {
    let dir = TempDir::new("noreach");
    let dead = format!("127.0.0.1:{}", free_port());
    let started = Instant::now();
    let own_peer = format!("127.0.0.1:{}", free_port());
    let (ok, stderr) = run_joiner(
        &dir,
        "lonely",
        &own_peer,
        &dead,
        &["-max-retry-attempts", "2", "-retry-interval", "0.2"],
    );
    assert!(!ok);
    assert!(stderr.contains("after 2 retries"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20));
}
