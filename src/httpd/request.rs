//! The request a handler receives: head fields split out, body fully read.

use super::head::find_header;
use std::net::SocketAddr;

/// One HTTP request, its body already read and de-chunked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// As sent; unknown methods are passed through for the handler to judge.
    pub method: String,
    /// The raw request-target (`/v2/keys/a%2Fb?wait=true`).
    pub target: String,
    /// The path part of the target, NOT percent-decoded.
    pub path: String,
    /// The query part of the target without `?`, raw.
    pub query: String,
    /// In arrival order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub remote: Option<SocketAddr>,
    /// When the request was read whole (handlers time their answers from it).
    pub received: std::time::Instant,
}

impl Request {
    /// Builds a request from a raw target, splitting path and query.
    pub fn new(
        method: &str,
        target: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Request {
        let (path, query) = split_target(target);
        Request {
            method: method.to_string(),
            target: target.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers,
            body,
            remote: None,
            received: std::time::Instant::now(),
        }
    }

    /// First value of the header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// Splits a request-target into raw path and raw query. The absolute form
/// (`http://host:port/path?q`, sent to proxies and by some clients) is
/// reduced to its path; a fragment, which clients should never send, is cut.
fn split_target(target: &str) -> (&str, &str) {
    let without_fragment = target.split('#').next().unwrap_or_default();
    let origin_form = strip_scheme_and_authority(without_fragment);
    let (path, query) = origin_form.split_once('?').unwrap_or((origin_form, ""));
    (if path.is_empty() { "/" } else { path }, query)
}

fn strip_scheme_and_authority(target: &str) -> &str {
    // Compared as bytes: slicing the str could split a multi-byte char.
    let prefix_len = ["http://", "https://"].iter().find_map(|p| {
        let head = target.as_bytes().get(..p.len())?;
        head.eq_ignore_ascii_case(p.as_bytes()).then_some(p.len())
    });
    let Some(rest) = prefix_len.and_then(|n| target.get(n..)) else {
        return target;
    };
    // `http://host` and `http://host?q` keep an empty path; the caller
    // reads an empty path as `/`.
    rest.find(['/', '?']).map_or("", |i| &rest[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_splits_into_raw_path_and_query() {
        let r = Request::new("GET", "/v2/keys/a%2Fb?wait=true&x=%41", vec![], vec![]);
        assert_eq!(r.path, "/v2/keys/a%2Fb");
        assert_eq!(r.query, "wait=true&x=%41");
    }

    #[test]
    fn target_without_query_has_empty_query() {
        let r = Request::new("GET", "/v2/machines", vec![], vec![]);
        assert_eq!((r.path.as_str(), r.query.as_str()), ("/v2/machines", ""));
    }

    #[test]
    fn only_the_first_question_mark_splits() {
        let r = Request::new("GET", "/a?b=?c", vec![], vec![]);
        assert_eq!((r.path.as_str(), r.query.as_str()), ("/a", "b=?c"));
    }

    #[test]
    fn absolute_form_is_reduced_to_its_path() {
        let r = Request::new("GET", "http://127.0.0.1:4001/v2/keys/x?a=1", vec![], vec![]);
        assert_eq!((r.path.as_str(), r.query.as_str()), ("/v2/keys/x", "a=1"));
        let r = Request::new("GET", "HTTP://h", vec![], vec![]);
        assert_eq!(r.path, "/");
        let r = Request::new("GET", "http://h?q=1", vec![], vec![]);
        assert_eq!((r.path.as_str(), r.query.as_str()), ("/", "q=1"));
    }

    #[test]
    fn multibyte_characters_near_the_start_do_not_upset_the_split() {
        for t in ["/üüüüü?a=ü", "ééééé", "http:/ü"] {
            let r = Request::new("GET", t, vec![], vec![]);
            assert_eq!(
                format!(
                    "{}{}",
                    r.path,
                    if r.query.is_empty() {
                        String::new()
                    } else {
                        format!("?{}", r.query)
                    }
                ),
                t
            );
        }
    }

    #[test]
    fn header_lookup_ignores_case() {
        let r = Request::new(
            "GET",
            "/",
            vec![("Content-Type".into(), "text/plain".into())],
            vec![],
        );
        assert_eq!(r.header("content-TYPE"), Some("text/plain"));
        assert_eq!(r.header("accept"), None);
    }
}
