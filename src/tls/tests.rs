//! The rules of this module, against the committed test certificates
//! (testdata/certs, made by testdata/gen-certs.sh) over real loopback sockets.

use super::*;
use crate::httpd::Stream;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

fn cert(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/certs")
        .join(name)
}

fn files(ca: Option<&str>, crt: &str, key: &str) -> TlsFiles {
    TlsFiles {
        ca: ca.map(cert),
        cert: Some(cert(crt)),
        key: Some(cert(key)),
    }
}

/// The cluster's peer files: certificate for 127.0.0.1, CA required.
fn peer_files() -> TlsFiles {
    files(Some("ca.crt"), "server.crt", "server.key")
}

fn err_of<T>(r: Result<T, String>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

/// Serves one connection through `wrap` on 127.0.0.1 and answers each
/// line it reads with the same line; returns the port.
pub(super) fn echo_server(wrap: Wrap) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let wrap = wrap.clone();
            thread::spawn(move || {
                tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let Ok(mut s) = wrap(tcp) else { return };
                let mut buf = [0u8; 64];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

fn dial(addr: std::net::SocketAddr, connect: &Connector) -> std::io::Result<Box<dyn Stream>> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    connect(tcp)
}

/// Sends `ping` and reads the echo; the error text when that fails.
pub(super) fn ping(addr: std::net::SocketAddr, connect: &Connector) -> Result<(), String> {
    let mut s = dial(addr, connect).map_err(|e| describe(&e))?;
    s.write_all(b"ping").map_err(|e| describe(&e))?;
    let mut got = [0u8; 4];
    s.read_exact(&mut got).map_err(|e| describe(&e))?;
    assert_eq!(&got, b"ping");
    Ok(())
}

#[test]
fn without_certificate_and_key_both_sides_stay_plain() {
    assert!(
        server_wrap(Side::Peer, &TlsFiles::default())
            .unwrap()
            .is_none()
    );
    let addr = echo_server(Arc::new(plain));
    let connect = client_connector(Side::Peer, &TlsFiles::default()).unwrap();
    ping(addr, &connect).unwrap();
}

#[test]
fn a_missing_file_is_one_line_naming_the_flag_and_the_file() {
    let e = err_of(server_wrap(
        Side::Peer,
        &files(None, "absent.crt", "server.key"),
    ));
    assert!(e.starts_with("TLS: cannot read -peer-cert-file "), "{e}");
    assert!(e.ends_with("absent.crt: No such file or directory"), "{e}");
    assert!(!e.contains('\n'));
    let e = err_of(client_connector(
        Side::Client,
        &files(Some("absent-ca.crt"), "server.crt", "server.key"),
    ));
    assert!(e.starts_with("TLS: cannot read -ca-file "), "{e}");
}

#[test]
fn a_key_of_another_certificate_is_refused_at_startup() {
    let e = err_of(server_wrap(
        Side::Client,
        &files(None, "server.crt", "client.key"),
    ));
    assert!(e.starts_with("TLS: -key-file "), "{e}");
    assert!(e.contains("does not match -cert-file"), "{e}");
}

#[test]
fn files_of_the_wrong_kind_are_refused_at_startup() {
    let e = err_of(server_wrap(
        Side::Peer,
        &files(None, "server.key", "server.key"),
    ));
    assert!(
        e.contains("-peer-cert-file") && e.contains("holds no PEM certificate"),
        "{e}"
    );
    let e = err_of(server_wrap(
        Side::Peer,
        &files(None, "server.crt", "server.crt"),
    ));
    assert!(
        e.contains("-peer-key-file") && e.contains("holds no PEM private key"),
        "{e}"
    );
    let e = err_of(server_wrap(
        Side::Peer,
        &files(Some("server.key"), "server.crt", "server.key"),
    ));
    assert!(
        e.contains("-peer-ca-file") && e.contains("holds no PEM certificate"),
        "{e}"
    );
}

#[test]
fn an_encrypted_key_is_refused_without_asking_for_a_passphrase() {
    let dir = std::env::temp_dir().join(format!("etcd-tls-enc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = std::fs::read(cert("server.key")).unwrap();
    let key = openssl::pkey::PKey::private_key_from_pem(&pem).unwrap();
    let locked = key
        .private_key_to_pem_pkcs8_passphrase(openssl::symm::Cipher::aes_256_cbc(), b"secret")
        .unwrap();
    let path = dir.join("locked.key");
    std::fs::write(&path, locked).unwrap();
    let f = TlsFiles {
        ca: None,
        cert: Some(cert("server.crt")),
        key: Some(path),
    };
    let e = err_of(server_wrap(Side::Peer, &f));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(e.contains("passphrase"), "{e}");
}

#[test]
fn rsa_keys_and_certificate_chains_are_accepted() {
    let server = server_wrap(
        Side::Peer,
        &files(Some("ca.crt"), "server-chain.crt", "server-rsa.key"),
    )
    .unwrap()
    .unwrap();
    let addr = echo_server(server);
    let connect = client_connector(
        Side::Peer,
        &files(Some("ca.crt"), "server-chain.crt", "server-rsa.key"),
    )
    .unwrap();
    ping(addr, &connect).unwrap();
}

#[test]
fn peers_with_certificates_from_the_ca_talk() {
    let addr = echo_server(server_wrap(Side::Peer, &peer_files()).unwrap().unwrap());
    let connect = client_connector(Side::Peer, &peer_files()).unwrap();
    ping(addr, &connect).unwrap();
}

#[test]
fn a_client_without_a_certificate_is_refused_when_a_ca_is_set() {
    let addr = echo_server(server_wrap(Side::Peer, &peer_files()).unwrap().unwrap());
    // Trusts the CA, presents nothing.
    let ca = std::fs::read(cert("ca.crt")).unwrap();
    let mut b = native_tls::TlsConnector::builder();
    b.add_root_certificate(native_tls::Certificate::from_pem(&ca).unwrap());
    let anonymous = b.build().unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let refused = match anonymous.connect("127.0.0.1", tcp) {
        Err(_) => true,
        // TLS 1.3: the client finishes first; the server's alert follows.
        Ok(mut s) => {
            let _ = s.write_all(b"ping");
            !matches!(s.read(&mut [0u8; 4]), Ok(4))
        }
    };
    assert!(refused);
}

#[test]
fn without_a_ca_the_server_asks_for_no_client_certificate() {
    let addr = echo_server(
        server_wrap(Side::Client, &files(None, "server.crt", "server.key"))
            .unwrap()
            .unwrap(),
    );
    let ca = std::fs::read(cert("ca.crt")).unwrap();
    let mut b = native_tls::TlsConnector::builder();
    b.add_root_certificate(native_tls::Certificate::from_pem(&ca).unwrap());
    let anonymous = b.build().unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    let mut s = anonymous.connect("127.0.0.1", tcp).unwrap();
    s.write_all(b"ping").unwrap();
    let mut got = [0u8; 4];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
}

#[test]
fn a_peer_whose_certificate_comes_from_another_ca_is_refused_with_a_reason() {
    let addr = echo_server(server_wrap(Side::Peer, &peer_files()).unwrap().unwrap());
    let stranger = client_connector(
        Side::Peer,
        &files(Some("other-ca.crt"), "other.crt", "other.key"),
    )
    .unwrap();
    let e = ping(addr, &stranger).unwrap_err();
    assert!(e.starts_with("TLS: certificate verify failed"), "{e}");
}

#[test]
fn a_server_certificate_must_name_the_ip_dialled() {
    // 127.0.0.2 is loopback too, but the certificate names only 127.0.0.1.
    let Ok(listener) = TcpListener::bind("127.0.0.2:0") else {
        return;
    };
    let addr = listener.local_addr().unwrap();
    let wrap = server_wrap(Side::Peer, &peer_files()).unwrap().unwrap();
    thread::spawn(move || {
        if let Ok((tcp, _)) = listener.accept() {
            tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = wrap(tcp);
        }
    });
    let connect = client_connector(Side::Peer, &peer_files()).unwrap();
    let e = ping(addr, &connect).unwrap_err();
    assert!(e.contains("certificate verify failed"), "{e}");
    assert!(e.contains("IP address mismatch"), "{e}");
}

#[test]
fn plain_http_to_a_tls_port_gets_a_400_and_no_service() {
    let addr = echo_server(server_wrap(Side::Peer, &peer_files()).unwrap().unwrap());
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    tcp.write_all(b"GET /v2/admin/machines HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.0 400 "), "{answer}");
    assert!(answer.ends_with("Client sent an HTTP request to an HTTPS server.\n"));
}

#[test]
fn a_tls_client_to_a_plain_port_says_the_other_side_is_not_tls() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        if let Ok((mut tcp, _)) = listener.accept() {
            let _ = tcp.read(&mut [0u8; 512]);
            let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let connect = client_connector(Side::Peer, &peer_files()).unwrap();
    let e = ping(addr, &connect).unwrap_err();
    assert!(e.starts_with("TLS: "), "{e}");
    assert!(e.contains("does not speak TLS"), "{e}");
}

#[test]
fn the_server_stream_sees_an_open_idle_client_as_open_and_a_closed_one_as_closed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let wrap = server_wrap(Side::Peer, &peer_files()).unwrap().unwrap();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        wrap(tcp).unwrap()
    });
    let connect = client_connector(Side::Peer, &peer_files()).unwrap();
    let mut client = dial(addr, &connect).unwrap();
    let mut served = server.join().unwrap();
    client.write_all(b"x").unwrap();
    let mut byte = [0u8; 1];
    served.read_exact(&mut byte).unwrap();
    assert!(!served.peer_closed());
    assert!(!client.peer_closed());
    // Still blocking afterwards: a read waits for its timeout.
    served
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    assert!(served.read(&mut byte).is_err());
    client.shutdown();
    drop(client);
    eventually(|| served.peer_closed());
}

#[test]
fn the_client_stream_sees_a_server_that_hung_up() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let wrap = server_wrap(Side::Peer, &peer_files()).unwrap().unwrap();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut s = wrap(tcp).unwrap();
        let mut byte = [0u8; 1];
        s.read_exact(&mut byte).unwrap();
        s.write_all(&byte).unwrap();
        s.shutdown();
    });
    let connect = client_connector(Side::Peer, &peer_files()).unwrap();
    let mut client = dial(addr, &connect).unwrap();
    client.write_all(b"x").unwrap();
    let mut byte = [0u8; 1];
    client.read_exact(&mut byte).unwrap();
    server.join().unwrap();
    eventually(|| client.peer_closed());
}

fn eventually(mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "condition never held");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_client_that_sends_close_notify_is_closed_even_before_its_fin() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let wrap = server_wrap(Side::Client, &files(None, "server.crt", "server.key"))
        .unwrap()
        .unwrap();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        wrap(tcp).unwrap()
    });
    let ca = std::fs::read(cert("ca.crt")).unwrap();
    let mut b = native_tls::TlsConnector::builder();
    b.add_root_certificate(native_tls::Certificate::from_pem(&ca).unwrap());
    let tcp = TcpStream::connect(addr).unwrap();
    // Keeps the socket open after the TLS session ends: no FIN is sent.
    let _socket_kept = tcp.try_clone().unwrap();
    let mut client = b.build().unwrap().connect("127.0.0.1", tcp).unwrap();
    let served = server.join().unwrap();
    assert!(!served.peer_closed());
    client.shutdown().unwrap();
    eventually(|| served.peer_closed());
}
