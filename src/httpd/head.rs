//! Parsing of request and response heads (start line + header fields).

/// The HTTP versions we speak; anything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    Http10,
    Http11,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeadError {
    Malformed(&'static str),
    /// Shaped like `HTTP/x.y` but not 1.0 or 1.1 (answered with 505).
    UnsupportedVersion,
}

#[derive(Debug)]
pub(crate) struct RequestHead {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) version: Version,
    pub(crate) headers: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct ResponseHead {
    pub(crate) version: Version,
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
}

/// Splits a head into lines without their `\n` / `\r\n` endings, dropping
/// the empty line that ends it.
fn lines(head: &[u8]) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

pub(crate) fn parse_request_head(head: &[u8]) -> Result<RequestHead, HeadError> {
    let lines = lines(head);
    let (first, rest) = lines
        .split_first()
        .ok_or(HeadError::Malformed("empty request"))?;
    let mut parts = first.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed("bad request line"));
    };
    if method.is_empty() || !method.iter().all(|&b| is_token_byte(b)) {
        return Err(HeadError::Malformed("bad method"));
    }
    if target.is_empty() || !target.iter().all(|&b| b > 0x20 && b != 0x7f) {
        return Err(HeadError::Malformed("bad request target"));
    }
    let target = std::str::from_utf8(target)
        .map_err(|_| HeadError::Malformed("request target is not UTF-8"))?;
    Ok(RequestHead {
        method: ascii(method),
        target: target.to_string(),
        version: parse_version(version)?,
        headers: parse_fields(rest)?,
    })
}

pub(crate) fn parse_response_head(head: &[u8]) -> Result<ResponseHead, HeadError> {
    let lines = lines(head);
    let (first, rest) = lines
        .split_first()
        .ok_or(HeadError::Malformed("empty response"))?;
    let mut parts = first.splitn(3, |&b| b == b' ');
    let version = parse_version(parts.next().unwrap_or_default())?;
    let code = parts.next().unwrap_or_default();
    if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
        return Err(HeadError::Malformed("bad status code"));
    }
    let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    Ok(ResponseHead {
        version,
        status,
        headers: parse_fields(rest)?,
    })
}

fn parse_version(v: &[u8]) -> Result<Version, HeadError> {
    match v {
        b"HTTP/1.1" => Ok(Version::Http11),
        b"HTTP/1.0" => Ok(Version::Http10),
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Err(HeadError::UnsupportedVersion)
        }
        _ => Err(HeadError::Malformed("bad HTTP version")),
    }
}

/// Parses `name: value` lines. Folded continuation lines (obsolete since
/// RFC 7230) and whitespace before the colon are refused, as both have been
/// used to smuggle headers past other parsers.
fn parse_fields(lines: &[&[u8]]) -> Result<Vec<(String, String)>, HeadError> {
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            return Err(HeadError::Malformed("folded header line"));
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(HeadError::Malformed("header without colon"))?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() || !name.iter().all(|&b| is_token_byte(b)) {
            return Err(HeadError::Malformed("bad header name"));
        }
        if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(HeadError::Malformed("control character in header value"));
        }
        let value = value.trim_ascii();
        out.push((ascii(name), String::from_utf8_lossy(value).into_owned()));
    }
    Ok(out)
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Only called on bytes already checked to be ASCII tokens.
fn ascii(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// First value of a header, by case-insensitive name.
pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Every comma-separated element of every header named `name`, trimmed.
pub(crate) fn header_list<'a>(
    headers: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// True if the comma-list header `name` contains `token` (case-insensitive).
pub(crate) fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    header_list(headers, name).any(|t| t.eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Result<RequestHead, HeadError> {
        parse_request_head(s.as_bytes())
    }

    #[test]
    fn request_line_gives_method_target_and_version() {
        let h = req("PUT /v2/keys/a?ttl=5 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(h.method, "PUT");
        assert_eq!(h.target, "/v2/keys/a?ttl=5");
        assert_eq!(h.version, Version::Http11);
        assert_eq!(h.headers, vec![("Host".to_string(), "x".to_string())]);
    }

    #[test]
    fn bare_lf_line_endings_are_accepted() {
        let h = req("GET / HTTP/1.0\nA: 1\n\n").unwrap();
        assert_eq!(h.version, Version::Http10);
        assert_eq!(find_header(&h.headers, "a"), Some("1"));
    }

    #[test]
    fn unknown_methods_are_parsed_not_refused() {
        assert_eq!(req("PATCH /x HTTP/1.1\r\n\r\n").unwrap().method, "PATCH");
    }

    #[test]
    fn malformed_request_lines_are_refused() {
        for bad in [
            "GET /x\r\n\r\n",
            "GET  /x HTTP/1.1\r\n\r\n",
            "GET /x HTTP/1.1 extra\r\n\r\n",
            "G(T /x HTTP/1.1\r\n\r\n",
            "GET /x\x01y HTTP/1.1\r\n\r\n",
            "GET /x HTTP/one\r\n\r\n",
            "GET /x http/1.1\r\n\r\n",
        ] {
            assert!(matches!(req(bad), Err(HeadError::Malformed(_))), "{bad:?}");
        }
    }

    #[test]
    fn other_http_versions_are_unsupported() {
        assert_eq!(
            req("GET / HTTP/2.0\r\n\r\n").unwrap_err(),
            HeadError::UnsupportedVersion
        );
    }

    #[test]
    fn non_utf8_target_is_refused() {
        assert!(parse_request_head(b"GET /\xff HTTP/1.1\r\n\r\n").is_err());
    }

    #[test]
    fn utf8_target_is_kept_raw() {
        assert_eq!(
            req("GET /v2/keys/ünï%20x HTTP/1.1\r\n\r\n").unwrap().target,
            "/v2/keys/ünï%20x"
        );
    }

    #[test]
    fn header_values_are_trimmed_and_names_keep_their_case() {
        let h = req("GET / HTTP/1.1\r\nX-Thing: \t a b \t\r\nEmpty:\r\n\r\n").unwrap();
        assert_eq!(h.headers[0], ("X-Thing".into(), "a b".into()));
        assert_eq!(h.headers[1], ("Empty".into(), "".into()));
    }

    #[test]
    fn folded_header_lines_are_refused() {
        let r = req("GET / HTTP/1.1\r\nA: 1\r\n  continued\r\n\r\n");
        assert_eq!(r.unwrap_err(), HeadError::Malformed("folded header line"));
    }

    #[test]
    fn space_before_colon_is_refused() {
        assert!(req("GET / HTTP/1.1\r\nHost : x\r\n\r\n").is_err());
    }

    #[test]
    fn header_without_colon_is_refused() {
        assert!(req("GET / HTTP/1.1\r\nnonsense\r\n\r\n").is_err());
    }

    #[test]
    fn control_characters_in_values_are_refused() {
        assert!(req("GET / HTTP/1.1\r\nA: x\ry\r\n\r\n").is_err());
        assert!(req("GET / HTTP/1.1\r\nA: x\0y\r\n\r\n").is_err());
    }

    #[test]
    fn token_lists_are_matched_case_insensitively() {
        let h = req("GET / HTTP/1.1\r\nConnection: Upgrade, Keep-Alive\r\nconnection: x\r\n\r\n")
            .unwrap();
        assert!(has_token(&h.headers, "CONNECTION", "keep-alive"));
        assert!(has_token(&h.headers, "connection", "x"));
        assert!(!has_token(&h.headers, "connection", "close"));
    }

    #[test]
    fn response_status_line_is_parsed() {
        let h = parse_response_head(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /x\r\n\r\n")
            .unwrap();
        assert_eq!(h.status, 307);
        assert_eq!(find_header(&h.headers, "location"), Some("/x"));
        let h = parse_response_head(b"HTTP/1.0 200\r\n\r\n").unwrap();
        assert_eq!((h.version, h.status), (Version::Http10, 200));
        assert!(parse_response_head(b"HTTP/1.1 2x0 OK\r\n\r\n").is_err());
    }
}
