//! Active size and standby machines with real processes: five machines
//! with `-cluster-active-size 3` give three members and two standbys that
//! redirect clients; `PUT /v2/admin/config` lets them join and demotes them
//! again; a killed member is replaced by a standby after `removeDelay`; the
//! settings survive a full restart; a removed machine waits as a standby
//! and rejoins when there is room.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Etcd, TempDir, request, request_l, try_request, wait_for};

const FLAGS: [&str; 6] = [
    "-cluster-active-size",
    "3",
    "-cluster-sync-interval",
    "1",
    "-cluster-remove-delay",
    "2",
];

/// m1 founds the cluster; the others join through it, one after another.
fn fleet(dir: &Path, n: usize, extra: &[&str]) -> Vec<Etcd> {
    let mut machines: Vec<Etcd> = Vec::new();
    for i in 1..=n {
        let mut flags: Vec<&str> = extra.to_vec();
        let peers;
        if let Some(first) = machines.first() {
            peers = first.peer.clone();
            flags.extend(["-peers", peers.as_str()]);
        }
        let mut m = Etcd::new(dir, &format!("m{i}"), &flags);
        m.spawn();
        m.wait_serving(Duration::from_secs(15));
        machines.push(m);
    }
    machines
}

/// The member names the leader lists on its peer port (via any machine).
fn member_names(machines: &[Etcd]) -> Option<Vec<String>> {
    for m in machines.iter().filter(|m| m.child.is_some()) {
        let Ok(r) = request_l(&m.peer, "GET", "/v2/admin/machines", &[], b"") else {
            continue;
        };
        if r.status != 200 {
            continue;
        }
        let list = r.json();
        let names = list
            .as_array()?
            .iter()
            .filter_map(|e| e["name"].as_str().map(str::to_string))
            .collect();
        return Some(names);
    }
    None
}

fn wait_members(machines: &[Etcd], want: usize, limit: Duration) -> Vec<String> {
    wait_for(&format!("{want} members"), limit, || {
        member_names(machines).filter(|names| names.len() == want)
    })
}

fn leader_index(machines: &[Etcd]) -> usize {
    wait_for("a leader", Duration::from_secs(10), || {
        for m in machines.iter().filter(|m| m.child.is_some()) {
            let r = try_request(&m.client, "GET", "/v2/leader", &[], b"").ok()?;
            if r.status == 200 {
                let url = r.text();
                return machines.iter().position(|x| url.ends_with(&x.peer));
            }
        }
        None
    })
}

fn put_config(peer: &str, body: &str) -> common::Resp {
    request_l(
        peer,
        "PUT",
        "/v2/admin/config",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .expect("PUT /v2/admin/config")
}

#[test]
fn five_machines_with_active_size_three_give_three_members_and_two_standbys() {
    let dir = TempDir::new("standby");
    let mut machines = fleet(dir.path(), 5, &FLAGS);
    let names = wait_members(&machines, 3, Duration::from_secs(10));
    assert_eq!(names, vec!["m1", "m2", "m3"]);
    for m in &machines[3..] {
        assert!(
            m.log_text().contains("waiting as a standby"),
            "{}",
            m.log_text()
        );
    }
    // Standbys are not members anywhere a client looks.
    let listed = machines[0].machines().unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    let registry = request(
        &machines[0].client,
        "GET",
        "/v2/keys/_etcd/machines",
        &[],
        b"",
    )
    .json();
    assert_eq!(registry["node"]["nodes"].as_array().unwrap().len(), 3);

    // A standby's client port sends everything to the leader.
    let l = leader_index(&machines);
    let standby = &machines[4];
    // Until its first look at the cluster a standby knows no leader (402).
    let r = wait_for(
        "the standby to know the leader",
        Duration::from_secs(5),
        || {
            let r = try_request(
                &standby.client,
                "GET",
                "/v2/keys/x?consistent=true",
                &[],
                b"",
            )
            .ok()?;
            (r.status == 307).then_some(r)
        },
    );
    assert_eq!(
        r.header("Location"),
        Some(format!("http://{}/v2/keys/x?consistent=true", machines[l].client).as_str())
    );
    let r = request_l(
        &standby.client,
        "PUT",
        "/v2/keys/through-standby",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"value=1",
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let r = request_l(&standby.client, "GET", "/v2/keys/through-standby", &[], b"").unwrap();
    assert_eq!(r.json()["node"]["value"], "1");
    assert_eq!(
        request(&standby.client, "GET", "/version", &[], b"").status,
        307
    );
    // Its peer port: the version handshake, and the leader for the rest.
    assert_eq!(
        request(&standby.peer, "GET", "/version", &[], b"").text(),
        "4"
    );
    assert_eq!(
        request(&standby.peer, "GET", "/version/4/check", &[], b"").status,
        200
    );
    assert_eq!(
        request(&standby.peer, "GET", "/version/2/check", &[], b"").status,
        403
    );
    let r = request(&standby.peer, "GET", "/v2/admin/machines", &[], b"");
    assert_eq!(r.status, 307);

    // Raising activeSize through a follower (redirected to the leader).
    let follower = (0..3).find(|i| *i != l).unwrap();
    let r = request(
        &machines[follower].peer,
        "PUT",
        "/v2/admin/config",
        &[("Content-Type", "application/json")],
        br#"{"activeSize":5}"#,
    );
    assert_eq!(r.status, 307);
    assert_eq!(
        r.header("Location"),
        Some(format!("http://{}/v2/admin/config", machines[l].peer).as_str())
    );
    let r = put_config(&machines[follower].peer, r#"{"activeSize":5}"#);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        "{\"activeSize\":5,\"removeDelay\":2,\"syncInterval\":1}\n"
    );
    let started = Instant::now();
    wait_members(&machines, 5, Duration::from_secs(10));
    println!(
        "both standbys joined {:?} after activeSize went to 5",
        started.elapsed()
    );
    for m in &machines[3..] {
        wait_for("the joined line", Duration::from_secs(5), || {
            m.log_text()
                .contains("joined the cluster as a member")
                .then_some(())
        });
    }
    assert_eq!(machines[4].machines().unwrap().len(), 5);
    // As 0.4 does, an admin PUT is recorded at /_etcd/config.
    let r = request(
        &machines[0].client,
        "GET",
        "/v2/keys/_etcd/config",
        &[],
        b"",
    );
    assert_eq!(
        r.json()["node"]["value"],
        "{\"activeSize\":5,\"removeDelay\":2,\"syncInterval\":1}"
    );

    // Back to 3: two are demoted, never the leader.
    let l = leader_index(&machines);
    let leader_name = machines[l].name.clone();
    let r = put_config(&machines[l].peer, r#"{"activeSize":3}"#);
    assert_eq!(r.status, 200);
    let names = wait_members(&machines, 3, Duration::from_secs(10));
    assert!(names.contains(&leader_name), "{names:?}");
    let demoted: Vec<&Etcd> = machines
        .iter()
        .filter(|m| !names.contains(&m.name))
        .collect();
    assert_eq!(demoted.len(), 2);
    for m in &demoted {
        wait_for(
            "the demoted one to redirect",
            Duration::from_secs(5),
            || {
                let r = try_request(&m.client, "GET", "/v2/keys/x", &[], b"").ok()?;
                (r.status == 307).then_some(())
            },
        );
    }

    // kill -9 of a member: the leader removes it after removeDelay (2 s)
    // and a standby takes its place.
    let l = leader_index(&machines);
    let victim = machines
        .iter()
        .position(|m| names.contains(&m.name) && m.name != machines[l].name)
        .unwrap();
    let victim_name = machines[victim].name.clone();
    machines[victim].kill();
    let killed = Instant::now();
    let replaced = wait_for(
        "a standby to replace the dead member",
        Duration::from_secs(15),
        || member_names(&machines).filter(|n| n.len() == 3 && !n.contains(&victim_name)),
    );
    println!(
        "{victim_name} killed; replaced by a standby after {:?}: {replaced:?}",
        killed.elapsed()
    );
    assert!(killed.elapsed() >= Duration::from_secs(2));

    // A full restart, with flags that would seed other settings: the
    // settings come from the log.
    for m in machines.iter_mut() {
        m.kill();
    }
    for m in machines.iter_mut() {
        m.extra
            .retain(|f| !f.starts_with("-cluster") && f.parse::<u32>().is_err());
        m.spawn();
    }
    for m in machines.iter_mut() {
        m.wait_serving(Duration::from_secs(15));
    }
    let names = wait_members(&machines, 3, Duration::from_secs(15));
    assert!(!names.contains(&victim_name), "{names:?}");
    // Just after a full restart a machine may still name the leader of
    // the term before, whose peer port then sends us on (307): ask again
    // until the leader answers itself.
    let settings = wait_for("the leader's settings", Duration::from_secs(10), || {
        let l = leader_index(&machines);
        let r = try_request(&machines[l].peer, "GET", "/v2/admin/config", &[], b"").ok()?;
        (r.status == 200).then(|| r.text())
    });
    assert_eq!(
        settings,
        "{\"activeSize\":3,\"removeDelay\":2,\"syncInterval\":1}\n"
    );
    // The machine killed while a member came back as a standby.
    wait_for(
        "the old member to wait as a standby",
        Duration::from_secs(10),
        || {
            let r = try_request(&machines[victim].client, "GET", "/v2/keys/x", &[], b"").ok()?;
            (r.status == 307).then_some(())
        },
    );
    assert!(machines[victim].log_text().contains("waiting as a standby"));
}

#[test]
fn bad_settings_are_refused_with_a_reason() {
    let dir = TempDir::new("standby-bad");
    let m = Etcd::start(dir.path(), "m1", &[]);
    for (body, needle) in [
        ("activeSize=5", "not JSON"),
        (
            r#"{"activeSize":5,"colour":"blue"}"#,
            "unknown field \\\"colour\\\"",
        ),
        (r#"{"activeSize":"five"}"#, "must be a number"),
        (r#"[3]"#, "JSON object"),
    ] {
        let r = request(
            &m.peer,
            "PUT",
            "/v2/admin/config",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(r.status, 400, "{body}");
        let text = r.text();
        assert!(
            text.contains("\"errorCode\":209") && text.contains(needle),
            "{body}: {text}"
        );
    }
    let r = request(&m.peer, "GET", "/v2/admin/config", &[], b"");
    assert_eq!(
        r.text(),
        "{\"activeSize\":9,\"removeDelay\":1800,\"syncInterval\":5}\n"
    );
    // Values below the minimums are raised.
    let r = put_config(
        &m.peer,
        r#"{"activeSize":1,"removeDelay":0,"syncInterval":0.1}"#,
    );
    assert_eq!(
        r.text(),
        "{\"activeSize\":3,\"removeDelay\":2,\"syncInterval\":1}\n"
    );
    // The client port has no admin API.
    assert_eq!(
        request(&m.client, "GET", "/v2/admin/config", &[], b"").status,
        404
    );
}

#[test]
fn a_removed_leader_waits_as_a_standby_and_rejoins_when_there_is_room() {
    let dir = TempDir::new("standby-removed");
    let machines = fleet(dir.path(), 3, &["-cluster-sync-interval", "1"]);
    wait_members(&machines, 3, Duration::from_secs(10));
    // The leader removes itself: it steps down, the others elect a leader,
    // and it waits as a standby like any removed machine.
    let victim = leader_index(&machines);
    let r = request(
        &machines[victim].peer,
        "DELETE",
        &format!("/v2/admin/machines/{}", machines[victim].name),
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    wait_for("the removal line", Duration::from_secs(5), || {
        machines[victim]
            .log_text()
            .contains("removed from the cluster; waiting as a standby")
            .then_some(())
    });
    // activeSize is 9: the standby joins again at its next sync.
    wait_for(
        "the removed machine to rejoin",
        Duration::from_secs(10),
        || {
            machines[victim]
                .log_text()
                .contains("joined the cluster as a member")
                .then_some(())
        },
    );
    wait_members(&machines, 3, Duration::from_secs(10));
    let r = request_l(
        &machines[victim].client,
        "PUT",
        "/v2/keys/back",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"value=1",
    )
    .unwrap();
    assert_eq!(r.status, 201);
}

#[test]
fn a_restarted_standby_stays_one_and_finds_the_cluster_from_its_data_dir() {
    let dir = TempDir::new("standby-restart");
    let mut machines = fleet(dir.path(), 4, &FLAGS);
    wait_members(&machines, 3, Duration::from_secs(10));
    let standby = &mut machines[3];
    assert!(standby.log_text().contains("waiting as a standby"));
    // Its first look at the cluster writes standby_info; killed before
    // that, it has nothing to come back as a standby from (1 run in 4).
    let info = standby.data_dir.join("standby_info");
    wait_for(
        "the standby's first standby_info",
        Duration::from_secs(10),
        || info.exists().then_some(()),
    );
    // Restarted without -peers: only standby_info says where the cluster is.
    standby.kill();
    standby
        .extra
        .retain(|f| f != "-peers" && !f.starts_with("127.0.0.1:"));
    standby.spawn();
    standby.wait_serving(Duration::from_secs(10));
    assert!(
        standby
            .log_text()
            .contains("waiting as a standby: it was a standby when it stopped"),
        "{}",
        standby.log_text()
    );
    let l = leader_index(&machines);
    let leader_client = machines[l].client.clone();
    let standby = &machines[3];
    wait_for(
        "the restarted standby to redirect to the leader",
        Duration::from_secs(10),
        || {
            let r = try_request(&standby.client, "GET", "/v2/keys/a", &[], b"").ok()?;
            (r.header("Location") == Some(format!("http://{leader_client}/v2/keys/a").as_str()))
                .then_some(())
        },
    );
    // Room for one more: it joins, still without any -peers.
    let r = put_config(&machines[l].peer, r#"{"activeSize":4}"#);
    assert_eq!(r.status, 200);
    wait_members(&machines, 4, Duration::from_secs(10));
    wait_for("the joined line", Duration::from_secs(5), || {
        machines[3]
            .log_text()
            .contains("joined the cluster as a member")
            .then_some(())
    });
}
