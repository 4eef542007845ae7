//! An `https://` registry, with the committed test certificates
//! (testdata/certs): the CA of `-peer-ca-file` vouches for it, or not.

use super::*;
use crate::config::TlsFiles;
use crate::tls::{Side, discovery_connector, server_wrap};
use std::path::{Path, PathBuf};

const REGISTRY: &str = "/v2/keys/_etcd/registry/abc";

fn cert(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/certs")
        .join(name)
}

/// A registry over TLS with server.crt (for 127.0.0.1 and localhost);
/// with `client_ca`, clients must present a certificate it signed.
fn tls_registry(client_ca: Option<&str>) -> Fake {
    let files = TlsFiles {
        ca: client_ca.map(cert),
        cert: Some(cert("server.crt")),
        key: Some(cert("server.key")),
    };
    Fake::registry_over(
        server_wrap(Side::Peer, &files).unwrap().unwrap(),
        "/v2/keys",
    )
}

fn peer_files(ca: &str, identity: Option<(&str, &str)>) -> TlsFiles {
    TlsFiles {
        ca: Some(cert(ca)),
        cert: identity.map(|(c, _)| cert(c)),
        key: identity.map(|(_, k)| cert(k)),
    }
}

fn https_discoverer(url: &str, name: &str, port: u16, files: &TlsFiles) -> Discoverer {
    let parsed = DiscoveryUrl::parse(url).unwrap();
    assert!(parsed.is_https());
    let connector = discovery_connector(parsed.host(), files).unwrap();
    let peer_url = format!("https://127.0.0.1:{port}");
    Discoverer::new(parsed, name, &peer_url, connector, TIMEOUT)
}

#[test]
fn a_registry_whose_certificate_the_peer_ca_signed_is_used() {
    let fake = tls_registry(None);
    let url = format!("https://127.0.0.1:{}{REGISTRY}", fake.addr.port());
    let d = https_discoverer(&url, "n1", 7001, &peer_files("ca.crt", None));
    assert_eq!(d.run().unwrap(), Outcome::StartNewCluster);
    // By name as well: the certificate names localhost.
    let url = format!("https://localhost:{}{REGISTRY}", fake.addr.port());
    let d = https_discoverer(&url, "n2", 7002, &peer_files("ca.crt", None));
    assert_eq!(
        d.run().unwrap(),
        Outcome::Peers(vec!["127.0.0.1:7001".to_string()])
    );
}

#[test]
fn a_registry_from_another_ca_fails_with_a_tls_reason() {
    let fake = tls_registry(None);
    let url = format!("https://127.0.0.1:{}{REGISTRY}", fake.addr.port());
    let e = failure(&https_discoverer(
        &url,
        "n1",
        7001,
        &peer_files("other-ca.crt", None),
    ));
    let DiscoveryError::Tls { reason, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(reason.starts_with("certificate verify failed"), "{reason}");
    let text = e.to_string();
    assert!(text.contains("TLS"), "{text}");
    assert!(text.contains("-peer-ca-file"), "{text}");
    assert!(fake.seen().is_empty());
}

#[test]
fn a_registry_that_requires_a_client_certificate_gets_the_peer_one() {
    let fake = tls_registry(Some("ca.crt"));
    let url = format!("https://127.0.0.1:{}{REGISTRY}", fake.addr.port());
    let files = peer_files("ca.crt", Some(("client.crt", "client.key")));
    let d = https_discoverer(&url, "n1", 7001, &files);
    assert_eq!(d.run().unwrap(), Outcome::StartNewCluster);
    assert_eq!(fake.seen().len(), 2);
}

#[test]
fn plain_http_to_a_tls_registry_is_not_etcd() {
    let fake = tls_registry(None);
    let e = failure(&discoverer(&fake.url(REGISTRY), "n1", "http://h:1"));
    // The TLS port answers a plain request with Go's 400 text.
    let DiscoveryError::NotEtcd {
        status, snippet, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*status, 400);
    assert!(snippet.contains("HTTPS server"), "{snippet}");
}

#[test]
fn a_registry_that_stalls_the_handshake_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for tcp in listener.incoming().flatten() {
            held.push(tcp);
        }
    });
    let url = DiscoveryUrl::parse(&format!("https://127.0.0.1:{}{REGISTRY}", addr.port())).unwrap();
    let connector = discovery_connector(url.host(), &peer_files("ca.crt", None)).unwrap();
    let timeout = Duration::from_millis(400);
    let d = Discoverer::new(url, "n1", "https://127.0.0.1:7001", connector, timeout);
    let started = Instant::now();
    let e = failure(&d);
    assert!(matches!(e, DiscoveryError::TimedOut { .. }), "{e:?}");
    assert!(started.elapsed() < 3 * timeout, "{:?}", started.elapsed());
}
