//! The client side of a handshake towards a discovery service (`https://`
//! `-discovery` URL): native-tls trusting the CA of `-peer-ca-file` when
//! given, else the system's roots (a public service such as
//! discovery.etcd.io has a public certificate), presenting the peer
//! certificate when there is one, and checking the server's certificate
//! against the URL's host.
//!
//! Never: talks HTTP or follows redirects (see `crate::discovery`).

use std::io;
use std::net::TcpStream;
use std::sync::Arc;

use native_tls::{Certificate, Protocol, TlsConnector};

use super::connector::{handshake, identity};
use super::material;
use super::reason::{of_native, of_stack};
use super::side::Side;
use crate::config::TlsFiles;
use crate::httpd::Stream;
use crate::transport::Connector;

/// How discovery connects to `host` (the URL's host name or IP literal,
/// IPv6 without brackets) over HTTPS. Reads and checks the files now; an
/// error is one line naming the flag and the file.
pub fn discovery_connector(host: &str, peer_files: &TlsFiles) -> Result<Connector, String> {
    let failed = |why: String| format!("TLS: cannot set up the discovery client: {why}");
    let mut b = TlsConnector::builder();
    b.min_protocol_version(Some(Protocol::Tlsv12));
    if let Some(m) = material::load(Side::Peer, peer_files)? {
        b.identity(identity(Side::Peer, &m)?);
    }
    if let Some(cas) = material::trusted(Side::Peer, peer_files)? {
        // The operator named who vouches for the service: nobody else does.
        b.disable_built_in_roots(true);
        for ca in cas {
            let unusable = |why: String| {
                format!(
                    "TLS: cannot use a certificate of {} as a CA: {why}",
                    Side::Peer.ca_flag()
                )
            };
            let der = ca.to_der().map_err(|e| unusable(of_stack(&e)))?;
            let cert = Certificate::from_der(&der).map_err(|e| unusable(of_native(&e)))?;
            b.add_root_certificate(cert);
        }
    }
    let connector = Arc::new(b.build().map_err(|e| failed(of_native(&e)))?);
    let host = host.to_string();
    Ok(Arc::new(
        move |tcp: TcpStream| -> io::Result<Box<dyn Stream>> { handshake(&connector, &host, tcp) },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::server_wrap;
    use std::net::SocketAddr;
    use std::path::{Path, PathBuf};

    fn cert(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/certs")
            .join(name)
    }

    fn ca_only(ca: &str) -> TlsFiles {
        TlsFiles {
            ca: Some(cert(ca)),
            ..TlsFiles::default()
        }
    }

    /// A TLS echo server for 127.0.0.1 and localhost (server.crt), which
    /// asks for no client certificate; returns its address.
    fn server() -> SocketAddr {
        let files = TlsFiles {
            ca: None,
            cert: Some(cert("server.crt")),
            key: Some(cert("server.key")),
        };
        super::super::tests::echo_server(server_wrap(Side::Peer, &files).unwrap().unwrap())
    }

    use super::super::tests::ping;

    #[test]
    fn the_peer_ca_vouches_for_the_service_by_ip_or_name() {
        let addr = server();
        ping(
            addr,
            &discovery_connector("127.0.0.1", &ca_only("ca.crt")).unwrap(),
        )
        .unwrap();
        ping(
            addr,
            &discovery_connector("localhost", &ca_only("ca.crt")).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn a_certificate_for_another_host_is_refused() {
        let addr = server();
        let connect = discovery_connector("etcd.example", &ca_only("ca.crt")).unwrap();
        let e = ping(addr, &connect).unwrap_err();
        assert!(e.starts_with("TLS: certificate verify failed"), "{e}");
        assert!(e.contains("mismatch"), "{e}");
    }

    #[test]
    fn another_ca_or_the_system_roots_do_not_know_the_test_ca() {
        let addr = server();
        let other = discovery_connector("127.0.0.1", &ca_only("other-ca.crt")).unwrap();
        let e = ping(addr, &other).unwrap_err();
        assert!(e.starts_with("TLS: certificate verify failed"), "{e}");
        let system = discovery_connector("127.0.0.1", &TlsFiles::default()).unwrap();
        let e = ping(addr, &system).unwrap_err();
        assert!(e.starts_with("TLS: certificate verify failed"), "{e}");
    }

    #[test]
    fn unreadable_files_are_one_line_naming_the_flag() {
        let e = match discovery_connector("h", &ca_only("absent-ca.crt")) {
            Ok(_) => panic!("accepted a missing CA file"),
            Err(e) => e,
        };
        assert!(e.starts_with("TLS: cannot read -peer-ca-file "), "{e}");
        let bad_key = TlsFiles {
            ca: None,
            cert: Some(cert("server.crt")),
            key: Some(cert("client.key")),
        };
        let e = match discovery_connector("h", &bad_key) {
            Ok(_) => panic!("accepted a key of another certificate"),
            Err(e) => e,
        };
        assert!(e.contains("does not match -peer-cert-file"), "{e}");
        assert!(!e.contains('\n'));
    }
}
