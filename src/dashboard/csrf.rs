//! The rule that keeps cross-site pages from writing through the
//! dashboard, applied to every client-port request before routing.
//!
//! The page sends `X-Etcd-Dashboard: 1` on each write. A plain cross-site
//! HTML form cannot set a header, and a script on another site that sets
//! one must first pass a CORS preflight, which only the members' own
//! origins (and `-cors`) pass. So a write that comes **from a dashboard
//! page** but lacks the header was not made by the page's own code (an
//! injected form or link, a framed page, a bug) and is refused: **403**,
//! JSON `{"message":…}`.
//!
//! A request comes from a dashboard page when it is a write (any method
//! but GET, HEAD and OPTIONS) and either
//! - its `Referer` path starts with `/mod/dashboard` (what a browser sends
//!   from the page to its own origin), or
//! - its `Origin` is the origin of a member's client URL (what a browser
//!   sends from the page to another member; only the dashboard is served
//!   as a page from a member's origin, the APIs answer JSON and text).
//!
//! curl, etcdctl, go-etcd and python-etcd send neither header, and web
//! applications allowed by `-cors` have their own origins: none of them is
//! affected. Reads are never refused (they change nothing, and another
//! site cannot read the answer without CORS).
//!
//! Pure: the members' client URLs are asked for only when an `Origin`
//! header makes them matter.

use crate::httpd::{Request, Response};

use super::{PREFIX, origin};

/// The header the page's writes carry, and its only accepted value.
pub const HEADER: &str = "X-Etcd-Dashboard";
pub const VALUE: &str = "1";

/// Why a request was refused, for the 403 body and the tests.
pub const MESSAGE: &str =
    "a write from the dashboard page must carry the header X-Etcd-Dashboard: 1";

/// The 403 for a write from a dashboard page without the header, or None
/// to serve `req` as usual. `member_client_urls` is called at most once.
pub fn refuse(req: &Request, member_client_urls: impl FnOnce() -> Vec<String>) -> Option<Response> {
    if !is_write(&req.method) || carries_header(req) {
        return None;
    }
    let from_page = req.header("referer").is_some_and(referer_is_dashboard)
        || req.header("origin").is_some_and(|o| {
            let urls = member_client_urls();
            origin::is_one_of(o, urls.iter().map(String::as_str))
        });
    from_page.then(forbidden)
}

fn is_write(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

fn carries_header(req: &Request) -> bool {
    req.header(HEADER).map(str::trim) == Some(VALUE)
}

/// `http://host:port/mod/dashboard/…` (or a bare path, which browsers do
/// not send but costs nothing to read the same way).
fn referer_is_dashboard(referer: &str) -> bool {
    let path = match referer.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => referer,
    };
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
}

fn forbidden() -> Response {
    let body = serde_json::json!({ "message": MESSAGE }).to_string() + "\n";
    Response::json(403, body)
}
