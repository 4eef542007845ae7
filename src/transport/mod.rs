//! Moving Raft messages between machines: one sender thread per remote
//! member, each with its own bounded queue and persistent keep-alive
//! connection, so a slow or dead member never blocks the state thread or the
//! other members. Also the small join client a new machine uses.

pub mod codec;
pub mod handshake;
pub mod join;
pub mod senders;

pub use senders::PeerSenders;

use std::sync::Arc;

use crate::httpd::Stream;

/// Wraps a fresh TCP connection to a peer (plain, or TLS when the peer port
/// uses it).
pub type Connector =
    Arc<dyn Fn(std::net::TcpStream) -> std::io::Result<Box<dyn Stream>> + Send + Sync>;

/// `http://127.0.0.1:7001` → `127.0.0.1:7001`.
pub fn host_port(url: &str) -> &str {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    rest.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn urls_lose_their_scheme() {
        assert_eq!(host_port("http://127.0.0.1:7001"), "127.0.0.1:7001");
        assert_eq!(host_port("https://127.0.0.1:7001/"), "127.0.0.1:7001");
        assert_eq!(host_port("127.0.0.1:7001"), "127.0.0.1:7001");
    }
}
