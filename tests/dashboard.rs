//! The dashboard on the real binary: its files over HTTP and HTTPS, the
//! rule that refuses writes from the page without its header, and CORS
//! between members (the page served by one member asks the others).
//! The page itself is driven in a browser by `scripts/dashboard-test`.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{Etcd, TempDir, request, try_request, wait_for};

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

#[test]
fn the_page_and_its_files_are_served_with_their_types() {
    let dir = TempDir::new("dash-files");
    let e = Etcd::start(dir.path(), "m1", &[]);
    let r = e.get("/mod/dashboard/");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("Cache-Control"), Some("no-cache"));
    assert!(r.text().contains("data-test=\"leader\""));
    let js = e.get("/mod/dashboard/js/main.js");
    assert_eq!(
        js.header("Content-Type"),
        Some("text/javascript; charset=utf-8")
    );
    let etag = js.header("ETag").expect("ETag").to_string();
    let again = request(
        &e.client,
        "GET",
        "/mod/dashboard/js/main.js",
        &[("If-None-Match", &etag)],
        b"",
    );
    assert_eq!((again.status, again.body.len()), (304, 0));
    let r = e.get("/mod/dashboard");
    assert_eq!(
        (r.status, r.header("Location")),
        (301, Some("/mod/dashboard/"))
    );
    assert_eq!(e.get("/mod/dashboard/missing.js").status, 404);
    assert_eq!(e.get("/mod/other").status, 404);
}

#[test]
fn a_write_from_the_page_needs_its_header_and_other_clients_do_not() {
    let dir = TempDir::new("dash-csrf");
    let e = Etcd::start(dir.path(), "m1", &[]);
    let page = format!("http://{}/mod/dashboard/", e.client);
    let r = request(
        &e.client,
        "PUT",
        "/v2/keys/a",
        &[FORM, ("Referer", &page)],
        b"value=1",
    );
    assert_eq!(r.status, 403);
    assert!(r.text().contains("X-Etcd-Dashboard: 1"), "{}", r.text());
    assert_eq!(
        e.get("/v2/keys/a").status,
        404,
        "the refused write did nothing"
    );
    let own_origin = format!("http://{}", e.client);
    let r = request(
        &e.client,
        "DELETE",
        "/v2/keys/a",
        &[("Origin", own_origin.as_str())],
        b"",
    );
    assert_eq!(r.status, 403);
    let r = request(
        &e.client,
        "PUT",
        "/v2/keys/a",
        &[FORM, ("Referer", &page), ("X-Etcd-Dashboard", "1")],
        b"value=1",
    );
    assert_eq!(r.status, 201);
    // curl and the client libraries send neither Referer nor Origin.
    assert_eq!(e.put("/v2/keys/a", "value=2").status, 200);
    // A page elsewhere is left as etcd 0.4 left it (no CORS, no refusal).
    let r = request(
        &e.client,
        "PUT",
        "/v2/keys/a",
        &[FORM, ("Origin", "http://app.example")],
        b"value=3",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Access-Control-Allow-Origin"), None);
}

#[test]
fn members_allow_each_other_s_origins_and_no_others() {
    let dir = TempDir::new("dash-cors");
    let first = Etcd::start(dir.path(), "m1", &[]);
    let mut second = Etcd::new(dir.path(), "m2", &["-peers", &first.peer]);
    second.spawn();
    second.wait_ready();
    wait_for("both members listed", Duration::from_secs(15), || {
        (first.machines()?.len() == 2).then_some(())
    });
    let origin = format!("http://{}", second.client);
    let preflight = request(
        &first.client,
        "OPTIONS",
        "/v2/keys/a",
        &[
            ("Origin", origin.as_str()),
            ("Access-Control-Request-Method", "PUT"),
            (
                "Access-Control-Request-Headers",
                "authorization,x-etcd-dashboard",
            ),
        ],
        b"",
    );
    assert_eq!(preflight.status, 200);
    assert_eq!(
        preflight.header("Access-Control-Allow-Origin"),
        Some(origin.as_str())
    );
    let allowed = preflight
        .header("Access-Control-Allow-Headers")
        .unwrap_or_default();
    assert!(allowed.contains("x-etcd-dashboard") && allowed.contains("authorization"));
    let health = request(&first.client, "GET", "/health", &[("Origin", &origin)], b"");
    assert_eq!(
        health.header("Access-Control-Allow-Origin"),
        Some(origin.as_str())
    );
    let stranger = request(
        &first.client,
        "GET",
        "/health",
        &[("Origin", "http://127.0.0.1:1")],
        b"",
    );
    assert_eq!(stranger.header("Access-Control-Allow-Origin"), None);
    // A write from the other member's page: refused without the header.
    let form = [FORM, ("Origin", origin.as_str())];
    let r = try_request(&first.client, "PUT", "/v2/keys/x", &form, b"value=1").unwrap();
    assert_eq!(r.status, 403);
}

#[test]
fn the_page_is_served_over_https() {
    let dir = TempDir::new("dash-https");
    let certs: PathBuf = dir.path().join("certs");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/gen-certs.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(&certs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cert = |n: &str| certs.join(n).display().to_string();
    let mut e = Etcd::new(dir.path(), "tls", &[]);
    e.extra = vec![
        "-cert-file".into(),
        cert("server-chain.crt"),
        "-key-file".into(),
        cert("server-rsa.key"),
    ];
    e.spawn();
    let url = format!("https://{}/mod/dashboard/", e.client);
    let page = wait_for("the HTTPS client port", Duration::from_secs(15), || {
        let out = Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "5",
                "--cacert",
                &cert("ca.crt"),
                "-i",
                &url,
            ])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    });
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.to_ascii_lowercase()
            .contains("content-type: text/html; charset=utf-8")
    );
    assert!(page.contains("data-test=\"watch-start\""));
}

/// `Basic` credentials for `user:password` (ASCII only).
fn basic(user_pass: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("Basic ");
    for chunk in user_pass.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

#[test]
fn with_auth_on_the_page_loads_preflights_pass_and_refusals_say_why() {
    let dir = TempDir::new("dash-auth");
    let e = Etcd::start(dir.path(), "m1", &[]);
    let c = e.client.as_str();
    let json = ("Content-Type", "application/json");
    for (path, body, want) in [
        ("users/root", r#"{"user":"root","password":"rootpw"}"#, 201),
        (
            "roles/app",
            r#"{"role":"app","permissions":{"kv":{"read":["/app/*"],"write":[]}}}"#,
            201,
        ),
        (
            "users/alice",
            r#"{"user":"alice","password":"alicepw","roles":["app"]}"#,
            200,
        ),
        ("enable", "", 200),
    ] {
        let r = request(
            c,
            "PUT",
            &format!("/v2/auth/{path}"),
            &[json],
            body.as_bytes(),
        );
        assert_eq!(r.status, want, "{path}: {}", r.text());
    }
    let root = basic("root:rootpw");
    let empty_guest = r#"{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}"#;
    let r = request(
        c,
        "PUT",
        "/v2/auth/roles/guest",
        &[json, ("Authorization", &root)],
        empty_guest.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // The page itself needs no credentials: it asks for them.
    assert_eq!(e.get("/mod/dashboard/").status, 200);
    assert_eq!(e.get("/mod/dashboard/js/auth.js").status, 200);
    // A browser's preflight carries no credentials and must pass.
    let origin = format!("http://{c}");
    let preflight = request(
        c,
        "OPTIONS",
        "/v2/keys/app/",
        &[
            ("Origin", origin.as_str()),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
        b"",
    );
    assert_eq!(preflight.status, 200);
    assert_eq!(
        preflight.header("Access-Control-Allow-Origin"),
        Some(origin.as_str())
    );
    // Refusals the page can read across members: why, and the CORS headers.
    let alice = basic("alice:alicepw");
    let wrong = basic("alice:nope");
    for (who, header, why) in [
        ("guest", None, "credentials"),
        ("wrong password", Some(wrong.as_str()), "credentials"),
        ("alice", Some(alice.as_str()), "permission"),
    ] {
        let mut headers = vec![("Origin", origin.as_str())];
        if let Some(h) = header {
            headers.push(("Authorization", h));
        }
        let r = request(c, "GET", "/v2/keys/?sorted=true", &headers, b"");
        assert_eq!(r.status, 401, "{who}");
        assert_eq!(r.header("X-Etcd-Auth-Refused"), Some(why), "{who}");
        assert_eq!(
            r.header("Access-Control-Allow-Origin"),
            Some(origin.as_str()),
            "{who}"
        );
        let exposed = r
            .header("Access-Control-Expose-Headers")
            .unwrap_or_default();
        assert!(exposed.contains("X-Etcd-Auth-Refused"), "{who}: {exposed}");
    }
    // The listing the page makes of a directory, with its trailing slash.
    let r = request(
        c,
        "PUT",
        "/v2/keys/app/x",
        &[FORM, ("Authorization", &root)],
        b"value=1",
    );
    assert_eq!(r.status, 201);
    let r = request(
        c,
        "GET",
        "/v2/keys/app/?sorted=true",
        &[("Authorization", &alice)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("/app/x"));
}
