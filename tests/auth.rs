//! etcd 2.x's v2 auth through the real binary: the `/v2/auth` API (the
//! bodies and statuses are the ones Debian's etcd 3.4 with `--enable-v2`
//! answered to the same requests), and its checks on v2 keys, v1 keys,
//! watches, stats and the admin API, on a follower too, across a restart,
//! and what a password check costs.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Etcd, Resp, TempDir, request, request_l, try_request, wait_for};

const ROOT: &str = "root:rootpw";
const ALICE: &str = "alice:alicepw";

fn basic(user_pass: &str) -> String {
    // RFC 4648 base64, written out: the tests need no crate for it.
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = user_pass.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

/// A request with an optional `user:password` and a body of `content_type`.
fn call(addr: &str, method: &str, path: &str, body: &str, user: Option<&str>) -> Resp {
    let auth = user.map(basic);
    let mut headers = Vec::new();
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let form = path.starts_with("/v2/keys") || path.starts_with("/v1/");
    let content_type = if form {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    if !body.is_empty() {
        headers.push(("Content-Type", content_type));
    }
    request(addr, method, path, &headers, body.as_bytes())
}

fn status(addr: &str, method: &str, path: &str, body: &str, user: Option<&str>) -> u16 {
    call(addr, method, path, body, user).status
}

fn machine(tag: &str, extra: &[&str]) -> (TempDir, Etcd) {
    let dir = TempDir::new(tag);
    let e = Etcd::start(dir.path(), "m1", extra);
    (dir, e)
}

/// root, a role `app` (read and write `/app/*`, read `/info` exactly), a
/// user alice holding it, auth on, and the guest left reading `/pub/*`.
fn set_up(addr: &str) {
    let steps = [
        (
            "PUT",
            "/v2/auth/users/root",
            r#"{"user":"root","password":"rootpw"}"#,
            201,
        ),
        (
            "PUT",
            "/v2/auth/roles/app",
            r#"{"role":"app","permissions":{"kv":{"read":["/app/*","/info"],"write":["/app/*"]}}}"#,
            201,
        ),
        (
            "PUT",
            "/v2/auth/users/alice",
            r#"{"user":"alice","password":"alicepw","roles":["app"]}"#,
            200,
        ),
        ("PUT", "/v2/auth/enable", "", 200),
        (
            "PUT",
            "/v2/auth/roles/guest",
            r#"{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}"#,
            200,
        ),
        (
            "PUT",
            "/v2/auth/roles/guest",
            r#"{"role":"guest","grant":{"kv":{"read":["/pub/*"]}}}"#,
            200,
        ),
    ];
    for (method, path, body, want) in steps {
        let r = call(addr, method, path, body, Some(ROOT));
        assert_eq!(r.status, want, "{method} {path}: {}", r.text());
    }
}

fn assert_answer(r: &Resp, status: u16, body: &str) {
    assert_eq!((r.status, r.text().as_str()), (status, body));
}

#[test]
fn every_auth_endpoint_answers_as_etcd_2x() {
    let (_d, e) = machine("auth-api", &[]);
    let c = e.client.as_str();
    let a = |m: &str, p: &str, b: &str, u: Option<&str>| call(c, m, p, b, u);
    let root = Some(ROOT);
    // Auth off: anyone manages users and roles.
    assert_answer(
        &a("GET", "/v2/auth/enable", "", None),
        200,
        "{\"enabled\":false}\n",
    );
    assert_answer(
        &a("GET", "/v2/auth/users", "", None),
        200,
        "{\"users\":null}\n",
    );
    assert_answer(
        &a("GET", "/v2/auth/roles", "", None),
        200,
        "{\"roles\":[{\"role\":\"root\",\"permissions\":{\"kv\":{\"read\":[\"/*\"],\"write\":[\"/*\"]}}}]}\n",
    );
    assert_answer(
        &a("PUT", "/v2/auth/enable", "", None),
        409,
        r#"{"message":"auth: No root user available, please create one"}"#,
    );
    assert_answer(
        &a("PUT", "/v2/auth/users/bob", r#"{"user":"bob"}"#, None),
        400,
        r#"{"message":"auth: Cannot create user bob with an empty password"}"#,
    );
    assert_answer(
        &a("PUT", "/v2/auth/users/bob", "{", None),
        400,
        r#"{"message":"Invalid JSON in request body."}"#,
    );
    assert_answer(
        &a(
            "PUT",
            "/v2/auth/users/bob",
            r#"{"user":"bob","password":"bobpw"}"#,
            None,
        ),
        201,
        "{\"user\":\"bob\",\"roles\":null}\n",
    );
    let r = a(
        "PUT",
        "/v2/auth/users/bob",
        r#"{"user":"bob","password":"bobpw2"}"#,
        None,
    );
    assert_answer(&r, 200, "{\"user\":\"bob\",\"roles\":[]}\n");
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_answer(
        &a("PUT", "/v2/auth/roles/r1", r#"{"role":"r1"}"#, None),
        201,
        "{\"role\":\"r1\",\"permissions\":{\"kv\":{\"read\":null,\"write\":null}}}\n",
    );
    assert_answer(
        &a(
            "PUT",
            "/v2/auth/roles/r1",
            r#"{"role":"r1","grant":{"kv":{"read":["/a/*"],"write":["/a/x"]}}}"#,
            None,
        ),
        200,
        "{\"role\":\"r1\",\"permissions\":{\"kv\":{\"read\":[\"/a/*\"],\"write\":[\"/a/x\"]}}}\n",
    );
    assert_answer(
        &a(
            "PUT",
            "/v2/auth/roles/r1",
            r#"{"role":"r1","grant":{"kv":{"write":["/a/x"]}}}"#,
            None,
        ),
        409,
        r#"{"message":"auth: Granting duplicate write permission /a/x"}"#,
    );
    assert_answer(
        &a(
            "PUT",
            "/v2/auth/users/bob",
            r#"{"user":"bob","grant":["r1"]}"#,
            None,
        ),
        200,
        "{\"user\":\"bob\",\"roles\":[\"r1\"]}\n",
    );
    assert_answer(
        &a("GET", "/v2/auth/users/bob", "", None),
        200,
        "{\"user\":\"bob\",\"roles\":[{\"role\":\"r1\",\"permissions\":{\"kv\":{\"read\":[\"/a/*\"],\"write\":[\"/a/x\"]}}}]}\n",
    );
    assert_answer(
        &a(
            "PUT",
            "/v2/auth/users/bob",
            r#"{"user":"bob","revoke":["r9"]}"#,
            None,
        ),
        409,
        r#"{"message":"auth: Revoking ungranted role r9 for user bob"}"#,
    );
    assert_answer(
        &a(
            "PUT",
            "/v2/auth/users/root",
            r#"{"user":"root","password":"rootpw"}"#,
            None,
        ),
        201,
        "{\"user\":\"root\",\"roles\":[\"root\"]}\n",
    );
    assert_answer(
        &a("GET", "/v2/auth/users", "", None),
        200,
        "{\"users\":[{\"user\":\"bob\",\"roles\":[{\"role\":\"r1\",\"permissions\":{\"kv\":{\"read\":[\"/a/*\"],\"write\":[\"/a/x\"]}}}]},{\"user\":\"root\",\"roles\":[{\"role\":\"root\",\"permissions\":{\"kv\":{\"read\":[\"/*\"],\"write\":[\"/*\"]}}}]}]}\n",
    );
    assert_answer(&a("PUT", "/v2/auth/enable", "", None), 200, "");
    assert_answer(
        &a("GET", "/v2/auth/enable", "", None),
        200,
        "{\"enabled\":true}\n",
    );
    // Auth on: root only, and the guest role was made with full access.
    for (method, path) in [
        ("GET", "/v2/auth/users"),
        ("GET", "/v2/auth/users/bob"),
        ("GET", "/v2/auth/roles"),
        ("GET", "/v2/auth/roles/r1"),
        ("DELETE", "/v2/auth/users/bob"),
        ("DELETE", "/v2/auth/roles/r1"),
        ("PUT", "/v2/auth/enable"),
        ("DELETE", "/v2/auth/enable"),
    ] {
        for user in [
            None,
            Some("bob:bobpw2"),
            Some("root:wrong"),
            Some("nobody:x"),
        ] {
            let r = a(method, path, "", user);
            assert_answer(&r, 401, r#"{"message":"Insufficient credentials"}"#);
            assert_eq!(r.header("WWW-Authenticate"), Some("Basic realm=\"etcd\""));
        }
    }
    assert_answer(
        &a("GET", "/v2/auth/roles/guest", "", root),
        200,
        "{\"role\":\"guest\",\"permissions\":{\"kv\":{\"read\":[\"/*\"],\"write\":[\"/*\"]}}}\n",
    );
    assert_answer(
        &a("PUT", "/v2/auth/enable", "", root),
        409,
        r#"{"message":"auth: already enabled"}"#,
    );
    assert_answer(
        &a("DELETE", "/v2/auth/users/root", "", root),
        403,
        r#"{"message":"auth: Cannot delete root user while auth is enabled."}"#,
    );
    assert_answer(
        &a("DELETE", "/v2/auth/roles/root", "", root),
        403,
        r#"{"message":"auth: Cannot modify role root: is root role."}"#,
    );
    assert_answer(
        &a("DELETE", "/v2/auth/users/nobody", "", root),
        404,
        r#"{"message":"auth: User nobody does not exist"}"#,
    );
    assert_answer(
        &a("DELETE", "/v2/auth/roles/nosuch", "", root),
        404,
        r#"{"message":"auth: Role nosuch doesn't exist."}"#,
    );
    assert_answer(
        &a("GET", "/v2/auth/users/a/b", "", root),
        400,
        r#"{"message":"Invalid path"}"#,
    );
    let r = a("PATCH", "/v2/auth/users/bob", "", root);
    assert_answer(&r, 405, "Method Not Allowed\n");
    assert_eq!(r.header("Allow"), Some("GET,PUT,DELETE"));
    assert_answer(&a("DELETE", "/v2/auth/users/bob", "", root), 200, "");
    assert_answer(&a("DELETE", "/v2/auth/roles/r1", "", root), 200, "");
    assert_answer(&a("DELETE", "/v2/auth/enable", "", root), 200, "");
    assert_answer(
        &a("DELETE", "/v2/auth/enable", "", None),
        409,
        r#"{"message":"auth: already disabled"}"#,
    );
    // Users and roles are not in the key space, not even hidden.
    let all = call(c, "GET", "/v2/keys/?recursive=true", "", None).text();
    assert!(!all.contains("root") && !all.contains("bobpw"), "{all}");
    assert_eq!(status(c, "GET", "/v2/keys/2/users", "", None), 404);
}

#[test]
fn v2_keys_are_checked_by_key_access_and_recursion() {
    let (_d, e) = machine("auth-keys", &[]);
    let c = e.client.as_str();
    set_up(c);
    for (key, value) in [
        ("/app/a", "1"),
        ("/app/dir/b", "2"),
        ("/info", "i"),
        ("/pub/x", "px"),
        ("/secret", "s"),
    ] {
        assert_eq!(
            status(
                c,
                "PUT",
                &format!("/v2/keys{key}"),
                &format!("value={value}"),
                Some(ROOT)
            ),
            201
        );
    }
    let alice = Some(ALICE);
    // (method, path, body, user, status)
    let cases: &[(&str, &str, &str, Option<&str>, u16)] = &[
        ("GET", "/v2/keys/app/a", "", alice, 200),
        ("HEAD", "/v2/keys/app/a", "", alice, 200),
        ("PUT", "/v2/keys/app/a", "value=9", alice, 200),
        ("POST", "/v2/keys/app/queue", "value=job", alice, 201),
        ("DELETE", "/v2/keys/app/a", "", alice, 200),
        ("GET", "/v2/keys/app/missing", "", alice, 404),
        // Recursive needs a prefix grant covering the key as written.
        ("GET", "/v2/keys/app/?recursive=true", "", alice, 200),
        ("GET", "/v2/keys/app?recursive=true", "", alice, 401),
        ("DELETE", "/v2/keys/app/dir?recursive=true", "", alice, 200),
        // An exact grant: that key only, read only.
        ("GET", "/v2/keys/info", "", alice, 200),
        ("PUT", "/v2/keys/info", "value=no", alice, 401),
        ("GET", "/v2/keys/info?recursive=true", "", alice, 401),
        ("GET", "/v2/keys/pub/x", "", alice, 401),
        // Nothing else, and no escape through `..`.
        ("GET", "/v2/keys/secret", "", alice, 401),
        ("GET", "/v2/keys/app/../secret", "", alice, 401),
        ("GET", "/v2/keys/app/%2E%2E/secret", "", alice, 401),
        ("GET", "/v2/keys/?recursive=true", "", alice, 401),
        ("PUT", "/v2/keys/other", "value=x", alice, 401),
        // The guest: `/pub/*` to read, nothing to write.
        ("GET", "/v2/keys/pub/x", "", None, 200),
        ("GET", "/v2/keys/pub/?recursive=true", "", None, 200),
        ("PUT", "/v2/keys/pub/x", "value=no", None, 401),
        ("GET", "/v2/keys/app/queue", "", None, 401),
        ("GET", "/v2/keys/pub", "", None, 401),
        // Root may do everything.
        ("GET", "/v2/keys/?recursive=true", "", Some(ROOT), 200),
        ("DELETE", "/v2/keys/secret", "", Some(ROOT), 200),
    ];
    for (method, path, body, user, want) in cases {
        let r = call(c, method, path, body, *user);
        assert_eq!(r.status, *want, "{method} {path} as {user:?}: {}", r.text());
    }
    let r = call(c, "GET", "/v2/keys/secret", "", alice);
    assert_answer(
        &r,
        401,
        "{\"errorCode\":110,\"message\":\"The request requires user authentication\",\"cause\":\"Insufficient credentials\",\"index\":0}\n",
    );
    assert_eq!(r.header("WWW-Authenticate"), Some("Basic realm=\"etcd\""));
    assert_eq!(r.header("X-Etcd-Index"), Some("0"));
    // A revoke takes effect on the next request.
    let revoke = r#"{"role":"app","revoke":{"kv":{"write":["/app/*"]}}}"#;
    assert_eq!(
        status(c, "PUT", "/v2/auth/roles/app", revoke, Some(ROOT)),
        200
    );
    assert_eq!(status(c, "PUT", "/v2/keys/app/a", "value=1", alice), 401);
    assert_eq!(
        status(c, "GET", "/v2/keys/app/queue?recursive=true", "", alice),
        200
    );
    // Auth off again: everything is open and credentials are not looked at.
    assert_eq!(status(c, "DELETE", "/v2/auth/enable", "", Some(ROOT)), 200);
    assert_eq!(status(c, "PUT", "/v2/keys/other", "value=x", None), 201);
    assert_eq!(
        status(c, "GET", "/v2/keys/other", "", Some("alice:wrong")),
        200
    );
}

#[test]
fn wrong_or_missing_credentials_are_401_with_a_challenge() {
    let (_d, e) = machine("auth-401", &[]);
    let c = e.client.as_str();
    set_up(c);
    assert_eq!(
        status(c, "PUT", "/v2/keys/app/a", "value=1", Some(ROOT)),
        201
    );
    let bad_headers = [
        basic("alice:wrong"),
        basic("nobody:alicepw"),
        basic("alice"),
        "Bearer abc".to_string(),
        "Basic !!!".to_string(),
    ];
    for h in &bad_headers {
        let r = request(c, "GET", "/v2/keys/app/a", &[("Authorization", h)], b"");
        assert_eq!(r.status, 401, "{h}");
        assert_eq!(r.header("WWW-Authenticate"), Some("Basic realm=\"etcd\""));
        assert_eq!(r.header("X-Etcd-Auth-Refused"), Some("credentials"));
        assert_eq!(r.json()["errorCode"], 110);
        // A wrong password is not taken for the guest either.
        let r = request(c, "GET", "/v2/keys/pub/x", &[("Authorization", h)], b"");
        assert_eq!(r.status, 401, "{h}");
    }
    // Missing: the guest, who may not read /app.
    let r = call(c, "GET", "/v2/keys/app/a", "", None);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("WWW-Authenticate"), Some("Basic realm=\"etcd\""));
    assert_eq!(r.header("X-Etcd-Auth-Refused"), Some("credentials"));
    assert_eq!(status(c, "GET", "/v2/keys/app/a", "", Some(ALICE)), 200);
    // Good credentials, no grant: the same 2.x answer, and the header says
    // that a password is not the problem.
    for (path, body) in [
        (
            "/v2/keys/other",
            "{\"errorCode\":110,\"message\":\"The request requires user authentication\",\"cause\":\"Insufficient credentials\",\"index\":0}\n",
        ),
        (
            "/v2/auth/users",
            "{\"message\":\"Insufficient credentials\"}",
        ),
    ] {
        let r = call(c, "GET", path, "", Some(ALICE));
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(String::from_utf8_lossy(&r.body), body, "{path}");
        assert_eq!(r.header("WWW-Authenticate"), Some("Basic realm=\"etcd\""));
        assert_eq!(
            r.header("X-Etcd-Auth-Refused"),
            Some("permission"),
            "{path}"
        );
    }
    let r = call(c, "GET", "/v2/auth/users", "", Some("alice:wrong"));
    assert_eq!(r.header("X-Etcd-Auth-Refused"), Some("credentials"));
}

#[test]
fn v1_keys_and_watches_are_checked_like_v2() {
    let (_d, e) = machine("auth-v1", &[]);
    let c = e.client.as_str();
    set_up(c);
    assert_eq!(
        status(c, "PUT", "/v2/keys/app/a", "value=1", Some(ROOT)),
        201
    );
    assert_eq!(
        status(c, "PUT", "/v2/keys/secret", "value=s", Some(ROOT)),
        201
    );
    let alice = Some(ALICE);
    let cases: &[(&str, &str, &str, Option<&str>, u16)] = &[
        ("GET", "/v1/keys/app/a", "", alice, 200),
        ("PUT", "/v1/keys/app/b", "value=2", alice, 200),
        ("POST", "/v1/keys/app/b", "value=3&prevValue=2", alice, 200),
        ("DELETE", "/v1/keys/app/b", "", alice, 200),
        ("GET", "/v1/keys/secret", "", alice, 401),
        ("PUT", "/v1/keys/secret", "value=x", alice, 401),
        ("DELETE", "/v1/keys/secret", "", alice, 401),
        ("GET", "/v1/keys/app/a", "", None, 401),
        ("PUT", "/v1/keys/pub/x", "value=x", None, 401),
        ("GET", "/v1/keys/secret", "", Some("alice:bad"), 401),
        // A v1 watch covers its prefix: a prefix grant is needed.
        ("POST", "/v1/watch/secret", "index=1", alice, 401),
        ("POST", "/v1/watch/app", "index=1", alice, 401),
        ("POST", "/v1/watch/app/", "index=1", alice, 200),
        ("POST", "/v1/watch/app/", "index=1", None, 401),
    ];
    for (method, path, body, user, want) in cases {
        let r = call(c, method, path, body, *user);
        assert_eq!(r.status, *want, "{method} {path} as {user:?}: {}", r.text());
    }
    let r = call(c, "GET", "/v1/keys/secret", "", alice);
    assert_eq!(r.json()["errorCode"], 110);
    assert_eq!(r.header("WWW-Authenticate"), Some("Basic realm=\"etcd\""));
    let r = call(c, "POST", "/v1/watch/app/", "index=1", alice);
    assert_eq!(r.json()["key"], "/app/a");
}

/// A watch on its own connection: the request goes out now, the bytes are
/// read as they come.
struct OpenWatch {
    stream: TcpStream,
    got: Vec<u8>,
}

impl OpenWatch {
    fn start(addr: &str, path: &str, user: &str) -> OpenWatch {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {}\r\n\r\n",
            basic(user)
        );
        stream.write_all(head.as_bytes()).unwrap();
        OpenWatch {
            stream,
            got: Vec::new(),
        }
    }

    /// Reads for up to `limit`, until `until` shows up.
    fn read_until(&mut self, until: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline && !String::from_utf8_lossy(&self.got).contains(until) {
            match self.stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
        String::from_utf8_lossy(&self.got).into_owned()
    }
}

fn watchers(addr: &str) -> u64 {
    let r = request(addr, "GET", "/v2/stats/store", &[], b"");
    r.json()["watchers"].as_u64().unwrap_or(0)
}

#[test]
fn a_watch_sees_only_what_its_user_may_read() {
    let (_d, e) = machine("auth-watch", &[]);
    let c = e.client.as_str();
    set_up(c);
    // Admission: a recursive watch needs a prefix grant on the key as written.
    assert_eq!(
        status(
            c,
            "GET",
            "/v2/keys/?wait=true&recursive=true",
            "",
            Some(ALICE)
        ),
        401
    );
    assert_eq!(
        status(
            c,
            "GET",
            "/v2/keys/app?wait=true&recursive=true",
            "",
            Some(ALICE)
        ),
        401
    );
    assert_eq!(
        status(c, "GET", "/v2/keys/secret?wait=true", "", Some(ALICE)),
        401
    );
    assert_eq!(
        status(c, "GET", "/v2/keys/app/?wait=true&recursive=true", "", None),
        401
    );

    // A streaming watch over /app/: the change made while alice's read of
    // /app/* was revoked is never reported, the ones before and after are.
    let mut w = OpenWatch::start(
        c,
        "/v2/keys/app/?wait=true&recursive=true&stream=true",
        ALICE,
    );
    wait_for("the watch", Duration::from_secs(5), || {
        (watchers(c) == 1).then_some(())
    });
    assert_eq!(
        status(c, "PUT", "/v2/keys/app/one", "value=1", Some(ROOT)),
        201
    );
    assert!(
        w.read_until("/app/one", Duration::from_secs(5))
            .contains("/app/one")
    );
    let revoke = r#"{"role":"app","revoke":{"kv":{"read":["/app/*"]}}}"#;
    assert_eq!(
        status(c, "PUT", "/v2/auth/roles/app", revoke, Some(ROOT)),
        200
    );
    assert_eq!(
        status(c, "PUT", "/v2/keys/app/hidden", "value=2", Some(ROOT)),
        201
    );
    let seen = w.read_until("/app/hidden", Duration::from_millis(700));
    assert!(!seen.contains("/app/hidden"), "{seen}");
    let grant = r#"{"role":"app","grant":{"kv":{"read":["/app/*"]}}}"#;
    assert_eq!(
        status(c, "PUT", "/v2/auth/roles/app", grant, Some(ROOT)),
        200
    );
    assert_eq!(
        status(c, "PUT", "/v2/keys/app/three", "value=3", Some(ROOT)),
        201
    );
    let seen = w.read_until("/app/three", Duration::from_secs(5));
    assert!(seen.contains("/app/three"), "{seen}");
    assert!(!seen.contains("/app/hidden"), "{seen}");
    drop(w);

    // A watch from the history is judged by the permissions of now.
    let hidden_index = request(
        c,
        "GET",
        "/v2/keys/app/hidden",
        &[("Authorization", &basic(ROOT))],
        b"",
    )
    .json()["node"]["modifiedIndex"]
        .as_u64()
        .unwrap();
    assert_eq!(
        status(c, "PUT", "/v2/auth/roles/app", revoke, Some(ROOT)),
        200
    );
    let r = call(
        c,
        "GET",
        &format!("/v2/keys/app/?wait=true&recursive=true&waitIndex={hidden_index}"),
        "",
        Some(ALICE),
    );
    assert_eq!(r.status, 401, "admission is checked again");
    assert_eq!(
        status(c, "PUT", "/v2/auth/roles/app", grant, Some(ROOT)),
        200
    );
    let r = call(
        c,
        "GET",
        &format!("/v2/keys/app/?wait=true&recursive=true&waitIndex={hidden_index}"),
        "",
        Some(ALICE),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["node"]["key"], "/app/hidden", "readable again now");

    // A user removed while watching sees nothing more.
    let mut w = OpenWatch::start(
        c,
        "/v2/keys/app/?wait=true&recursive=true&stream=true",
        ALICE,
    );
    wait_for("the watch", Duration::from_secs(5), || {
        (watchers(c) >= 1).then_some(())
    });
    assert_eq!(
        status(c, "PUT", "/v2/keys/app/ping", "value=p", Some(ROOT)),
        201
    );
    assert!(
        w.read_until("/app/ping", Duration::from_secs(5))
            .contains("/app/ping")
    );
    assert_eq!(
        status(c, "DELETE", "/v2/auth/users/alice", "", Some(ROOT)),
        200
    );
    assert_eq!(
        status(c, "PUT", "/v2/keys/app/four", "value=4", Some(ROOT)),
        201
    );
    let seen = w.read_until("/app/four", Duration::from_millis(700));
    assert!(!seen.contains("/app/four"), "{seen}");
}

#[test]
fn stats_stay_open_and_admin_changes_need_root() {
    let (_d, e) = machine("auth-admin", &[]);
    let (c, p) = (e.client.as_str(), e.peer.as_str());
    set_up(c);
    // As in etcd 2.x: stats, the member list, machines, leader, health,
    // version and metrics answer everyone, whatever the guest may do.
    for path in [
        "/v2/stats/self",
        "/v2/stats/store",
        "/v2/stats/leader",
        "/v1/stats/self",
        "/v2/members",
        "/v2/machines",
        "/v2/leader",
        "/health",
        "/version",
        "/metrics",
    ] {
        assert_eq!(status(c, "GET", path, "", None), 200, "{path}");
        assert_eq!(
            status(c, "GET", path, "", Some("alice:wrong")),
            200,
            "{path}"
        );
    }
    // The peer port's admin changes and backups: root only.
    let admin: &[(&str, &str, &str)] = &[
        ("PUT", "/v2/admin/config", r#"{"activeSize":5}"#),
        ("DELETE", "/v2/admin/machines/nobody", ""),
        ("GET", "/v2/admin/backup", ""),
    ];
    for (method, path, body) in admin {
        for user in [None, Some(ALICE), Some("root:wrong")] {
            let r = call(p, method, path, body, user);
            assert_eq!(r.status, 401, "{method} {path} as {user:?}");
            assert_eq!(r.header("WWW-Authenticate"), Some("Basic realm=\"etcd\""));
            assert_eq!(r.text(), r#"{"message":"Insufficient credentials"}"#);
        }
        let r = call(p, method, path, body, Some(ROOT));
        assert_eq!(r.status, 200, "{method} {path} as root: {}", r.text());
    }
    assert_eq!(
        call(p, "GET", "/v2/admin/config", "", None).text(),
        "{\"activeSize\":5,\"removeDelay\":1800,\"syncInterval\":5}\n"
    );
    // Reading the members and settings, and the health check, stay open.
    assert_eq!(status(p, "GET", "/v2/admin/machines", "", None), 200);
    assert_eq!(status(p, "GET", "/v2/admin/health", "", None), 200);
}

#[test]
fn a_follower_checks_too_and_its_redirects_keep_the_credentials() {
    let dir = TempDir::new("auth-cluster");
    let machines = common::three_machines(dir.path(), &[]);
    let leader_peer = request(&machines[0].client, "GET", "/v2/leader", &[], b"").text();
    let leader = machines
        .iter()
        .find(|m| leader_peer == format!("http://{}", m.peer))
        .expect("the leader is one of the three");
    let follower = machines.iter().find(|m| m.name != leader.name).unwrap();
    let (l, f) = (leader.client.as_str(), follower.client.as_str());
    set_up(l);
    assert_eq!(
        status(l, "PUT", "/v2/keys/app/a", "value=1", Some(ROOT)),
        201
    );
    assert_eq!(
        status(l, "PUT", "/v2/keys/secret", "value=s", Some(ROOT)),
        201
    );
    wait_for(
        "the follower to apply it all",
        Duration::from_secs(10),
        || {
            let r = try_request(
                f,
                "GET",
                "/v2/keys/secret",
                &[("Authorization", &basic(ROOT))],
                b"",
            )
            .ok()?;
            (r.status == 200).then_some(())
        },
    );
    // Reads: the follower answers or refuses itself.
    assert_eq!(status(f, "GET", "/v2/keys/app/a", "", Some(ALICE)), 200);
    assert_eq!(status(f, "GET", "/v2/keys/secret", "", Some(ALICE)), 401);
    assert_eq!(status(f, "GET", "/v2/keys/secret", "", None), 401);
    assert_eq!(
        status(f, "GET", "/v2/keys/app/a", "", Some("alice:wrong")),
        401
    );
    assert_eq!(status(f, "GET", "/v1/keys/secret", "", Some(ALICE)), 401);
    // Writes: refused on the follower, or sent to the leader.
    assert_eq!(
        status(f, "PUT", "/v2/keys/secret", "value=x", Some(ALICE)),
        401
    );
    assert_eq!(status(f, "PUT", "/v2/keys/app/b", "value=x", None), 401);
    let r = call(f, "PUT", "/v2/keys/app/b?x=1", "value=2", Some(ALICE));
    assert_eq!(r.status, 307);
    assert_eq!(
        r.header("Location"),
        Some(format!("http://{l}/v2/keys/app/b?x=1").as_str())
    );
    // A client that sends its credentials again where it is sent (as
    // etcdctl and `curl -L --location-trusted` do) gets its write done.
    let auth = basic(ALICE);
    let form = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let r = request_l(f, "PUT", "/v2/keys/app/b", &form, b"value=2").unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    // The auth API: the follower checks root, then sends changes on.
    assert_eq!(status(f, "GET", "/v2/auth/users", "", None), 401);
    assert_eq!(status(f, "GET", "/v2/auth/users", "", Some(ROOT)), 200);
    let carol = r#"{"user":"carol","password":"carolpw","roles":["app"]}"#;
    assert_eq!(
        status(f, "PUT", "/v2/auth/users/carol", carol, Some(ALICE)),
        401
    );
    let r = call(f, "PUT", "/v2/auth/users/carol", carol, Some(ROOT));
    assert_eq!(r.status, 307);
    let auth = basic(ROOT);
    let json = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let r = request_l(f, "PUT", "/v2/auth/users/carol", &json, carol.as_bytes()).unwrap();
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "{\"user\":\"carol\",\"roles\":[\"app\"]}\n")
    );
    // And every machine learns of carol through the log.
    for m in &machines {
        wait_for("carol everywhere", Duration::from_secs(10), || {
            let r = try_request(
                &m.client,
                "GET",
                "/v2/keys/app/a",
                &[("Authorization", &basic("carol:carolpw"))],
                b"",
            )
            .ok()?;
            (r.status == 200).then_some(())
        });
    }
    // The peer port's admin changes on a follower: checked, then sent on.
    let fp = follower.peer.as_str();
    assert_eq!(
        status(fp, "PUT", "/v2/admin/config", r#"{"activeSize":5}"#, None),
        401
    );
    assert_eq!(
        status(
            fp,
            "PUT",
            "/v2/admin/config",
            r#"{"activeSize":5}"#,
            Some(ROOT)
        ),
        307
    );
}

#[test]
fn users_and_roles_survive_a_full_restart() {
    // Twice: once from the log alone, once from a snapshot.
    for (tag, extra) in [
        ("auth-restart-log", &[][..]),
        ("auth-restart-snap", &["-snapshot-count", "3"][..]),
    ] {
        let (_d, mut e) = machine(tag, extra);
        set_up(&e.client);
        assert_eq!(
            status(&e.client, "PUT", "/v2/keys/app/a", "value=1", Some(ROOT)),
            201
        );
        let snap_dir = e.data_dir.join("snap");
        let files = |dir: &std::path::Path| -> Vec<std::path::PathBuf> {
            std::fs::read_dir(dir)
                .map(|d| d.filter_map(|f| f.ok()).map(|f| f.path()).collect())
                .unwrap_or_default()
        };
        if !extra.is_empty() {
            for i in 0..5 {
                call(
                    &e.client,
                    "PUT",
                    &format!("/v2/keys/app/n{i}"),
                    "value=x",
                    Some(ROOT),
                );
            }
            wait_for("a snapshot", Duration::from_secs(10), || {
                (!files(&snap_dir).is_empty()).then_some(())
            });
        }
        // The whole cluster stops at once and starts again.
        e.kill();
        e.spawn();
        // From its very first answer the machine checks as before: the log
        // it is still re-applying never opens it up meanwhile.
        let c = e.client.clone();
        let first = wait_for("a first answer", Duration::from_secs(15), || {
            try_request(&c, "GET", "/v2/keys/app/a", &[], b"").ok()
        });
        assert_eq!(first.status, 401, "{tag}: {}", first.text());
        e.wait_ready();
        let c = e.client.as_str();
        assert_eq!(
            call(c, "GET", "/v2/auth/enable", "", None).text(),
            "{\"enabled\":true}\n",
            "{tag}"
        );
        assert_eq!(
            status(c, "GET", "/v2/keys/app/a", "", None),
            401,
            "{tag}: the guest is still restricted"
        );
        assert_eq!(
            status(c, "GET", "/v2/keys/app/a", "", Some(ALICE)),
            200,
            "{tag}"
        );
        assert_eq!(
            status(c, "GET", "/v2/keys/app/a", "", Some("alice:wrong")),
            401,
            "{tag}"
        );
        assert_eq!(
            status(c, "GET", "/v2/auth/users", "", Some(ROOT)),
            200,
            "{tag}"
        );
        assert_eq!(
            call(c, "GET", "/v2/auth/roles/app", "", Some(ROOT)).text(),
            "{\"role\":\"app\",\"permissions\":{\"kv\":{\"read\":[\"/app/*\",\"/info\"],\"write\":[\"/app/*\"]}}}\n",
            "{tag}"
        );
        // On disk: the salted hashes, never the passwords.
        let mut hashes = 0;
        for f in files(&e.data_dir.join("wal"))
            .into_iter()
            .chain(files(&snap_dir))
        {
            let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
            assert!(
                !text.contains("alicepw") && !text.contains("rootpw"),
                "{}",
                f.display()
            );
            hashes += text.matches("pbkdf2-sha256$100000$").count();
        }
        assert!(hashes >= 2, "{tag}: {hashes} hashes on disk");
    }
}

/// A counter of this machine's `/metrics`.
fn counter(addr: &str, name: &str) -> u64 {
    let r = request(addr, "GET", "/metrics", &[], b"");
    let text = String::from_utf8_lossy(&r.body).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics")) as u64
}

/// How many password hashes and refused logins `f` cost the machine.
fn cost(addr: &str, f: impl FnOnce()) -> (u64, u64) {
    let hashes = counter(addr, "etcd_auth_password_hashes_total");
    let failed = counter(addr, "etcd_auth_failed_logins_total");
    f();
    (
        counter(addr, "etcd_auth_password_hashes_total") - hashes,
        counter(addr, "etcd_auth_failed_logins_total") - failed,
    )
}

#[test]
fn every_failed_login_pays_a_full_hash_and_a_remembered_good_one_none() {
    let (_d, e) = machine("auth-cost", &[]);
    let c = e.client.as_str();
    set_up(c);
    assert_eq!(
        status(c, "PUT", "/v2/keys/app/a", "value=1", Some(ROOT)),
        201
    );
    // The first good login pays the hash; the next ones are remembered.
    let first = cost(c, || {
        assert_eq!(status(c, "GET", "/v2/keys/app/a", "", Some(ALICE)), 200);
    });
    assert_eq!(first, (1, 0));
    let again = cost(c, || {
        for _ in 0..10 {
            assert_eq!(status(c, "GET", "/v2/keys/app/a", "", Some(ALICE)), 200);
        }
    });
    assert_eq!(again, (0, 0), "remembered logins cost no hash");
    // Wrong passwords and unknown users cost a hash each, every time.
    let guesses = cost(c, || {
        for bad in ["alice:wrong", "alice:wrong", "mallory:x", "mallory:x"] {
            assert_eq!(status(c, "GET", "/v2/keys/app/a", "", Some(bad)), 401);
        }
    });
    assert_eq!(guesses, (4, 4));
    // An unreadable header is refused without a hash.
    let garbage = cost(c, || {
        let r = request(
            c,
            "GET",
            "/v2/keys/app/a",
            &[("Authorization", "Basic !!!")],
            b"",
        );
        assert_eq!(r.status, 401);
    });
    assert_eq!(garbage, (0, 1));
    // A password change forgets the remembered login at once.
    let change = r#"{"user":"alice","password":"newpw"}"#;
    assert_eq!(
        status(c, "PUT", "/v2/auth/users/alice", change, Some(ROOT)),
        200
    );
    assert_eq!(status(c, "GET", "/v2/keys/app/a", "", Some(ALICE)), 401);
    assert_eq!(
        status(c, "GET", "/v2/keys/app/a", "", Some("alice:newpw")),
        200
    );
}

/// curl with its exit code, the HTTP status and the body (`-w` appends
/// the status on a line of its own).
fn curl(args: &[&str], url: &str) -> (i32, u16, String) {
    let out = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "5", "-w", "\n%{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl (install it to run these tests)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (
        out.status.code().unwrap_or(-1),
        code.trim().parse().unwrap_or(0),
        body.to_string(),
    )
}

#[test]
fn credentials_work_alongside_required_client_certificates() {
    let certs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/certs");
    let cert = |name: &str| certs.join(name).display().to_string();
    let dir = TempDir::new("auth-tls");
    let mut e = Etcd::new(dir.path(), "secure", &[]);
    e.extra = vec![
        "-cert-file".into(),
        cert("server.crt"),
        "-key-file".into(),
        cert("server.key"),
        "-ca-file".into(),
        cert("ca.crt"),
    ];
    e.spawn();
    let base = format!("https://{}", e.client);
    let (ca, crt, key) = (cert("ca.crt"), cert("client.crt"), cert("client.key"));
    let tls = [
        "--cacert",
        ca.as_str(),
        "--cert",
        crt.as_str(),
        "--key",
        key.as_str(),
    ];
    wait_for("the HTTPS client port", Duration::from_secs(15), || {
        let (code, status, _) = curl(&tls, &format!("{base}/v2/leader"));
        (code == 0 && status == 200).then_some(())
    });
    let json = ["-H", "Content-Type: application/json", "-XPUT"];
    let put = |path: &str, body: &str, user: &str| {
        let args = [&tls[..], &json[..], &["-u", user, "-d", body]].concat();
        curl(&args, &format!("{base}{path}")).1
    };
    assert_eq!(
        put(
            "/v2/auth/users/root",
            r#"{"user":"root","password":"rootpw"}"#,
            ROOT
        ),
        201
    );
    assert_eq!(
        put(
            "/v2/auth/users/alice",
            r#"{"user":"alice","password":"alicepw"}"#,
            ROOT
        ),
        201
    );
    assert_eq!(put("/v2/auth/enable", "", ROOT), 200);
    let revoke = r#"{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}"#;
    assert_eq!(put("/v2/auth/roles/guest", revoke, ROOT), 200);
    let url = format!("{base}/v2/keys/k");
    let set = [&tls[..], &["-XPUT", "-d", "value=v"]].concat();
    // A certificate alone is the guest, who may do nothing now.
    let (code, status, body) = curl(&set, &url);
    assert_eq!((code, status), (0, 401), "{body}");
    let as_root = [&set[..], &["-u", ROOT]].concat();
    assert_eq!(curl(&as_root, &url).1, 201);
    let as_alice = [&tls[..], &["-u", ALICE]].concat();
    assert_eq!(curl(&as_alice, &url).1, 401, "alice has no role");
    // Credentials do not replace the certificate: no certificate, no TLS.
    let (code, _, _) = curl(&["--cacert", ca.as_str(), "-u", ROOT], &url);
    assert_ne!(
        code, 0,
        "a client without a certificate is refused at the handshake"
    );
}
