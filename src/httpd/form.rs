//! Percent-decoding and `application/x-www-form-urlencoded` parsing.

use std::fmt;

/// Why a form or query string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// A `%` not followed by two hex digits; holds the raw name or value.
    BadEscape(String),
    /// A name or value that is not UTF-8 once decoded.
    InvalidUtf8,
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormError::BadEscape(s) => write!(f, "invalid URL escape in {s:?}"),
            FormError::InvalidUtf8 => f.write_str("form data is not valid UTF-8"),
        }
    }
}

impl std::error::Error for FormError {}

/// Decodes `%XX` escapes into bytes; `+` stays `+` (paths, not forms).
/// Like Go, a `%` without two hex digits after it is an error: `None`.
///
/// ```ignore
/// use etcd::httpd::percent_decode;
/// assert_eq!(percent_decode("a%2Fb").unwrap(), b"a/b");
/// assert_eq!(percent_decode("%zz"), None);
/// ```
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    decode(s.as_bytes(), false)
}

fn decode(s: &[u8], plus_is_space: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                let hi = hex(*s.get(i + 1)?)?;
                let lo = hex(*s.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Parses `name=value&name2=value2` form data, keeping order and repeats.
/// `+` is a space; a pair without `=` has an empty value; empty pairs
/// (`a=1&&b=2`) are skipped. Only `&` separates pairs: a `;` is data, as
/// a user typing `value=a;b` expects.
pub fn parse_form(s: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    let mut out = Vec::new();
    for pair in s.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let eq = pair.iter().position(|&b| b == b'=');
        let (name, value) = match eq {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        out.push((form_text(name)?, form_text(value)?));
    }
    Ok(out)
}

fn form_text(raw: &[u8]) -> Result<String, FormError> {
    let bytes = decode(raw, true)
        .ok_or_else(|| FormError::BadEscape(String::from_utf8_lossy(raw).into_owned()))?;
    String::from_utf8(bytes).map_err(|_| FormError::InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn percent_escapes_decode_to_bytes_in_any_hex_case() {
        assert_eq!(percent_decode("%2f%2F%41b").unwrap(), b"//Ab");
        assert_eq!(percent_decode("%ff").unwrap(), vec![0xff]);
    }

    #[test]
    fn plus_is_kept_by_percent_decode() {
        assert_eq!(percent_decode("a+b").unwrap(), b"a+b");
    }

    #[test]
    fn bad_or_truncated_escapes_are_errors() {
        for bad in ["%zz", "%", "%4", "a%g1", "%%41"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn form_keeps_order_and_duplicates() {
        let f = parse_form(b"b=1&a=2&b=3").unwrap();
        assert_eq!(f, pairs(&[("b", "1"), ("a", "2"), ("b", "3")]));
    }

    #[test]
    fn form_plus_is_space_and_escaped_plus_is_plus() {
        let f = parse_form(b"value=a+b%2Bc&x%20y=%3D").unwrap();
        assert_eq!(f, pairs(&[("value", "a b+c"), ("x y", "=")]));
    }

    #[test]
    fn form_pair_without_equals_has_empty_value() {
        assert_eq!(
            parse_form(b"prevValue&a=").unwrap(),
            pairs(&[("prevValue", ""), ("a", "")])
        );
    }

    #[test]
    fn form_empty_pairs_are_skipped() {
        assert_eq!(
            parse_form(b"&a=1&&b=2&").unwrap(),
            pairs(&[("a", "1"), ("b", "2")])
        );
        assert_eq!(parse_form(b"").unwrap(), vec![]);
    }

    #[test]
    fn form_value_may_contain_equals_and_semicolon() {
        assert_eq!(
            parse_form(b"value=a=b;c").unwrap(),
            pairs(&[("value", "a=b;c")])
        );
    }

    #[test]
    fn form_bad_escape_is_an_error() {
        assert_eq!(
            parse_form(b"value=%zz"),
            Err(FormError::BadEscape("%zz".into()))
        );
    }

    #[test]
    fn form_invalid_utf8_is_an_error_raw_or_escaped() {
        assert_eq!(parse_form(b"value=%ff"), Err(FormError::InvalidUtf8));
        assert_eq!(parse_form(b"value=\xff"), Err(FormError::InvalidUtf8));
    }

    #[test]
    fn form_utf8_escapes_decode_to_text() {
        assert_eq!(parse_form(b"v=%C3%BC").unwrap(), pairs(&[("v", "ü")]));
    }
}
