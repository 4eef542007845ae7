//! Redirects, as an etcd follower sends writes and consistent reads to its
//! leader: the same method and body go to the new host and path.

use super::*;

const REGISTRY: &str = "/v2/keys/_etcd/registry/abc";

/// A fake that sends everything to `to` (`host:port`) with `status`.
fn redirecting(status: u16, to: SocketAddr) -> Fake {
    Fake::plain(move |req| {
        Response::new(status).with_header("Location", &format!("http://{to}{}", req.target))
    })
}

#[test]
fn a_307_is_followed_for_puts_and_gets_with_the_same_body() {
    let leader = Fake::registry("/v2/keys");
    let follower = redirecting(307, leader.addr);
    let url = follower.url(REGISTRY);
    assert_eq!(
        discoverer(&url, "n1", "http://127.0.0.1:7001")
            .run()
            .unwrap(),
        Outcome::StartNewCluster
    );
    assert_eq!(
        discoverer(&url, "n2", "http://127.0.0.1:7002")
            .run()
            .unwrap(),
        Outcome::Peers(vec!["127.0.0.1:7001".to_string()])
    );
    let asked = follower.requests();
    assert_eq!(asked, leader.requests());
    assert_eq!(
        asked.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(),
        ["PUT", "PUT", "PUT", "PUT", "GET"]
    );
    let at_leader = leader.seen();
    assert_eq!(
        at_leader[0].form,
        pairs(&[("value", "http://127.0.0.1:7001"), ("ttl", "604800")])
    );
    assert_eq!(at_leader[1].query, "prevExist=false");
    assert_eq!(at_leader[1].form, pairs(&[("value", "started")]));
    assert_eq!(at_leader[4].query, "recursive=true&consistent=true");
    // Host names the machine actually asked.
    assert_eq!(
        at_leader[0].host.as_deref(),
        Some(leader.addr.to_string().as_str())
    );
}

#[test]
fn moved_and_found_keep_the_method_too() {
    for status in [301, 302, 308] {
        let leader = Fake::registry("/v2/keys");
        let other = redirecting(status, leader.addr);
        let d = discoverer(&other.url(REGISTRY), "n1", "http://127.0.0.1:7001");
        assert_eq!(d.run().unwrap(), Outcome::StartNewCluster, "{status}");
        assert_eq!(leader.seen()[0].method, "PUT");
    }
}

#[test]
fn a_location_that_is_only_a_path_stays_on_the_same_server() {
    let tree = Mutex::new(Tree::default());
    let fake = Fake::plain(move |req| match req.path.strip_prefix("/old") {
        Some(rest) => Response::new(307).with_header(
            "Location",
            &format!(
                "{rest}{}{}",
                if req.query.is_empty() { "" } else { "?" },
                req.query
            ),
        ),
        None => keys_api(&tree, "/v2/keys", req),
    });
    let d = discoverer(&fake.url(&format!("/old{REGISTRY}")), "n1", "http://h:1");
    assert_eq!(d.run().unwrap(), Outcome::StartNewCluster);
    let claim_at_new_place = fake
        .seen()
        .into_iter()
        .find(|s| s.path == format!("{REGISTRY}/_state"))
        .unwrap();
    assert_eq!(claim_at_new_place.query, "prevExist=false");
}

#[test]
fn redirects_in_a_loop_stop_after_five_hops() {
    // Back to itself: the Host header names it.
    let looping = Fake::plain(|req| {
        let host = req.header("host").unwrap_or_default().to_string();
        Response::new(307).with_header("Location", &format!("http://{host}{}", req.target))
    });
    let e = failure(&discoverer(
        &looping.url(REGISTRY),
        "n1",
        "http://127.0.0.1:7001",
    ));
    assert!(
        matches!(e, DiscoveryError::TooManyRedirects { hops: 5, .. }),
        "{e:?}"
    );
    // The first request and five redirected ones.
    assert_eq!(looping.seen().len(), 6);
}

#[test]
fn a_redirect_to_another_scheme_is_refused() {
    let leader = Fake::registry("/v2/keys");
    let to = leader.addr;
    let fake = Fake::plain(move |req| {
        Response::new(307).with_header("Location", &format!("https://{to}{}", req.target))
    });
    let e = failure(&discoverer(&fake.url(REGISTRY), "n1", "http://h:1"));
    let DiscoveryError::BadRedirect { reason, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(reason, "it switches from http to https");
    assert!(leader.seen().is_empty());
}

#[test]
fn a_redirect_without_location_is_refused() {
    let fake = Fake::plain(|_| Response::new(307));
    let e = failure(&discoverer(&fake.url(REGISTRY), "n1", "http://h:1"));
    assert!(matches!(e, DiscoveryError::BadRedirect { .. }), "{e:?}");
    assert!(e.to_string().contains("no Location"), "{e}");
}
