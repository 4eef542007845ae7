//! The client side of a handshake, towards another machine's TLS port:
//! native-tls presenting our certificate and trusting only the CA given.

use std::io;
use std::net::TcpStream;
use std::sync::Arc;

use native_tls::{Certificate, HandshakeError, Identity, Protocol, TlsConnector};

use super::material::Material;
use super::reason::{of_native, of_stack};
use super::side::Side;
use super::stream::ClientTls;
use crate::httpd::Stream;
use crate::transport::Connector;

pub(crate) fn build(side: Side, m: &Material) -> Result<TlsConnector, String> {
    let failed = |why: String| client_failure(side, why);
    let stack = |e: openssl::error::ErrorStack| failed(of_stack(&e));
    let mut b = TlsConnector::builder();
    b.identity(identity(side, m)?)
        .min_protocol_version(Some(Protocol::Tlsv12));
    if let Some(cas) = &m.ca {
        // Only our CA vouches for peers, not every public CA.
        b.disable_built_in_roots(true);
        for ca in cas {
            let der = ca.to_der().map_err(stack)?;
            let cert = Certificate::from_der(&der).map_err(|e| failed(of_native(&e)))?;
            b.add_root_certificate(cert);
        }
    }
    b.build().map_err(|e| failed(of_native(&e)))
}

fn client_failure(side: Side, why: String) -> String {
    format!(
        "TLS: cannot use {} with {} as a client certificate: {why}",
        side.cert_flag(),
        side.key_flag()
    )
}

/// Our certificate (and its chain) with its key, as a client presents them.
pub(crate) fn identity(side: Side, m: &Material) -> Result<Identity, String> {
    let failed = |why: String| client_failure(side, why);
    // native-tls takes the identity as PEM with a PKCS#8 key; re-encoding
    // lets users keep RSA or EC keys in their traditional form.
    let stack = |e: openssl::error::ErrorStack| failed(of_stack(&e));
    let key = m.key.private_key_to_pem_pkcs8().map_err(stack)?;
    let mut chain = m.cert.to_pem().map_err(stack)?;
    for extra in &m.chain {
        chain.extend(extra.to_pem().map_err(stack)?);
    }
    Identity::from_pkcs8(&chain, &key).map_err(|e| failed(of_native(&e)))
}

/// The chain is always verified against the CA, and the certificate must
/// name the address dialled. Peers are addressed by IP literal, and with
/// an IP as "domain" native-tls's OpenSSL backend checks the certificate's
/// IP subjectAltName (and sends no SNI), so hostname verification stays on.
pub(crate) fn wrap(connector: TlsConnector) -> Connector {
    let connector = Arc::new(connector);
    Arc::new(move |tcp: TcpStream| -> io::Result<Box<dyn Stream>> {
        let ip = tcp.peer_addr()?.ip().to_string();
        handshake(&connector, &ip, tcp)
    })
}

/// The client handshake over `tcp`, checking that the server's
/// certificate names `domain` (a host name, or an IP literal without
/// brackets); failures read `TLS: <reason>`.
pub(crate) fn handshake(
    connector: &TlsConnector,
    domain: &str,
    tcp: TcpStream,
) -> io::Result<Box<dyn Stream>> {
    let raw = tcp.try_clone()?;
    match connector.connect(domain, tcp) {
        Ok(tls) => Ok(Box::new(ClientTls { tls, raw })),
        Err(HandshakeError::Failure(e)) => Err(io::Error::other(format!("TLS: {}", of_native(&e)))),
        Err(HandshakeError::WouldBlock(_)) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "TLS: handshake timed out",
        )),
    }
}
