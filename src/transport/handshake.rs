//! The version handshake: before a machine asks a peer to let it join, it
//! asks the peer's `GET /version` and refuses to go on unless the answer is
//! this program's peer protocol. etcd 0.4 answers `2` there (its store
//! version), etcd 2.x and later a JSON object; neither can decode our Raft
//! messages, so joining them would only loop on errors.
//!
//! The peer port answers `GET /version` with [`PEER_PROTOCOL`] and
//! `GET /version/<n>/check` with 200 for a protocol it speaks, 403 otherwise,
//! as 0.4 does for its own numbers.

use crate::httpd::HttpClient;

/// Our peer protocol: binary batches of Raft messages on `POST /raft`
/// (`transport::codec`), joins on `PUT /join` answered with the member
/// list. 3 was the same with JSON batches; etcd 0.4's was 2.
pub const PEER_PROTOCOL: u32 = super::codec::VERSION as u32;

/// Whether this machine can talk to a peer speaking protocol `n`.
pub fn speaks(n: u32) -> bool {
    n == PEER_PROTOCOL
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// No answer (refused, reset, timed out): try another peer.
    Unreachable(String),
    /// It answered, and it is not us: stop.
    Foreign {
        /// What it answered (status and a short body), for the log line.
        answer: String,
        /// What that answer is, in words.
        what: String,
    },
}

/// Ask `client`'s peer for its version.
pub fn check(client: &mut HttpClient) -> Result<(), HandshakeError> {
    let resp = client
        .request("GET", "/version", &[], b"")
        .map_err(|e| HandshakeError::Unreachable(crate::tls::describe(&e)))?;
    let body = String::from_utf8_lossy(&resp.body);
    let text = body.trim();
    if resp.status == 200 && text.parse::<u32>().is_ok_and(speaks) {
        return Ok(());
    }
    Err(HandshakeError::Foreign {
        answer: describe_answer(resp.status, text),
        what: identify(resp.status, text),
    })
}

fn describe_answer(status: u16, text: &str) -> String {
    let short: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(100)
        .collect();
    format!("{status} {short:?}")
}

/// Name what answered, as well as an answer allows.
fn identify(status: u16, text: &str) -> String {
    if status == 400 && text.contains("HTTPS") {
        return "that peer port speaks HTTPS; every member must use peer TLS \
                (-peer-cert-file, -peer-key-file, -peer-ca-file) or none"
            .into();
    }
    if status != 200 {
        return format!("not this etcd's peer port (protocol {PEER_PROTOCOL})");
    }
    if let Ok(n) = text.parse::<u32>() {
        return if n == 2 {
            "etcd 0.4's peer protocol, which this etcd does not speak".into()
        } else {
            format!("peer protocol {n}; this etcd speaks {PEER_PROTOCOL}")
        };
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text)
        && let Some(server) = v.get("etcdserver").and_then(|s| s.as_str())
    {
        return format!(
            "etcd {server}, whose peer protocol (etcd 2.x and later) this etcd does not speak"
        );
    }
    format!("not this etcd's peer port (protocol {PEER_PROTOCOL})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_answers_are_named() {
        assert!(identify(200, "2").contains("etcd 0.4"));
        assert!(
            identify(200, r#"{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}"#)
                .contains("etcd 3.4.23")
        );
        assert!(identify(200, "7").contains("peer protocol 7"));
        assert!(identify(404, "404 page not found").contains("not this etcd"));
        assert!(
            identify(400, "Client sent an HTTP request to an HTTPS server.")
                .contains("every member must use peer TLS")
        );
        assert!(identify(200, "<html>").contains("not this etcd"));
        assert_eq!(describe_answer(200, "a\nb"), "200 \"a b\"");
    }

    #[test]
    fn only_our_protocol_is_spoken() {
        assert!(speaks(PEER_PROTOCOL));
        assert!(!speaks(2));
        assert!(
            !speaks(3),
            "protocol 3's JSON batches are not read any more"
        );
        assert!(!speaks(PEER_PROTOCOL + 1));
    }
}
