//! Addresses: the advertised client/peer endpoints, listen addresses and
//! peer list entries. Accepted as `host:port` or with `http://`/`https://`
//! (ruling 4); a written scheme must agree with that side's TLS setting.

use std::fmt;

use super::error::ConfigError;

/// How a port is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// A side speaks HTTPS exactly when it has both a certificate and a key.
    pub(crate) fn for_tls(tls_on: bool) -> Scheme {
        if tls_on { Scheme::Https } else { Scheme::Http }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An address other machines use to reach this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: Scheme,
    /// Without brackets, also for IPv6 (`::1`).
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// `host:port`, with IPv6 hosts in brackets.
    pub fn host_port(&self) -> String {
        join_host_port(&self.host, self.port)
    }

    /// `scheme://host:port`, e.g. `http://127.0.0.1:4001`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.host_port())
    }
}

pub(crate) fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// What an address said, before defaults are filled in.
#[derive(Debug, PartialEq, Eq)]
struct Written<'a> {
    scheme: Option<Scheme>,
    host: &'a str,
    port: Option<u16>,
}

fn strip_scheme(text: &str) -> Result<(Option<Scheme>, &str), String> {
    for (prefix, scheme) in [("http://", Scheme::Http), ("https://", Scheme::Https)] {
        if let Some(head) = text.get(..prefix.len())
            && head.eq_ignore_ascii_case(prefix)
        {
            let rest = &text[prefix.len()..];
            // A pasted URL often ends in a slash; anything longer is a path.
            return Ok((Some(scheme), rest.strip_suffix('/').unwrap_or(rest)));
        }
    }
    if text.contains("://") {
        return Err("only http:// and https:// are understood".into());
    }
    Ok((None, text))
}

fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ if text.is_empty() => Err("the port after ':' is missing".into()),
        _ => Err(format!("{text:?} is not a port number (1-65535)")),
    }
}

fn check_host(host: &str) -> Result<(), String> {
    // A comma is never part of a host: it is the list separator, so a peer
    // like "10.0.0,3:7001" in a TOML array is a typo, and written back as
    // a `-peers` flag it would even split into two entries.
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "/?#@[],".contains(c))
    {
        return Err(format!("{host:?} is not a host name or IP address"));
    }
    Ok(())
}

/// Split `[scheme://]host[:port]`. An IPv6 host is written in brackets when a
/// port follows; bare (`::1`) it is taken as a host without port.
fn split(text: &str) -> Result<Written<'_>, String> {
    let (scheme, rest) = strip_scheme(text.trim())?;
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err("a '[' is not closed by ']'".into());
        };
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(parse_port(port)?)),
                None => return Err(format!("unexpected {after:?} after ']'")),
            },
        }
    } else {
        match rest.matches(':').count() {
            0 => (rest, None),
            1 => match rest.split_once(':') {
                Some((host, port)) => (host, Some(parse_port(port)?)),
                None => (rest, None),
            },
            _ => (rest, None),
        }
    };
    check_host(host)?;
    Ok(Written { scheme, host, port })
}

/// The TLS of one side, as the error messages name it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Side {
    /// e.g. `-addr`, `-peer-addr`
    pub addr_flag: &'static str,
    pub bind_flag: &'static str,
    /// e.g. `-cert-file and -key-file`
    pub tls_flags: &'static str,
    pub tls_on: bool,
}

impl Side {
    fn check_scheme(
        &self,
        flag: &str,
        text: &str,
        written: Option<Scheme>,
    ) -> Result<(), ConfigError> {
        match (written, self.tls_on) {
            (Some(Scheme::Https), false) => Err(ConfigError(format!(
                "{flag} {text:?} asks for https, but {} are not both set",
                self.tls_flags
            ))),
            (Some(Scheme::Http), true) => Err(ConfigError(format!(
                "{flag} {text:?} asks for http, but {} are set, which means https",
                self.tls_flags
            ))),
            _ => Ok(()),
        }
    }

    /// The advertised endpoint from `-addr`/`-peer-addr`.
    pub(crate) fn advertised(&self, text: &str) -> Result<Endpoint, ConfigError> {
        let flag = self.addr_flag;
        let bad = |why: String| ConfigError(format!("{flag} {text:?}: {why}"));
        let written = split(text).map_err(bad)?;
        self.check_scheme(flag, text, written.scheme)?;
        let Some(port) = written.port else {
            return Err(bad("a port is required (host:port)".into()));
        };
        if written.host.is_empty() {
            return Err(bad("a host is required (host:port)".into()));
        }
        Ok(Endpoint {
            scheme: Scheme::for_tls(self.tls_on),
            host: written.host.to_owned(),
            port,
        })
    }

    /// The `host:port` to listen on. Without a listen address, the advertised
    /// host itself (ruling 1: not every interface); a bare host takes the
    /// advertised port.
    pub(crate) fn listen(
        &self,
        text: Option<&str>,
        advertised: &Endpoint,
    ) -> Result<String, ConfigError> {
        let Some(text) = text.filter(|text| !text.trim().is_empty()) else {
            return Ok(advertised.host_port());
        };
        let flag = self.bind_flag;
        let written = split(text).map_err(|why| ConfigError(format!("{flag} {text:?}: {why}")))?;
        self.check_scheme(flag, text, written.scheme)?;
        if written.host.is_empty() {
            // 0.4.6's wording, kept so operators can search for it.
            return Err(ConfigError(format!(
                "{flag} {text:?}: Listen Host: IP required can't use a port only"
            )));
        }
        Ok(join_host_port(
            written.host,
            written.port.unwrap_or(advertised.port),
        ))
    }

    /// One `-peers` entry, as `host:port` without scheme.
    pub(crate) fn peer(&self, text: &str) -> Result<String, ConfigError> {
        let bad = |why: String| ConfigError(format!("-peers entry {text:?}: {why}"));
        let written = split(text).map_err(bad)?;
        self.check_scheme("-peers entry", text, written.scheme)?;
        match written.port {
            Some(port) if !written.host.is_empty() => Ok(join_host_port(written.host, port)),
            _ => Err(bad("expected host:port".into())),
        }
    }
}

/// A discovery URL must be an http(s) URL with a host.
pub(crate) fn check_discovery(text: &str) -> Result<(), ConfigError> {
    let bad = || {
        ConfigError(format!(
            "-discovery {text:?}: expected an http:// or https:// URL"
        ))
    };
    match strip_scheme(text.trim()) {
        Ok((Some(_), rest)) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: Side = Side {
        addr_flag: "-addr",
        bind_flag: "-bind-addr",
        tls_flags: "-cert-file and -key-file",
        tls_on: false,
    };
    const CLIENT_TLS: Side = Side {
        tls_on: true,
        ..CLIENT
    };

    fn endpoint(side: &Side, text: &str) -> Endpoint {
        match side.advertised(text) {
            Ok(endpoint) => endpoint,
            Err(error) => panic!("{text}: {error}"),
        }
    }

    fn message<T: fmt::Debug>(result: Result<T, ConfigError>) -> String {
        match result {
            Ok(value) => panic!("expected an error, got {value:?}"),
            Err(error) => error.0,
        }
    }

    #[test]
    fn advertised_address_takes_host_port_with_or_without_scheme() {
        assert_eq!(
            endpoint(&CLIENT, "127.0.0.1:4001").url(),
            "http://127.0.0.1:4001"
        );
        assert_eq!(
            endpoint(&CLIENT, "http://10.0.0.1:4001").url(),
            "http://10.0.0.1:4001"
        );
        assert_eq!(endpoint(&CLIENT, "HTTP://h:1/").url(), "http://h:1");
        assert_eq!(
            endpoint(&CLIENT_TLS, "https://h:4001").url(),
            "https://h:4001"
        );
        assert_eq!(endpoint(&CLIENT_TLS, "h:4001").url(), "https://h:4001");
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        let endpoint = endpoint(&CLIENT, "[::1]:4001");
        assert_eq!(endpoint.host, "::1");
        assert_eq!(endpoint.url(), "http://[::1]:4001");
    }

    #[test]
    fn a_missing_port_or_host_is_an_error() {
        assert!(message(CLIENT.advertised("127.0.0.1")).contains("a port is required"));
        assert!(message(CLIENT.advertised("http://127.0.0.1")).contains("a port is required"));
        assert!(message(CLIENT.advertised("::1")).contains("a port is required"));
        assert!(message(CLIENT.advertised(":4001")).contains("a host is required"));
        assert!(message(CLIENT.advertised("h:99999")).contains("not a port number"));
        assert!(message(CLIENT.advertised("h:")).contains("port"));
        assert!(message(CLIENT.advertised("http://h:1/path")).contains("not a port number"));
        assert!(message(CLIENT.advertised("ftp://h:1")).contains("only http"));
    }

    #[test]
    fn a_scheme_that_disagrees_with_tls_says_why() {
        let error = message(CLIENT.advertised("https://h:4001"));
        assert_eq!(
            error,
            "-addr \"https://h:4001\" asks for https, but -cert-file and -key-file are not both set"
        );
        let error = message(CLIENT_TLS.advertised("http://h:4001"));
        assert!(
            error.contains("asks for http, but -cert-file and -key-file are set"),
            "{error}"
        );
    }

    #[test]
    fn listen_defaults_to_the_advertised_host_and_port() {
        let advertised = endpoint(&CLIENT, "10.0.0.5:4001");
        assert_eq!(
            CLIENT.listen(None, &advertised).ok(),
            Some("10.0.0.5:4001".into())
        );
        assert_eq!(
            CLIENT.listen(Some(" "), &advertised).ok(),
            Some("10.0.0.5:4001".into())
        );
    }

    #[test]
    fn a_bare_listen_host_takes_the_advertised_port() {
        let advertised = endpoint(&CLIENT, "10.0.0.5:4001");
        assert_eq!(
            CLIENT.listen(Some("0.0.0.0"), &advertised).ok(),
            Some("0.0.0.0:4001".into())
        );
        assert_eq!(
            CLIENT.listen(Some("::"), &advertised).ok(),
            Some("[::]:4001".into())
        );
        assert_eq!(
            CLIENT.listen(Some("127.0.0.1:5001"), &advertised).ok(),
            Some("127.0.0.1:5001".into())
        );
    }

    #[test]
    fn a_listen_port_without_host_is_refused() {
        let advertised = endpoint(&CLIENT, "10.0.0.5:4001");
        let error = message(CLIENT.listen(Some(":4001"), &advertised));
        assert!(
            error.ends_with("Listen Host: IP required can't use a port only"),
            "{error}"
        );
    }

    #[test]
    fn peers_lose_their_scheme_and_need_a_port() {
        assert_eq!(
            CLIENT.peer("http://10.0.0.2:7001").ok(),
            Some("10.0.0.2:7001".into())
        );
        assert_eq!(
            CLIENT.peer("10.0.0.2:7001").ok(),
            Some("10.0.0.2:7001".into())
        );
        assert!(message(CLIENT.peer("10.0.0.2")).contains("expected host:port"));
        assert!(message(CLIENT.peer("https://10.0.0.2:7001")).contains("asks for https"));
    }

    #[test]
    fn a_comma_is_not_part_of_a_host() {
        // Found by the `config` fuzz target: `peers = [",:3"]` in a TOML
        // file was taken as the peer ",:3".
        for text in [",:3", "10.0.0,3:7001", "http://a,b:7001"] {
            assert!(
                message(CLIENT.peer(text)).contains("is not a host name"),
                "{text}"
            );
        }
        assert!(CLIENT.advertised("127.0.0,1:4001").is_err());
    }

    #[test]
    fn discovery_needs_an_http_url() {
        assert!(check_discovery("https://discovery.etcd.io/abc").is_ok());
        assert!(check_discovery("discovery.etcd.io/abc").is_err());
        assert!(check_discovery("http://").is_err());
    }
}
