//! Linearizable reads on every member, with three real processes: a
//! follower answers `quorum=true`/`consistent=true` itself (no 307) once
//! its leader confirmed the read index, so it sees every write acknowledged
//! before; and a follower cut off from the quorum answers an error in time,
//! never its stale copy.

mod common;

use std::time::{Duration, Instant};

use common::{Etcd, TempDir, form_request, request, try_request, wait_for};

struct Cluster {
    _dir: TempDir,
    machines: Vec<Etcd>,
}

impl Cluster {
    /// Three machines (`common::three_machines`).
    fn start(tag: &str) -> Cluster {
        let dir = TempDir::new(tag);
        let machines = common::three_machines(dir.path(), &[]);
        Cluster {
            _dir: dir,
            machines,
        }
    }

    /// The index of the machine every member names as leader.
    fn leader(&self) -> usize {
        wait_for("an agreed leader", Duration::from_secs(10), || {
            let mut named = Vec::new();
            for m in &self.machines {
                let r = try_request(&m.client, "GET", "/v2/leader", &[], b"").ok()?;
                (r.status == 200).then_some(())?;
                named.push(r.text());
            }
            let first = named.first()?.clone();
            named.iter().all(|n| *n == first).then_some(())?;
            self.machines.iter().position(|m| first.ends_with(&m.peer))
        })
    }
}

#[test]
fn a_write_acknowledged_on_the_leader_is_seen_by_the_next_quorum_read_on_each_follower() {
    let c = Cluster::start("follower-reads");
    let l = c.leader();
    let followers: Vec<&Etcd> = (0..3).filter(|i| *i != l).map(|i| &c.machines[i]).collect();
    for i in 0..40 {
        let r = form_request(
            &c.machines[l].client,
            "PUT",
            "/v2/keys/seq",
            &format!("value={i}"),
        );
        assert!(r.status == 200 || r.status == 201, "{}", r.text());
        let written = r.etcd_index();
        for (k, f) in followers.iter().enumerate() {
            let flag = if k == 0 { "quorum" } else { "consistent" };
            let r = request(
                &f.client,
                "GET",
                &format!("/v2/keys/seq?{flag}=true"),
                &[],
                b"",
            );
            assert_eq!(r.status, 200, "{} answered {}", f.name, r.text());
            assert_eq!(r.json()["node"]["value"], i.to_string(), "{}", f.name);
            assert!(r.etcd_index() >= written, "{}", f.name);
        }
    }
    // A plain read stays local, and a recursive linearizable read works too.
    let r = request(
        &followers[0].client,
        "GET",
        "/v2/keys/?recursive=true&quorum=true",
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn a_follower_cut_off_from_the_quorum_answers_an_error_in_time_not_stale_data() {
    let c = Cluster::start("follower-cut-off");
    let l = c.leader();
    let f = (l + 1) % 3;
    let other = (l + 2) % 3;
    let put = |value: &str| {
        let r = form_request(
            &c.machines[l].client,
            "PUT",
            "/v2/keys/k",
            &format!("value={value}"),
        );
        assert!(r.status == 200 || r.status == 201, "{}", r.text());
    };
    put("old");
    wait_for("the follower to apply", Duration::from_secs(5), || {
        let r = try_request(&c.machines[f].client, "GET", "/v2/keys/k", &[], b"").ok()?;
        (r.status == 200 && r.json()["node"]["value"] == "old").then_some(())
    });
    // The follower sleeps while the other two commit a newer value, then
    // wakes up alone: its copy is stale and it still believes in a leader.
    c.machines[f].pause();
    put("new");
    c.machines[l].pause();
    c.machines[other].pause();
    c.machines[f].resume();
    let started = Instant::now();
    let r = request(
        &c.machines[f].client,
        "GET",
        "/v2/keys/k?quorum=true",
        &[],
        b"",
    );
    let took = started.elapsed();
    assert_eq!(
        r.status,
        500,
        "a follower without a quorum answered a linearizable read: {}",
        r.text()
    );
    let code = r.json()["errorCode"].as_u64().unwrap();
    assert!(code == 300 || code == 301, "{}", r.text());
    // Within the request deadline (3 s), with margin for a loaded machine.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // Plain reads are still served from the local copy.
    assert_eq!(
        request(&c.machines[f].client, "GET", "/v2/keys/k", &[], b"").status,
        200
    );
    c.machines[l].resume();
    c.machines[other].resume();
    wait_for(
        "the follower to serve the new value linearizably",
        Duration::from_secs(15),
        || {
            let r = try_request(
                &c.machines[f].client,
                "GET",
                "/v2/keys/k?quorum=true",
                &[],
                b"",
            )
            .ok()?;
            assert_ne!(r.status, 307);
            if r.status == 200 {
                assert_eq!(r.json()["node"]["value"], "new", "a stale answer");
                return Some(());
            }
            None
        },
    );
}
