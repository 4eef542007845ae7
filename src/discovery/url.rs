//! The `-discovery` URL taken apart: where requests go (scheme, host, port)
//! and under which path the registry's keys live; also the `Location` of a
//! redirect, and percent-encoding of what this machine puts into a request.
//!
//! Owns parsing and encoding only. It never resolves names, never connects
//! and never decides what a redirect means.

use std::fmt;
use std::net::Ipv6Addr;

use super::error::DiscoveryError;

/// Where an etcd keys API path starts.
const KEYS_API: &str = "/v2/keys";

/// A checked `-discovery` URL.
///
/// ```ignore
/// use etcd::discovery::DiscoveryUrl;
/// let u = DiscoveryUrl::parse("http://127.0.0.1:4001/v2/keys/_etcd/registry/abc").unwrap();
/// assert_eq!(u.host_port(), "127.0.0.1:4001");
/// assert_eq!(u.prefix(), "_etcd/registry/abc");
/// let hosted = DiscoveryUrl::parse("https://discovery.etcd.io/abc").unwrap();
/// assert_eq!(hosted.host_port(), "discovery.etcd.io:443");
/// assert!(!hosted.under_keys_api());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryUrl {
    original: String,
    https: bool,
    /// Without brackets for an IPv6 literal (what TLS verifies against).
    host: String,
    port: u16,
    /// As dialled and sent in `Host` (`[::1]:4001` for IPv6).
    host_port: String,
    /// The registry's key: the path minus a leading `/v2/keys/`, no slashes
    /// at either end, still percent-encoded as the URL had it.
    prefix: String,
    under_keys_api: bool,
}

impl DiscoveryUrl {
    /// Accepts `http(s)://host[:port]/path` with a non-empty path. Refuses
    /// user info, queries and fragments (discovery would ignore them, and a
    /// URL that does not mean what it says is better refused at start).
    pub fn parse(url: &str) -> Result<DiscoveryUrl, DiscoveryError> {
        let bad = |reason: String| DiscoveryError::BadUrl {
            url: url.to_string(),
            reason,
        };
        if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(format!(
                "it contains {c:?}; remove spaces and control characters"
            )));
        }
        let (https, rest) = split_scheme(url).map_err(bad)?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(end);
        let host = Authority::parse(authority, https).map_err(bad)?;
        if rest.contains(['?', '#']) {
            return Err(bad(
                "it has a query or fragment (?… or #…), which discovery does not use; remove it"
                    .into(),
            ));
        }
        check_path(rest).map_err(bad)?;
        let path = rest.trim_end_matches('/');
        let keys_rest = if path == KEYS_API {
            Some("")
        } else {
            path.strip_prefix("/v2/keys/")
        };
        let under_keys_api = keys_rest.is_some();
        let prefix = keys_rest.unwrap_or(path).trim_matches('/');
        if prefix.is_empty() {
            return Err(bad(if under_keys_api {
                "it names no registry key after /v2/keys/ (expected e.g. \
                 http://host:4001/v2/keys/_etcd/registry/<token>)"
                    .into()
            } else {
                "it has no token in its path (expected e.g. https://discovery.etcd.io/<token>)"
                    .into()
            }));
        }
        Ok(DiscoveryUrl {
            original: url.to_string(),
            https,
            host: host.host,
            port: host.port,
            host_port: host.host_port,
            prefix: prefix.to_string(),
            under_keys_api,
        })
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The host name or IP literal (IPv6 without brackets): what an HTTPS
    /// server's certificate must name.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, as dialled and sent in the `Host` header.
    pub fn host_port(&self) -> &str {
        &self.host_port
    }

    /// The registry key, e.g. `_etcd/registry/abc` (for
    /// `…/v2/keys/_etcd/registry/abc`) or `abc` (for `https://discovery.etcd.io/abc`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// True when the URL's path starts with `/v2/keys`: requests then go to
    /// `/v2/keys/<prefix>/…`; otherwise (a hosted service) to `/<prefix>/…`.
    pub fn under_keys_api(&self) -> bool {
        self.under_keys_api
    }

    /// The URL as the user gave it, for messages.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The path of the registry itself, no trailing slash; entries are
    /// `<registry_path>/<escaped name>`.
    pub(crate) fn registry_path(&self) -> String {
        if self.under_keys_api {
            format!("{KEYS_API}/{}", self.prefix)
        } else {
            format!("/{}", self.prefix)
        }
    }
}

impl fmt::Display for DiscoveryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Where a redirect sends a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    pub(crate) https: bool,
    pub(crate) host_port: String,
    /// Path and query, as the server wrote them.
    pub(crate) target: String,
}

impl Location {
    /// An absolute `http(s)://host:port/path?query`, or an absolute path
    /// (`/path?query`) on the server that answered (`current`).
    pub(crate) fn parse(text: &str, https: bool, current: &str) -> Result<Location, String> {
        if text.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err("it contains spaces or control characters".into());
        }
        if text.starts_with('/') && !text.starts_with("//") {
            return Ok(Location {
                https,
                host_port: current.to_string(),
                target: text.to_string(),
            });
        }
        let (https, rest) = split_scheme(text)?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(end);
        let host = Authority::parse(authority, https)?;
        let target = rest.split('#').next().unwrap_or_default();
        let target = match target {
            "" => "/".to_string(),
            t if t.starts_with('?') => format!("/{t}"),
            t => t.to_string(),
        };
        Ok(Location {
            https,
            host_port: host.host_port,
            target,
        })
    }
}

pub(crate) fn scheme_name(https: bool) -> &'static str {
    if https { "https" } else { "http" }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so the
/// result is safe as a path segment and as a form value alike.
///
/// ```ignore
/// assert_eq!(escape("http://10.0.0.1:7001"), "http%3A%2F%2F10.0.0.1%3A7001");
/// ```
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `http://rest` → `(false, "rest")`; the scheme in any case.
fn split_scheme(url: &str) -> Result<(bool, &str), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("it is not an absolute URL (expected http://host:port/… or https://…)".into());
    };
    if scheme.eq_ignore_ascii_case("http") {
        Ok((false, rest))
    } else if scheme.eq_ignore_ascii_case("https") {
        Ok((true, rest))
    } else {
        Err(format!("its scheme {scheme:?} is neither http nor https"))
    }
}

struct Authority {
    host: String,
    port: u16,
    host_port: String,
}

impl Authority {
    fn parse(authority: &str, https: bool) -> Result<Authority, String> {
        if authority.is_empty() {
            return Err("it has no host".into());
        }
        if authority.contains('@') {
            return Err("user names and passwords (user@host) are not supported".into());
        }
        let (host, port, bracketed) = if let Some(rest) = authority.strip_prefix('[') {
            let (inside, after) = rest
                .split_once(']')
                .ok_or("its IPv6 address lacks the closing ']'")?;
            if inside.parse::<Ipv6Addr>().is_err() {
                return Err(format!("[{inside}] is not an IPv6 address"));
            }
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or("expected ':port' after ']'")?),
            };
            (inside, port, true)
        } else {
            match authority.split_once(':') {
                Some((_, p)) if p.contains(':') => {
                    return Err("an IPv6 address must be written in brackets ([::1]:4001)".into());
                }
                Some((h, p)) => (h, Some(p), false),
                None => (authority, None, false),
            }
        };
        if !bracketed {
            check_host_name(host)?;
        }
        let port = match port {
            None => {
                if https {
                    443
                } else {
                    80
                }
            }
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(format!("its port {p:?} is not a number from 1 to 65535")),
            },
        };
        let host_port = if bracketed {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(Authority {
            host: host.to_string(),
            port,
            host_port,
        })
    }
}

fn check_host_name(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("it has no host".into());
    }
    match host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        Some(c) => Err(format!("its host {host:?} contains {c:?}")),
        None => Ok(()),
    }
}

/// Only characters a URL path may hold as they are, and well-formed `%XX`.
fn check_path(path: &str) -> Result<(), String> {
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return Err("its path has a '%' not followed by two hex digits".into());
            }
            i += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b);
        if !allowed {
            let c = path[i..].chars().next().unwrap_or('?');
            return Err(format!(
                "its path contains {c:?}, which must be percent-encoded"
            ));
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> DiscoveryUrl {
        DiscoveryUrl::parse(url).unwrap()
    }

    fn refusal(url: &str) -> String {
        match DiscoveryUrl::parse(url) {
            Ok(u) => panic!("{url} accepted as {u:?}"),
            Err(DiscoveryError::BadUrl { reason, .. }) => reason,
            Err(other) => panic!("{url}: unexpected {other:?}"),
        }
    }

    #[test]
    fn a_keys_api_url_has_its_prefix_after_v2_keys() {
        let u = parse("http://127.0.0.1:4001/v2/keys/_etcd/registry/abc");
        assert!(!u.is_https());
        assert_eq!(u.host(), "127.0.0.1");
        assert_eq!(u.port(), 4001);
        assert_eq!(u.host_port(), "127.0.0.1:4001");
        assert_eq!(u.prefix(), "_etcd/registry/abc");
        assert!(u.under_keys_api());
        assert_eq!(u.registry_path(), "/v2/keys/_etcd/registry/abc");
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:4001/v2/keys/_etcd/registry/abc"
        );
    }

    #[test]
    fn a_hosted_url_addresses_keys_directly_under_its_path() {
        let u = parse("https://discovery.etcd.io/3e86b59982e49066c5d813af1c2e2579cbf573de/");
        assert!(u.is_https());
        assert_eq!(u.host_port(), "discovery.etcd.io:443");
        assert_eq!(u.prefix(), "3e86b59982e49066c5d813af1c2e2579cbf573de");
        assert!(!u.under_keys_api());
        assert_eq!(
            u.registry_path(),
            "/3e86b59982e49066c5d813af1c2e2579cbf573de"
        );
    }

    #[test]
    fn default_ports_follow_the_scheme_and_schemes_ignore_case() {
        assert_eq!(parse("HTTP://h/t").host_port(), "h:80");
        assert_eq!(parse("Https://h/t").host_port(), "h:443");
    }

    #[test]
    fn ipv6_literals_keep_brackets_to_dial_and_lose_them_for_tls() {
        let u = parse("http://[::1]:4001/v2/keys/r");
        assert_eq!(u.host(), "::1");
        assert_eq!(u.host_port(), "[::1]:4001");
    }

    #[test]
    fn a_path_starting_with_keys_but_not_the_keys_api_is_hosted_style() {
        let u = parse("http://h:1/v2/keysfoo");
        assert!(!u.under_keys_api());
        assert_eq!(u.registry_path(), "/v2/keysfoo");
    }

    #[test]
    fn unusable_urls_are_refused_with_a_reason() {
        assert!(refusal("discovery.etcd.io/abc").contains("not an absolute URL"));
        assert!(refusal("ftp://h/abc").contains("neither http nor https"));
        assert!(refusal("http:///abc").contains("no host"));
        assert!(refusal("http://h:0/abc").contains("port"));
        assert!(refusal("http://h:99999/abc").contains("port"));
        assert!(refusal("http://h:+1/abc").contains("port"));
        assert!(refusal("http://u:p@h/abc").contains("user"));
        assert!(refusal("http://::1/abc").contains("brackets"));
        assert!(refusal("http://[zz]/abc").contains("IPv6"));
        assert!(refusal("http://h/abc?x=1").contains("query"));
        assert!(refusal("http://h/abc#x").contains("fragment"));
        assert!(refusal("http://h/a b").contains("spaces"));
        assert!(refusal("http://h/a%zz").contains("hex"));
        assert!(refusal("http://h/a\"b").contains("percent-encoded"));
        assert!(refusal("http://h").contains("no token"));
        assert!(refusal("http://h/").contains("no token"));
        assert!(refusal("http://h/v2/keys").contains("no registry key"));
        assert!(refusal("http://h/v2/keys/").contains("no registry key"));
    }

    #[test]
    fn the_error_names_the_url() {
        let e = DiscoveryUrl::parse("ftp://h/abc").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("discovery via ftp://h/abc failed: "),
            "{e}"
        );
    }

    #[test]
    fn escape_leaves_only_unreserved_characters() {
        assert_eq!(
            escape("http://10.0.0.1:7001"),
            "http%3A%2F%2F10.0.0.1%3A7001"
        );
        assert_eq!(escape("a b+c&d=e/ü~_.-"), "a%20b%2Bc%26d%3De%2F%C3%BC~_.-");
        let decoded = crate::httpd::parse_form(format!("v={}", escape("a b+c&=%")).as_bytes());
        assert_eq!(
            decoded.unwrap(),
            vec![("v".to_string(), "a b+c&=%".to_string())]
        );
    }

    #[test]
    fn locations_are_absolute_urls_or_paths_on_the_same_server() {
        let l = Location::parse(
            "http://10.0.0.2:4001/v2/keys/r?recursive=true",
            false,
            "x:1",
        )
        .unwrap();
        assert_eq!(
            l,
            Location {
                https: false,
                host_port: "10.0.0.2:4001".into(),
                target: "/v2/keys/r?recursive=true".into(),
            }
        );
        let l = Location::parse("/v2/keys/r", true, "10.0.0.1:4001").unwrap();
        assert_eq!((l.https, l.host_port.as_str()), (true, "10.0.0.1:4001"));
        assert_eq!(
            Location::parse("https://h", false, "x").unwrap().target,
            "/"
        );
        assert!(Location::parse("mailto:x", false, "x").is_err());
        assert!(Location::parse("http://h/a b", false, "x").is_err());
    }
}
