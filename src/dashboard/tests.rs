//! The dashboard's serving rules and its write rule, tested without
//! sockets: `answer` and `refuse` directly, and through the client API's
//! routing on an in-memory connection.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use super::assets::{self, ASSETS, BUDGET_BYTES};
use super::{answer, csrf};
use crate::http::client_api::ClientApi;
use crate::http::gateway::Gateway;
use crate::http::health::HealthCheck;
use crate::httpd::{Request, call_in_memory};
use crate::server::mode::{LeaderUrls, Mode, ModeCell};

fn get(target: &str) -> Request {
    Request::new("GET", target, vec![], vec![])
}

fn with_headers(method: &str, target: &str, headers: &[(&str, &str)]) -> Request {
    let headers = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Request::new(method, target, headers, b"value=x".to_vec())
}

/// A client API whose state thread never answers (so no member list).
fn api(mode: Mode) -> ClientApi {
    let (tx, rx) = crossbeam_channel::unbounded();
    std::mem::forget(rx);
    ClientApi {
        gw: Gateway::new(
            tx,
            Arc::new(AtomicU64::new(7)),
            Vec::new(),
            Duration::from_millis(20),
            ModeCell::new(mode),
        ),
        health: HealthCheck {
            budget: Duration::from_millis(20),
        },
    }
}

#[test]
fn the_page_is_served_at_the_slash_as_html() {
    let r = answer(&get("/mod/dashboard/")).expect("ours");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let html = String::from_utf8(r.body).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    for hook in [
        "data-test=\"leader\"",
        "data-test=\"key-input\"",
        "data-test=\"value-input\"",
        "data-test=\"save\"",
        "data-test=\"delete\"",
        "data-test=\"watch-prefix\"",
        "data-test=\"watch-start\"",
    ] {
        assert!(html.contains(hook), "{hook}");
    }
    assert_eq!(
        answer(&get("/mod/dashboard/index.html")).unwrap().body,
        html.as_bytes()
    );
}

#[test]
fn every_file_has_its_type_and_the_caching_and_safety_headers() {
    for a in ASSETS {
        let r = answer(&get(&format!("/mod/dashboard/{}", a.name))).expect("ours");
        assert_eq!(r.status, 200, "{}", a.name);
        assert_eq!(r.body, a.bytes, "{}", a.name);
        let want = match a.name.rsplit('.').next() {
            Some("html") => "text/html; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("svg") => "image/svg+xml",
            other => panic!("no type expected for {other:?}"),
        };
        assert_eq!(r.header("content-type"), Some(want), "{}", a.name);
        assert_eq!(r.header("cache-control"), Some("no-cache"));
        assert_eq!(r.header("etag"), Some(a.etag().as_str()));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    }
}

#[test]
fn etags_differ_between_files_and_revalidation_answers_304() {
    let mut tags: Vec<String> = ASSETS.iter().map(|a| a.etag()).collect();
    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), ASSETS.len());
    let css = assets::find("app.css").unwrap();
    for inm in [css.etag(), format!("\"x\", W/{}", css.etag()), "*".into()] {
        let req = with_headers("GET", "/mod/dashboard/app.css", &[("If-None-Match", &inm)]);
        let r = answer(&req).unwrap();
        assert_eq!(r.status, 304, "{inm}");
        assert_eq!(r.header("etag"), Some(css.etag().as_str()));
    }
    let stale = with_headers(
        "GET",
        "/mod/dashboard/app.css",
        &[("If-None-Match", "\"0\"")],
    );
    assert_eq!(answer(&stale).unwrap().status, 200);
}

#[test]
fn a_304_on_the_wire_has_no_body_and_announces_the_full_length() {
    let api = api(Mode::Member);
    let css = assets::find("app.css").unwrap();
    let req = with_headers(
        "GET",
        "/mod/dashboard/app.css",
        &[("If-None-Match", &css.etag())],
    );
    let r = call_in_memory(&api, req).unwrap();
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("content-length"),
        Some(css.bytes.len().to_string().as_str())
    );
}

#[test]
fn without_the_slash_it_redirects_to_the_slash_keeping_the_query() {
    let r = answer(&get("/mod/dashboard")).unwrap();
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/mod/dashboard/"));
    let r = answer(&get("/mod/dashboard?x=1")).unwrap();
    assert_eq!(r.header("location"), Some("/mod/dashboard/?x=1"));
}

#[test]
fn unknown_files_and_other_methods_are_the_plain_404() {
    for target in [
        "/mod/dashboard/nope.js",
        "/mod/dashboard/js/",
        "/mod/dashboard/js",
        "/mod/dashboard/../Cargo.toml",
        "/mod/dashboard/js/../index.html",
        "/mod/dashboard/%69ndex.html",
        "/mod/dashboard//index.html",
    ] {
        let r = answer(&get(target)).expect("ours");
        assert_eq!(r.status, 404, "{target}");
        assert_eq!(r.body, b"404 page not found\n");
    }
    for method in ["POST", "PUT", "DELETE"] {
        let r = answer(&Request::new(method, "/mod/dashboard/", vec![], vec![])).unwrap();
        assert_eq!(r.status, 404, "{method}");
    }
    // Not ours at all: the router answers these.
    assert!(answer(&get("/mod/dashboardx")).is_none());
    assert!(answer(&get("/mod/other/")).is_none());
}

#[test]
fn the_client_port_routes_the_dashboard_and_other_mod_paths_stay_404() {
    let api = api(Mode::Member);
    let r = call_in_memory(&api, get("/mod/dashboard/")).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let r = call_in_memory(
        &api,
        Request::new("HEAD", "/mod/dashboard/", vec![], vec![]),
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(
        call_in_memory(&api, get("/mod/dashboard")).unwrap().status,
        301
    );
    assert_eq!(
        call_in_memory(&api, get("/mod/dashboard/x"))
            .unwrap()
            .status,
        404
    );
    assert_eq!(
        call_in_memory(&api, get("/mod/leader")).unwrap().status,
        404
    );
}

#[test]
fn a_standby_sends_the_page_to_the_leader_like_everything_else() {
    let api = api(Mode::Standby {
        leader: Some(LeaderUrls {
            name: "m1".into(),
            client_url: "http://127.0.0.1:4001".into(),
            peer_url: "http://127.0.0.1:7001".into(),
        }),
    });
    let r = call_in_memory(&api, get("/mod/dashboard/")).unwrap();
    assert_eq!(r.status, 307);
    assert_eq!(
        r.header("location"),
        Some("http://127.0.0.1:4001/mod/dashboard/")
    );
}

#[test]
fn the_page_weighs_less_than_its_budget() {
    let total = assets::total_bytes();
    assert!(
        total < BUDGET_BYTES,
        "the dashboard weighs {total} bytes, over its {BUDGET_BYTES}-byte budget"
    );
}

/// Every file the page names (`src=`, `href=`, `import … from`) is
/// embedded, and none comes from another host.
#[test]
fn every_file_the_page_refers_to_is_embedded_and_local() {
    let mut refs: Vec<String> = Vec::new();
    for a in ASSETS {
        let text = std::str::from_utf8(a.bytes).unwrap();
        let dir = a.name.rsplit_once('/').map_or("", |(d, _)| d);
        for (open, close) in [("src=\"", '"'), ("href=\"", '"'), ("from './", '\'')] {
            for piece in text.split(open).skip(1) {
                let target = piece.split(close).next().unwrap_or_default();
                if target.starts_with('#') {
                    continue;
                }
                assert!(
                    !target.contains("//") && !target.starts_with("data:http"),
                    "{} refers to another host: {target}",
                    a.name
                );
                let path = if open.starts_with("from") {
                    format!("{dir}/{target}")
                } else {
                    target.to_string()
                };
                refs.push(path.trim_start_matches('/').to_string());
            }
        }
    }
    assert!(refs.len() >= 10, "{refs:?}");
    for r in refs {
        assert!(assets::find(&r).is_some(), "{r} is not embedded");
    }
}

#[test]
fn values_reach_the_page_only_as_text() {
    for a in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        let js = std::str::from_utf8(a.bytes).unwrap();
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!js.contains(sink), "{} uses {sink}", a.name);
        }
    }
}

// The write rule.

fn members() -> Vec<String> {
    vec![
        "http://127.0.0.1:4001".into(),
        "http://127.0.0.1:4002".into(),
    ]
}

fn refused(req: &Request) -> bool {
    csrf::refuse(req, members).is_some()
}

#[test]
fn clients_without_origin_or_referer_are_never_refused() {
    // curl, etcdctl, go-etcd, python-etcd.
    for method in ["PUT", "POST", "DELETE", "PATCH"] {
        let req = with_headers(method, "/v2/keys/a", &[("User-Agent", "curl/8.5.0")]);
        assert!(csrf::refuse(&req, || panic!("no member list needed")).is_none());
    }
}

#[test]
fn a_write_from_the_page_without_the_header_gets_403_json() {
    let from_page = [
        ("Referer", "http://127.0.0.1:4001/mod/dashboard/"),
        ("Referer", "http://localhost:4001/mod/dashboard/#keys"),
        ("Referer", "https://10.0.0.5:4001/mod/dashboard"),
        ("Origin", "http://127.0.0.1:4002"),
    ];
    for (name, value) in from_page {
        for method in ["PUT", "POST", "DELETE"] {
            let req = with_headers(method, "/v2/keys/a", &[(name, value)]);
            let r = csrf::refuse(&req, members).unwrap_or_else(|| panic!("{name}: {value}"));
            assert_eq!(r.status, 403);
            assert_eq!(r.header("content-type"), Some("application/json"));
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(body["message"], csrf::MESSAGE);
        }
    }
    // v1 writes too.
    let req = with_headers("POST", "/v1/keys/a", &[("Origin", "http://127.0.0.1:4001")]);
    assert!(refused(&req));
}

#[test]
fn the_header_lets_the_page_write() {
    for headers in [
        [
            ("Origin", "http://127.0.0.1:4002"),
            ("X-Etcd-Dashboard", "1"),
        ],
        [
            ("Referer", "http://127.0.0.1:4001/mod/dashboard/"),
            ("x-etcd-dashboard", " 1 "),
        ],
    ] {
        assert!(!refused(&with_headers("PUT", "/v2/keys/a", &headers)));
    }
    let wrong = [
        ("Origin", "http://127.0.0.1:4002"),
        ("X-Etcd-Dashboard", "yes"),
    ];
    assert!(refused(&with_headers("PUT", "/v2/keys/a", &wrong)));
}

#[test]
fn reads_and_preflights_are_never_refused() {
    for method in ["GET", "HEAD", "OPTIONS"] {
        let req = with_headers(
            method,
            "/v2/keys/a",
            &[("Referer", "http://h/mod/dashboard/")],
        );
        assert!(!refused(&req), "{method}");
    }
}

#[test]
fn other_sites_and_cors_applications_are_left_as_etcd_0_4_left_them() {
    for (name, value) in [
        ("Origin", "http://app.example"),
        ("Origin", "http://127.0.0.1:4003"),
        ("Origin", "null"),
        ("Referer", "http://app.example/admin"),
        ("Referer", "http://127.0.0.1:4001/mod/dashboardish"),
        ("Referer", "http://127.0.0.1:4001/v2/keys/mod/dashboard/"),
    ] {
        assert!(
            !refused(&with_headers("PUT", "/v2/keys/a", &[(name, value)])),
            "{name}: {value}"
        );
    }
}

#[test]
fn the_client_port_refuses_before_the_write_reaches_the_store() {
    // The state thread never answers here: a write that got past the rule
    // would come back 500 / errorCode 300, not 403.
    let api = api(Mode::Member);
    let req = with_headers(
        "PUT",
        "/v2/keys/a",
        &[("Referer", "http://127.0.0.1:4001/mod/dashboard/")],
    );
    assert_eq!(call_in_memory(&api, req).unwrap().status, 403);
    let req = with_headers("PUT", "/v2/keys/a", &[]);
    assert_ne!(call_in_memory(&api, req).unwrap().status, 403);
}
