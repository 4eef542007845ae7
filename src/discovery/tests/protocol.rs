//! The protocol as 0.4 runs it: register, claim, list; and the refresh.

use super::*;
use crate::discovery::{NO_PEERS_MESSAGE, REFRESH_EVERY, REGISTRATION_TTL_SECS};

const REGISTRY: &str = "/v2/keys/_etcd/registry/abc";

#[test]
fn the_first_machine_starts_the_cluster_and_the_second_joins_through_it() {
    let fake = Fake::registry("/v2/keys");
    let url = fake.url(REGISTRY);
    let first = discoverer(&url, "n1", "http://127.0.0.1:7001");
    assert_eq!(first.run().unwrap(), Outcome::StartNewCluster);
    let second = discoverer(&url, "n2", "http://127.0.0.1:7002");
    assert_eq!(
        second.run().unwrap(),
        Outcome::Peers(vec!["127.0.0.1:7001".to_string()])
    );

    let seen = fake.seen();
    assert_eq!(seen.len(), 5, "{seen:#?}");
    // Registration first: the peer URL as value, for one week.
    let register = &seen[0];
    assert_eq!(
        (register.method.as_str(), register.path.as_str()),
        ("PUT", "/v2/keys/_etcd/registry/abc/n1")
    );
    assert_eq!(
        register.form,
        pairs(&[("value", "http://127.0.0.1:7001"), ("ttl", "604800")])
    );
    assert_eq!(
        register.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        register.host.as_deref(),
        Some(fake.addr.to_string().as_str())
    );
    // Then the claim, create-only.
    let claim = &seen[1];
    assert_eq!(
        (
            claim.method.as_str(),
            claim.path.as_str(),
            claim.query.as_str()
        ),
        (
            "PUT",
            "/v2/keys/_etcd/registry/abc/_state",
            "prevExist=false"
        )
    );
    assert_eq!(claim.form, pairs(&[("value", "started")]));
    // The second machine registers, loses the claim and lists.
    assert_eq!(seen[2].path, "/v2/keys/_etcd/registry/abc/n2");
    assert_eq!(seen[3].path, "/v2/keys/_etcd/registry/abc/_state");
    let list = &seen[4];
    assert_eq!(
        (
            list.method.as_str(),
            list.path.as_str(),
            list.query.as_str()
        ),
        (
            "GET",
            "/v2/keys/_etcd/registry/abc",
            "recursive=true&consistent=true"
        )
    );
}

#[test]
fn a_hosted_registry_is_addressed_without_v2_keys() {
    let fake = Fake::registry("");
    let url = fake.url("/3e86b59982e4");
    assert_eq!(
        discoverer(&url, "n1", "http://10.0.0.1:7001")
            .run()
            .unwrap(),
        Outcome::StartNewCluster
    );
    assert_eq!(
        discoverer(&url, "n2", "http://10.0.0.2:7001")
            .run()
            .unwrap(),
        Outcome::Peers(vec!["10.0.0.1:7001".to_string()])
    );
    let paths: Vec<String> = fake.requests().into_iter().map(|(_, p)| p).collect();
    assert_eq!(
        paths,
        [
            "/3e86b59982e4/n1",
            "/3e86b59982e4/_state",
            "/3e86b59982e4/n2",
            "/3e86b59982e4/_state",
            "/3e86b59982e4",
        ]
    );
}

#[test]
fn later_machines_see_every_earlier_one_but_never_themselves() {
    let fake = Fake::registry("/v2/keys");
    let url = fake.url(REGISTRY);
    for (name, port) in [("a", 7001), ("b", 7002), ("c", 7003)] {
        discoverer(&url, name, &format!("http://127.0.0.1:{port}"))
            .run()
            .unwrap();
    }
    // A restarted `b` (same name, same address) finds the two others.
    let again = discoverer(&url, "b", "http://127.0.0.1:7002")
        .run()
        .unwrap();
    assert_eq!(
        again,
        Outcome::Peers(vec!["127.0.0.1:7001".into(), "127.0.0.1:7003".into()])
    );
}

#[test]
fn odd_machine_names_are_escaped_and_still_recognised_as_this_machine() {
    let fake = Fake::registry("/v2/keys");
    let url = fake.url(REGISTRY);
    discoverer(&url, "first", "http://127.0.0.1:7001")
        .run()
        .unwrap();
    let odd = discoverer(&url, "web 1+a&b=ü", "http://127.0.0.1:7002");
    assert_eq!(
        odd.run().unwrap(),
        Outcome::Peers(vec!["127.0.0.1:7001".to_string()])
    );
    let register = &fake.seen()[2];
    assert_eq!(
        register.path,
        "/v2/keys/_etcd/registry/abc/web%201%2Ba%26b%3D%C3%BC"
    );
    assert_eq!(
        register.form[0],
        ("value".into(), "http://127.0.0.1:7002".into())
    );
}

#[test]
fn a_started_registry_listing_only_this_machine_has_no_peers() {
    let fake = Fake::registry("/v2/keys");
    let url = fake.url(REGISTRY);
    let alone = discoverer(&url, "n1", "http://127.0.0.1:7001");
    assert_eq!(alone.run().unwrap(), Outcome::StartNewCluster);
    // Restarted without its data: the cluster is started, nobody else is there.
    let e = failure(&alone);
    assert!(matches!(e, DiscoveryError::NoPeers { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("discovery via {url} failed: {NO_PEERS_MESSAGE}")
    );
    assert!(e.to_string().ends_with(
        "Discovery found an initialized cluster but no reachable peers are registered."
    ));
}

#[test]
fn register_alone_sends_only_the_registration() {
    let fake = Fake::registry("/v2/keys");
    let d = discoverer(&fake.url(REGISTRY), "n1", "http://127.0.0.1:7001");
    d.register().unwrap();
    d.register().unwrap();
    assert_eq!(
        fake.requests(),
        vec![
            ("PUT".to_string(), format!("{REGISTRY}/n1")),
            ("PUT".to_string(), format!("{REGISTRY}/n1")),
        ]
    );
}

#[test]
fn the_refresh_re_registers_on_its_own_thread() {
    let fake = Fake::registry("/v2/keys");
    let d = discoverer(&fake.url(REGISTRY), "n1", "http://127.0.0.1:7001");
    let registrations = || {
        fake.seen()
            .iter()
            .filter(|s| s.method == "PUT" && s.path.ends_with("/n1"))
            .filter(|s| s.form.contains(&("ttl".into(), "604800".into())))
            .count()
    };
    let handle = d.spawn_refresh(Duration::from_millis(50)).unwrap();
    assert_eq!(handle.thread().name(), Some("discovery"));
    eventually(Duration::from_secs(10), || registrations() >= 2);
    assert!(!handle.is_finished());
}

#[test]
fn a_failed_refresh_is_not_fatal() {
    let fake = Fake::plain(|_| Response::text(500, "down for maintenance"));
    let d = discoverer(&fake.url(REGISTRY), "n1", "http://127.0.0.1:7001");
    let handle = d.spawn_refresh(Duration::from_millis(20)).unwrap();
    eventually(Duration::from_secs(10), || fake.seen().len() >= 3);
    assert!(!handle.is_finished());
}

#[test]
fn names_the_registry_would_hide_or_nest_are_refused_before_any_request() {
    let fake = Fake::registry("/v2/keys");
    for name in ["", "_hidden", "a/b", ".."] {
        let e = failure(&discoverer(
            &fake.url(REGISTRY),
            name,
            "http://127.0.0.1:7001",
        ));
        assert!(matches!(e, DiscoveryError::BadName { .. }), "{name}: {e:?}");
    }
    assert!(fake.seen().is_empty());
}

#[test]
fn the_timings_are_0_4s() {
    assert_eq!(REGISTRATION_TTL_SECS, 7 * 24 * 3600);
    assert_eq!(REFRESH_EVERY, Duration::from_secs(75_600));
}
