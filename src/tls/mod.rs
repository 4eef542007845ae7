//! TLS for the client port and the peer port.
//!
//! Owns: reading and checking the PEM files at startup (so a bad file stops
//! the machine with one clear line before any port opens), the server side
//! of a handshake (an OpenSSL acceptor, because only it can require a client
//! certificate signed by `-ca-file`), the client side used towards other
//! peers (native-tls, presenting our certificate and trusting the CA) and
//! towards an `https://` discovery service, the
//! [`Stream`](crate::httpd::Stream) over an established session, and short
//! human reasons for TLS failures.
//!
//! Never: HTTP, routing, retries or deciding when to log; plaintext from a
//! TLS session never leaves the process (no proxying, no plaintext side port).

mod acceptor;
mod connector;
mod discovery;
mod material;
mod reason;
mod side;
mod stream;

pub use discovery::discovery_connector;
pub use reason::describe;
pub use side::Side;

use crate::config::TlsFiles;
use crate::httpd::{Wrap, plain};
use crate::transport::Connector;
use std::sync::Arc;

/// The handshake to run on each accepted connection of `side`'s port, or
/// `None` when that port speaks plain HTTP (no certificate and key given).
/// Reads and checks the files now; the error is one line naming the flag.
pub fn server_wrap(side: Side, files: &TlsFiles) -> Result<Option<Wrap>, String> {
    match material::load(side, files)? {
        None => Ok(None),
        Some(m) => Ok(Some(acceptor::wrap(acceptor::build(side, &m)?))),
    }
}

/// How this machine opens connections to ports of `side`'s kind on other
/// machines: plain TCP when TLS is off, otherwise a TLS client presenting
/// our certificate and checking the other's against the CA.
pub fn client_connector(side: Side, files: &TlsFiles) -> Result<Connector, String> {
    match material::load(side, files)? {
        None => Ok(Arc::new(plain)),
        Some(m) => Ok(connector::wrap(connector::build(side, &m)?)),
    }
}

#[cfg(test)]
mod tests;
