//! Answering `/mod/dashboard…` on the client port with the embedded files.
//!
//! - `/mod/dashboard` → 301 to `/mod/dashboard/` (relative, query kept, as
//!   the keys API's own redirects are), so the page's relative links work;
//! - `/mod/dashboard/` is `index.html`; other names are looked up exactly
//!   (no decoding, no `..`): anything not embedded is the usual plain 404;
//! - GET and HEAD only; other methods get the same 404 (0.4 has no 405).
//!
//! Caching: `Cache-Control: no-cache` with a strong `ETag`, so a browser
//! revalidates (304, no body) and never runs a page of an older binary
//! after an upgrade; the names are not fingerprinted, so a long `max-age`
//! could mix old and new files. Every file also forbids framing
//! (clickjacking the page's buttons), sniffing, and (by its CSP) scripts,
//! styles and form targets from anywhere but the page itself.

use crate::http::reply;
use crate::httpd::{Request, Response};

use super::PREFIX;
use super::assets;

/// The page's Content-Security-Policy. `connect-src` must reach the other
/// members, whose origins are not known here; everything else is `'self'`.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self' http: https:; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// The dashboard's answer to `req`, or None if the path is not the
/// dashboard's (the caller routes it elsewhere).
pub fn answer(req: &Request) -> Option<Response> {
    let rest = req.path.strip_prefix(PREFIX)?;
    if rest.is_empty() {
        return Some(redirect_to_slash(&req.query));
    }
    // `/mod/dashboardx` is not ours.
    let name = rest.strip_prefix('/')?;
    if !matches!(req.method.as_str(), "GET" | "HEAD") {
        return Some(reply::not_found());
    }
    let name = if name.is_empty() { "index.html" } else { name };
    let Some(asset) = assets::find(name) else {
        return Some(reply::not_found());
    };
    let etag = asset.etag();
    let mut resp = if revalidated(req, &etag) {
        // The layer announces the body's length but sends no body for 304:
        // the full length is what RFC 9110 allows a 304 to announce.
        Response::new(304).with_body(asset.bytes)
    } else {
        Response::new(200)
            .with_header("Content-Type", asset.content_type)
            .with_body(asset.bytes)
    };
    resp = resp
        .with_header("Cache-Control", "no-cache")
        .with_header("ETag", &etag)
        .with_header("X-Content-Type-Options", "nosniff")
        .with_header("X-Frame-Options", "DENY")
        .with_header("Content-Security-Policy", CSP);
    Some(resp)
}

fn redirect_to_slash(query: &str) -> Response {
    let location = if query.is_empty() {
        format!("{PREFIX}/")
    } else {
        format!("{PREFIX}/?{query}")
    };
    Response::new(301)
        .with_header("Location", &location)
        .with_header("Content-Type", reply::TEXT)
}

/// `If-None-Match` naming this ETag (or `*`).
fn revalidated(req: &Request, etag: &str) -> bool {
    req.header("if-none-match").is_some_and(|v| {
        v.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag || t == "*")
    })
}
