//! Browser origins (`scheme://host[:port]`) of URLs, written the way a
//! browser writes them in `Origin`: scheme and host in lower case, no
//! path, no default port. Pure string work; never resolves names.

/// The origin of `url` (`http://127.0.0.1:4001/x` → `http://127.0.0.1:4001`),
/// or None if it is not an `http`/`https` URL with a host.
pub fn of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Credentials in a URL are never part of its origin.
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    if host_port.is_empty() {
        return None;
    }
    let host_port = host_port.to_ascii_lowercase();
    let host_port = host_port.strip_suffix(default_port).unwrap_or(&host_port);
    Some(format!("{scheme}://{host_port}"))
}

/// Whether the `Origin` header value `origin` is the origin of one of
/// `urls` (the members' client URLs).
pub fn is_one_of<'a>(origin: &str, urls: impl IntoIterator<Item = &'a str>) -> bool {
    let Some(origin) = of(origin) else {
        return false;
    };
    urls.into_iter()
        .any(|u| of(u).as_deref() == Some(origin.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_host_and_port_as_browsers_write_it() {
        assert_eq!(
            of("http://127.0.0.1:4001").as_deref(),
            Some("http://127.0.0.1:4001")
        );
        assert_eq!(
            of("http://127.0.0.1:4001/mod/dashboard/?a#b").as_deref(),
            Some("http://127.0.0.1:4001")
        );
        assert_eq!(
            of("HTTPS://Etcd.Example:443/").as_deref(),
            Some("https://etcd.example")
        );
        assert_eq!(
            of("http://u:p@10.0.0.5:80").as_deref(),
            Some("http://10.0.0.5")
        );
        assert_eq!(
            of("http://[::1]:4001").as_deref(),
            Some("http://[::1]:4001")
        );
    }

    #[test]
    fn what_is_not_an_http_origin_has_none() {
        for url in [
            "null",
            "",
            "file:///etc/passwd",
            "http://",
            "127.0.0.1:4001",
            "ws://h:1",
        ] {
            assert_eq!(of(url), None, "{url}");
        }
    }

    #[test]
    fn an_origin_matches_a_member_url_exactly_not_by_prefix() {
        let members = ["http://127.0.0.1:4001", "https://10.0.0.6:4001"];
        assert!(is_one_of("http://127.0.0.1:4001", members));
        assert!(is_one_of("https://10.0.0.6:4001", members));
        assert!(!is_one_of("http://127.0.0.1:40011", members));
        assert!(!is_one_of("http://10.0.0.6:4001", members));
        assert!(!is_one_of("http://127.0.0.1:4001.evil.example", members));
        assert!(!is_one_of("null", members));
    }
}
