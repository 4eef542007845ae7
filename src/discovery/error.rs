//! Why discovery failed, precisely enough for the caller to choose (fall
//! back to `-peers`, or exit) and for a user to fix it from one log line.
//!
//! Owns the variants, their one-line messages and the mapping of socket
//! errors to them. Never decides what the caller does next.

use std::fmt;
use std::io;
use std::time::Duration;

/// The message etcd 0.4 gives when the registry lists only this machine.
pub const NO_PEERS_MESSAGE: &str =
    "Discovery found an initialized cluster but no reachable peers are registered.";

/// Every variant carries `url`, the `-discovery` URL as given; `request`
/// fields read `PUT http://host:port/path` (after any redirect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoveryError {
    /// The `-discovery` value is not a URL discovery can use.
    BadUrl { url: String, reason: String },
    /// This machine's name cannot be a registry entry.
    BadName {
        url: String,
        name: String,
        reason: &'static str,
    },
    /// No conversation: connection refused or reset, closed before an
    /// answer, or the host name did not resolve. `reason` is the OS's.
    Unreachable {
        url: String,
        addr: String,
        reason: String,
    },
    /// The TLS handshake or session failed (untrusted or misnamed
    /// certificate, or the other side does not speak TLS).
    Tls {
        url: String,
        addr: String,
        reason: String,
    },
    /// Nothing came within `timeout`: the service hangs, or a firewall
    /// drops the traffic.
    TimedOut {
        url: String,
        addr: String,
        timeout: Duration,
    },
    /// Bytes came back but not a readable HTTP response (wrong port, or an
    /// answer over the size cap).
    BadResponse {
        url: String,
        addr: String,
        reason: String,
    },
    /// HTTP 404: a wrong token, or the URL does not point into a keys API.
    NotFound { url: String, request: String },
    /// An answer that is not etcd's JSON (an HTML page, a proxy's error).
    NotEtcd {
        url: String,
        request: String,
        status: u16,
        content_type: String,
        /// The start of the body, on one line.
        snippet: String,
    },
    /// etcd's JSON error, other than the expected "Key already exists"
    /// (105) when claiming the start.
    EtcdError {
        url: String,
        request: String,
        code: u64,
        message: String,
        cause: String,
    },
    /// etcd's JSON, but with a status this request never gets from etcd.
    UnexpectedStatus {
        url: String,
        request: String,
        status: u16,
    },
    /// etcd's JSON with a status that fits, but contents that do not (the
    /// claim stored another value than `started`).
    UnexpectedAnswer {
        url: String,
        request: String,
        reason: String,
    },
    /// The cluster was started, yet the registry lists no other machine.
    NoPeers { url: String },
    /// Redirects went on past the limit (`hops`); `last` is the final target.
    TooManyRedirects {
        url: String,
        hops: usize,
        last: String,
    },
    /// A redirect that cannot be followed (no or bad `Location`, or a
    /// switch between http and https).
    BadRedirect {
        url: String,
        request: String,
        location: String,
        reason: String,
    },
}

impl DiscoveryError {
    /// The `-discovery` URL this error is about.
    pub fn url(&self) -> &str {
        use DiscoveryError as E;
        match self {
            E::BadUrl { url, .. }
            | E::BadName { url, .. }
            | E::Unreachable { url, .. }
            | E::Tls { url, .. }
            | E::TimedOut { url, .. }
            | E::BadResponse { url, .. }
            | E::NotFound { url, .. }
            | E::NotEtcd { url, .. }
            | E::EtcdError { url, .. }
            | E::UnexpectedStatus { url, .. }
            | E::UnexpectedAnswer { url, .. }
            | E::NoPeers { url }
            | E::TooManyRedirects { url, .. }
            | E::BadRedirect { url, .. } => url,
        }
    }

    /// Sorts a failed exchange with `addr` into the variant that says why.
    pub(crate) fn of_io(url: &str, addr: &str, timeout: Duration, e: &io::Error) -> DiscoveryError {
        let (url, addr) = (url.to_string(), addr.to_string());
        if matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        ) {
            return DiscoveryError::TimedOut { url, addr, timeout };
        }
        let reason = crate::tls::describe(e);
        if let Some(tls) = reason.strip_prefix("TLS") {
            let reason = tls.trim_start_matches([':', ' ']).to_string();
            return DiscoveryError::Tls { url, addr, reason };
        }
        match e.kind() {
            io::ErrorKind::InvalidData => DiscoveryError::BadResponse { url, addr, reason },
            io::ErrorKind::UnexpectedEof => DiscoveryError::Unreachable {
                url,
                addr,
                reason: "the connection closed before a complete answer came".into(),
            },
            _ => DiscoveryError::Unreachable { url, addr, reason },
        }
    }
}

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DiscoveryError as E;
        write!(f, "discovery via {} failed: ", self.url())?;
        match self {
            E::BadUrl { reason, .. } => write!(f, "-discovery is not a usable URL: {reason}"),
            E::BadName { name, reason, .. } => {
                write!(
                    f,
                    "this machine's name {name:?} cannot be registered: {reason}"
                )
            }
            E::Unreachable { addr, reason, .. } => write!(f, "cannot reach {addr}: {reason}"),
            E::Tls { addr, reason, .. } => {
                write!(f, "TLS with {addr} failed: {reason}")?;
                if reason.contains("certificate verify failed") {
                    f.write_str(
                        " (the CA of -peer-ca-file, or the system's roots without it, \
                         must have signed the service's certificate, and it must name the URL's host)",
                    )?;
                }
                Ok(())
            }
            E::TimedOut { addr, timeout, .. } => write!(
                f,
                "no answer from {addr} within {} (the service hangs)",
                seconds(*timeout)
            ),
            E::BadResponse { addr, reason, .. } => write!(
                f,
                "{addr} did not answer in HTTP ({reason}); check the URL's scheme and port"
            ),
            E::NotFound { request, .. } => write!(
                f,
                "{request} answered 404 Not Found: the token is wrong, \
                 or the URL does not point into an etcd keys API"
            ),
            E::NotEtcd {
                request,
                status,
                content_type,
                snippet,
                ..
            } => {
                let ctype = if content_type.is_empty() {
                    "no Content-Type"
                } else {
                    content_type
                };
                write!(
                    f,
                    "{request} answered HTTP {status} ({ctype}) that is not etcd's JSON"
                )?;
                if snippet.is_empty() {
                    f.write_str(" (empty body)")?;
                } else {
                    write!(f, ": \"{snippet}\"")?;
                }
                f.write_str("; check that the URL points into an etcd keys API")
            }
            E::EtcdError {
                request,
                code,
                message,
                cause,
                ..
            } => {
                write!(f, "{request} got etcd error {code}: {message}")?;
                if !cause.is_empty() {
                    write!(f, " ({cause})")?;
                }
                Ok(())
            }
            E::UnexpectedStatus {
                request, status, ..
            } => write!(
                f,
                "{request} answered HTTP {status}, which etcd never answers to it"
            ),
            E::UnexpectedAnswer {
                request, reason, ..
            } => write!(f, "{request}: {reason}"),
            E::NoPeers { .. } => f.write_str(NO_PEERS_MESSAGE),
            E::TooManyRedirects { hops, last, .. } => write!(
                f,
                "still redirected after {hops} redirects (last to {last}); \
                 the registry's machines redirect in a loop"
            ),
            E::BadRedirect {
                request,
                location,
                reason,
                ..
            } => write!(
                f,
                "{request} redirected to {location:?}, which cannot be followed: {reason}"
            ),
        }
    }
}

impl std::error::Error for DiscoveryError {}

/// `5s`, `1.5s`, `250ms`.
fn seconds(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// The first `limit` characters of `body` on one line: control characters
/// and runs of white space become one space; `…` marks a cut.
pub(crate) fn snippet(body: &[u8], limit: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut count = 0;
    let mut last_space = true;
    for c in text.chars() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        if count == limit {
            return format!("{}…", out.trim_end());
        }
        last_space = c == ' ';
        out.push(c);
        count += 1;
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:4001/v2/keys/_etcd/registry/abc";

    #[test]
    fn a_hang_reads_as_the_design_example() {
        let e = DiscoveryError::TimedOut {
            url: URL.into(),
            addr: "127.0.0.1:4001".into(),
            timeout: Duration::from_secs(5),
        };
        assert_eq!(
            e.to_string(),
            "discovery via http://127.0.0.1:4001/v2/keys/_etcd/registry/abc failed: \
             no answer from 127.0.0.1:4001 within 5s (the service hangs)"
        );
    }

    #[test]
    fn socket_errors_sort_into_variants() {
        let t = Duration::from_millis(250);
        let of = |e: io::Error| DiscoveryError::of_io(URL, "h:1", t, &e);
        assert!(matches!(
            of(io::Error::new(io::ErrorKind::WouldBlock, "x")),
            DiscoveryError::TimedOut { .. }
        ));
        let refused = of(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(matches!(refused, DiscoveryError::Unreachable { .. }));
        let tls = of(io::Error::other("TLS: certificate verify failed (x)"));
        let DiscoveryError::Tls { reason, .. } = &tls else {
            panic!("{tls:?}")
        };
        assert_eq!(reason, "certificate verify failed (x)");
        assert!(tls.to_string().contains("-peer-ca-file"), "{tls}");
        assert!(matches!(
            of(io::Error::new(
                io::ErrorKind::InvalidData,
                "bad response head"
            )),
            DiscoveryError::BadResponse { .. }
        ));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(seconds(Duration::from_secs(5)), "5s");
        assert_eq!(seconds(Duration::from_millis(250)), "250ms");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn snippets_are_one_short_line() {
        assert_eq!(snippet(b"<html>\n  <body>\tHi\r\n", 80), "<html> <body> Hi");
        assert_eq!(snippet(b"abcdef", 3), "abc…");
        assert_eq!(snippet(b"", 3), "");
        assert_eq!(snippet(b"\xff\x00ok", 80), "\u{fffd} ok");
    }

    #[test]
    fn every_message_is_one_line_naming_the_url() {
        let e = DiscoveryError::NoPeers { url: URL.into() };
        assert_eq!(
            e.to_string(),
            format!("discovery via {URL} failed: {NO_PEERS_MESSAGE}")
        );
        assert!(!e.to_string().contains('\n'));
    }
}
