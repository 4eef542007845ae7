//! `discovery`: what a discovery service answers, byte for byte as it
//! arrives on the socket (a hosted service on the Internet is not ours to
//! trust): the response head and body framing as our client reads them,
//! the answer sorted into etcd's shapes, the peers read from a listing,
//! and a redirect's `Location`.
//!
//! Checked: delivery in one piece or byte by byte reads the same answer;
//! every refusal is one line; the peers found are distinct, never this
//! machine's own address, never empty; a `Location` or discovery URL that
//! parses keeps its shape and parses again to itself.

use std::sync::Arc;
use std::time::Duration;

use crate::discovery::{DiscoveryUrl, Exchange, Location, Registry, Reply, peers_in};
use crate::httpd::{ClientConfig, MemoryStream, Wire, plain, read_response};
use crate::transport::Connector;

const URL: &str = "http://127.0.0.1:4001/v2/keys/_etcd/registry/abc";
const OWN: &str = "10.0.0.1:7001";

fn answer(data: &[u8], step: usize) -> Option<crate::httpd::ClientResponse> {
    let cfg = ClientConfig {
        max_body_bytes: 64 * 1024,
        ..ClientConfig::default()
    };
    let mut wire = Wire::new(Box::new(MemoryStream::new(data, step)));
    read_response(&mut wire, &cfg, false).ok().map(|(r, _)| r)
}

fn check_url(text: &str) {
    let Ok(url) = DiscoveryUrl::parse(text) else {
        return;
    };
    assert_eq!(DiscoveryUrl::parse(url.as_str()).ok(), Some(url.clone()));
    assert!(url.registry_path().starts_with('/'));
    let prefix = url.prefix();
    assert!(!prefix.is_empty() && !prefix.starts_with('/') && !prefix.ends_with('/'));
    assert!(url.host_port().ends_with(&format!(":{}", url.port())));
}

pub fn discovery(data: &[u8]) {
    let Some(resp) = answer(data, usize::MAX) else {
        return;
    };
    assert_eq!(answer(data, 1).as_ref(), Some(&resp), "read byte by byte");
    if let Some(location) = resp.header("location") {
        if let Ok(next) = Location::parse(location, false, "127.0.0.1:4001") {
            assert!(next.target.starts_with('/'), "{next:?}");
            assert!(!next.host_port.is_empty());
        }
        check_url(location);
    }

    let Ok(url) = DiscoveryUrl::parse(URL) else {
        panic!("{URL} does not parse");
    };
    let connector: Connector = Arc::new(plain);
    let registry = Registry {
        url: &url,
        connector: &connector,
        timeout: Duration::from_secs(5),
    };
    let ex = Exchange {
        request: format!("GET {URL}"),
        resp,
    };
    match registry.reply(&ex) {
        Ok(Reply::Node { node, .. }) => {
            let peers = peers_in(&node, "m1", OWN);
            for (i, p) in peers.iter().enumerate() {
                assert!(!p.is_empty() && p != OWN, "{p:?}");
                assert!(!peers[..i].contains(p), "{p} twice");
            }
        }
        Ok(reply @ Reply::Error { .. }) => {
            let message = registry.unexpected(&ex, reply).to_string();
            assert!(!message.contains('\n'), "{message}");
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "{message}");
        }
    }
}
