//! The server side of a handshake: OpenSSL's acceptor, since native-tls
//! cannot ask for client certificates. With a CA, a client without a
//! certificate signed by it is refused during the handshake.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openssl::ssl::{HandshakeError, SslAcceptor, SslMethod, SslVerifyMode, SslVersion};

use super::material::Material;
use super::reason::{of_ssl, of_stack};
use super::side::Side;
use super::stream::ServerTls;
use crate::httpd::{Stream, Wrap};

/// What a plain-HTTP client gets from a TLS port instead of silence, so it
/// can say why it failed (Go's servers answer the same).
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.0 400 Bad Request\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Connection: close\r\n\
Content-Length: 48\r\n\
\r\n\
Client sent an HTTP request to an HTTPS server.\n";

/// How long a refused client's remaining bytes are read before closing:
/// closing with unread input sends a reset, which can destroy our last
/// words (the 400 above, or the TLS alert saying why) before the client
/// reads them.
const DRAIN: Duration = Duration::from_secs(1);

pub(crate) fn build(side: Side, m: &Material) -> Result<SslAcceptor, String> {
    let failed = |e: openssl::error::ErrorStack| {
        format!(
            "TLS: cannot use {} with {}: {}",
            side.cert_flag(),
            side.key_flag(),
            of_stack(&e)
        )
    };
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).map_err(failed)?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(failed)?;
    b.set_certificate(&m.cert).map_err(failed)?;
    for extra in &m.chain {
        b.add_extra_chain_cert(extra.clone()).map_err(failed)?;
    }
    b.set_private_key(&m.key).map_err(failed)?;
    b.check_private_key().map_err(failed)?;
    if let Some(cas) = &m.ca {
        for ca in cas {
            b.cert_store_mut().add_cert(ca.clone()).map_err(failed)?;
            // Tells clients which CA to pick a certificate for.
            b.add_client_ca(ca).map_err(failed)?;
        }
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        // Session resumption with client verification needs a context id.
        b.set_session_id_context(b"etcd").map_err(failed)?;
    }
    Ok(b.build())
}

/// Runs on each connection's own thread, under the socket timeouts the
/// server set (so a stalled handshake ends).
pub(crate) fn wrap(acceptor: SslAcceptor) -> Wrap {
    let acceptor = Arc::new(acceptor);
    Arc::new(move |tcp: TcpStream| -> io::Result<Box<dyn Stream>> {
        if starts_like_plain_http(&tcp) {
            answer_plain_http(tcp);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "plain HTTP request on a TLS port",
            ));
        }
        let raw = tcp.try_clone()?;
        match acceptor.accept(tcp) {
            Ok(tls) => Ok(Box::new(ServerTls::new(tls, raw))),
            Err(HandshakeError::SetupFailure(e)) => Err(io::Error::other(format!(
                "TLS handshake setup: {}",
                of_stack(&e)
            ))),
            Err(HandshakeError::Failure(mid)) => {
                let verify = mid.ssl().verify_result();
                let mut why = of_ssl(mid.error());
                if verify.as_raw() != 0 {
                    why = format!("{why} ({})", verify.error_string());
                }
                drop(mid);
                drain_and_close(raw);
                Err(io::Error::other(format!("TLS handshake: {why}")))
            }
            Err(HandshakeError::WouldBlock(_)) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "TLS handshake timed out",
            )),
        }
    })
}

/// A TLS client speaks first with a handshake record (0x16); an HTTP
/// request starts with a method name in capitals.
fn starts_like_plain_http(tcp: &TcpStream) -> bool {
    let mut first = [0u8; 1];
    matches!(tcp.peek(&mut first), Ok(1) if first[0].is_ascii_uppercase())
}

fn answer_plain_http(mut tcp: TcpStream) {
    if tcp.write_all(PLAIN_HTTP_ANSWER).is_ok() {
        drain_and_close(tcp);
    }
}

fn drain_and_close(mut tcp: TcpStream) {
    let _ = tcp.shutdown(Shutdown::Write);
    let deadline = Instant::now() + DRAIN;
    let mut sink = [0u8; 4096];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if left.is_zero() || tcp.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match tcp.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}
