//! The auth API in memory: the client API's handler over a stand-in for
//! the state thread that applies auth changes to an `AuthState` and
//! publishes it, as the real one does. Bodies are the ones Debian's etcd
//! 3.4 (`--enable-v2`) answered to the same requests.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use crossbeam_channel::{Receiver, unbounded};

use crate::auth::{AuthState, SharedAuth, Verifier};
use crate::http::client_api::ClientApi;
use crate::http::gateway::Gateway;
use crate::http::health::HealthCheck;
use crate::httpd::{ClientResponse, Request, call_in_memory};
use crate::membership::{ClusterConfig, Member};
use crate::server::mode::{Mode, ModeCell};
use crate::server::requests::{AuthReply, ClientRequest, ClusterView, Position};
use crate::server::stats::SelfStats;

use super::guard::Guard;

struct Api {
    api: ClientApi,
    verifier: Arc<Verifier>,
}

/// `leads`: whether this machine is the leader (else `m2` is).
fn api(leads: bool) -> Api {
    let view = SharedAuth::default();
    let verifier = Arc::new(Verifier::new(view.clone()));
    let (tx, rx) = unbounded();
    std::thread::spawn(move || stand_in(rx, view, leads));
    let gw = Gateway::new(
        tx,
        Arc::new(AtomicU64::new(3)),
        Vec::new(),
        Duration::from_secs(5),
        ModeCell::new(Mode::Member),
    )
    .with_auth(Guard::new(verifier.clone()));
    Api {
        api: ClientApi {
            gw,
            health: HealthCheck {
                budget: Duration::from_millis(50),
            },
        },
        verifier,
    }
}

/// The state thread's part: apply auth changes, describe the cluster.
fn stand_in(rx: Receiver<ClientRequest>, view: SharedAuth, leads: bool) {
    let mut state = AuthState::default();
    let me = Member::new("m1", "http://127.0.0.1:7001", "http://127.0.0.1:4001");
    let other = Member::new("m2", "http://127.0.0.1:7002", "http://127.0.0.1:4002");
    for req in rx {
        match req {
            ClientRequest::Auth { cmd, reply } => {
                if !leads {
                    let _ = reply.send(AuthReply::Redirect {
                        leader_client_url: other.client_url.clone(),
                    });
                    continue;
                }
                let answer = match state.apply(&cmd) {
                    Ok(outcome) => AuthReply::Done(outcome),
                    Err(e) => AuthReply::Refused(e),
                };
                view.publish(state.clone());
                let _ = reply.send(answer);
            }
            ClientRequest::Cluster { reply } => {
                let leader = if leads { me.clone() } else { other.clone() };
                let _ = reply.send(ClusterView {
                    me: me.clone(),
                    leader: Some(leader.clone()),
                    members: vec![leader],
                    position: Position {
                        etcd_index: 3,
                        raft_index: 5,
                        raft_term: 2,
                    },
                    self_stats: SelfStats::default(),
                    leader_stats: None,
                    config: ClusterConfig::default(),
                    leaderless_for: None,
                });
            }
            _ => {}
        }
    }
}

fn basic(user_pass: &str) -> String {
    format!(
        "Basic {}",
        openssl::base64::encode_block(user_pass.as_bytes())
    )
}

impl Api {
    fn call(&self, method: &str, target: &str, body: &str, user: Option<&str>) -> ClientResponse {
        let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
        if let Some(u) = user {
            headers.push(("Authorization".to_string(), basic(u)));
        }
        let req = Request::new(method, target, headers, body.as_bytes().to_vec());
        call_in_memory(&self.api, req).expect("answered")
    }

    /// Status and body, for comparing with what etcd 2.x answered.
    fn ask(&self, method: &str, target: &str, body: &str, user: Option<&str>) -> (u16, String) {
        let r = self.call(method, target, body, user);
        (r.status, String::from_utf8_lossy(&r.body).into_owned())
    }
}

/// method, target, body, credentials, expected status, expected body.
type Step<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, u16, &'a str);

fn answer(status: u16, body: &str) -> (u16, String) {
    (status, body.to_string())
}

#[test]
fn the_auth_api_answers_as_etcd_2_does() {
    let a = api(true);
    let root = Some("root:rootpw");
    let steps: &[Step] = &[
        (
            "GET",
            "/v2/auth/enable",
            "",
            None,
            200,
            "{\"enabled\":false}\n",
        ),
        ("GET", "/v2/auth/users", "", None, 200, "{\"users\":null}\n"),
        (
            "GET",
            "/v2/auth/roles",
            "",
            None,
            200,
            "{\"roles\":[{\"role\":\"root\",\"permissions\":{\"kv\":{\"read\":[\"/*\"],\"write\":[\"/*\"]}}}]}\n",
        ),
        (
            "GET",
            "/v2/auth/roles/guest",
            "",
            None,
            404,
            r#"{"message":"auth: Role guest does not exist."}"#,
        ),
        (
            "GET",
            "/v2/auth/users/nobody",
            "",
            None,
            404,
            r#"{"message":"auth: User nobody does not exist."}"#,
        ),
        (
            "PUT",
            "/v2/auth/enable",
            "",
            None,
            409,
            r#"{"message":"auth: No root user available, please create one"}"#,
        ),
        (
            "PUT",
            "/v2/auth/users/bob",
            r#"{"user":"bob"}"#,
            None,
            400,
            r#"{"message":"auth: Cannot create user bob with an empty password"}"#,
        ),
        (
            "PUT",
            "/v2/auth/users/bob",
            r#"{"user":"alice","password":"x"}"#,
            None,
            400,
            r#"{"message":"User JSON name does not match the name in the URL"}"#,
        ),
        (
            "PUT",
            "/v2/auth/users/bob",
            "notjson",
            None,
            400,
            r#"{"message":"Invalid JSON in request body."}"#,
        ),
        (
            "PUT",
            "/v2/auth/users/bob",
            r#"{"user":"bob","password":"bobpw"}"#,
            None,
            201,
            "{\"user\":\"bob\",\"roles\":null}\n",
        ),
        (
            "PUT",
            "/v2/auth/users/bob",
            r#"{"user":"bob","password":"bobpw"}"#,
            None,
            200,
            "{\"user\":\"bob\",\"roles\":[]}\n",
        ),
        (
            "PUT",
            "/v2/auth/users/bob",
            r#"{"user":"bob"}"#,
            None,
            400,
            r#"{"message":"auth: User not updated. Use grant/revoke/password to update the user."}"#,
        ),
        (
            "PUT",
            "/v2/auth/users/carol",
            r#"{"user":"carol","password":"c","roles":["nosuch"]}"#,
            None,
            200,
            "{\"user\":\"carol\",\"roles\":[\"nosuch\"]}\n",
        ),
        (
            "PUT",
            "/v2/auth/users/carol",
            r#"{"user":"carol","password":"c","roles":["nosuch"]}"#,
            None,
            409,
            r#"{"message":"auth: User carol already exists."}"#,
        ),
        (
            "GET",
            "/v2/auth/users/carol",
            "",
            None,
            404,
            r#"{"message":"auth: Role nosuch does not exist."}"#,
        ),
        (
            "GET",
            "/v2/auth/users",
            "",
            None,
            200,
            "{\"users\":[{\"user\":\"bob\"},{\"user\":\"carol\"}]}\n",
        ),
        (
            "PUT",
            "/v2/auth/users/bob",
            r#"{"user":"bob","grant":["r1"],"roles":["x"]}"#,
            None,
            400,
            r#"{"message":"User JSON contains both roles and grant/revoke"}"#,
        ),
        (
            "PUT",
            "/v2/auth/users/bob",
            r#"{"user":"bob","grant":["r1"]}"#,
            None,
            200,
            "{\"user\":\"bob\",\"roles\":[\"r1\"]}\n",
        ),
        (
            "PUT",
            "/v2/auth/users/bob",
            r#"{"user":"bob","grant":["r1"]}"#,
            None,
            409,
            r#"{"message":"auth: Granting duplicate role r1 for user bob"}"#,
        ),
        (
            "PUT",
            "/v2/auth/users/bob",
            r#"{"user":"bob","revoke":["r2"]}"#,
            None,
            409,
            r#"{"message":"auth: Revoking ungranted role r2 for user bob"}"#,
        ),
        (
            "PUT",
            "/v2/auth/users/zed",
            r#"{"user":"zed","grant":["r1"]}"#,
            None,
            404,
            r#"{"message":"auth: User zed does not exist."}"#,
        ),
        (
            "PUT",
            "/v2/auth/roles/r1",
            r#"{"role":"r1"}"#,
            None,
            201,
            "{\"role\":\"r1\",\"permissions\":{\"kv\":{\"read\":null,\"write\":null}}}\n",
        ),
        (
            "PUT",
            "/v2/auth/roles/r1",
            r#"{"role":"r1"}"#,
            None,
            409,
            r#"{"message":"auth: Role r1 already exists."}"#,
        ),
        (
            "PUT",
            "/v2/auth/roles/r2",
            r#"{"role":"r2","permissions":{"kv":{"read":["/app/*","/b"],"write":["/app/*"]}}}"#,
            None,
            201,
            "{\"role\":\"r2\",\"permissions\":{\"kv\":{\"read\":[\"/app/*\",\"/b\"],\"write\":[\"/app/*\"]}}}\n",
        ),
        (
            "PUT",
            "/v2/auth/roles/r2",
            r#"{"role":"r2","grant":{"kv":{"read":["/b"]}}}"#,
            None,
            409,
            r#"{"message":"auth: Granting duplicate read permission /b"}"#,
        ),
        (
            "PUT",
            "/v2/auth/roles/r2",
            r#"{"role":"r2","grant":{"kv":{"read":["/c"]}}}"#,
            None,
            200,
            "{\"role\":\"r2\",\"permissions\":{\"kv\":{\"read\":[\"/app/*\",\"/b\",\"/c\"],\"write\":[\"/app/*\"]}}}\n",
        ),
        (
            "PUT",
            "/v2/auth/roles/r2",
            r#"{"role":"r2","revoke":{"kv":{"read":["/zzz"]}}}"#,
            None,
            400,
            r#"{"message":"auth: Role not updated. Use grant/revoke to update the role."}"#,
        ),
        (
            "PUT",
            "/v2/auth/roles/r2",
            r#"{"role":"r2","revoke":{"kv":{"read":["/c","/b"],"write":["/app/*"]}}}"#,
            None,
            200,
            "{\"role\":\"r2\",\"permissions\":{\"kv\":{\"read\":[\"/app/*\"],\"write\":[]}}}\n",
        ),
        (
            "PUT",
            "/v2/auth/roles/r2",
            r#"{"role":"r2","grant":{"kv":{"read":["/c"]}},"permissions":{"kv":{"read":["/x"]}}}"#,
            None,
            400,
            r#"{"message":"Role JSON contains both permissions and grant/revoke"}"#,
        ),
        (
            "PUT",
            "/v2/auth/roles/nosuch",
            r#"{"role":"nosuch","grant":{"kv":{"read":["/c"]}}}"#,
            None,
            404,
            r#"{"message":"auth: Role nosuch does not exist."}"#,
        ),
        (
            "PUT",
            "/v2/auth/roles/root",
            r#"{"role":"root"}"#,
            None,
            403,
            r#"{"message":"auth: Cannot modify role root: is root role."}"#,
        ),
        (
            "PUT",
            "/v2/auth/roles/r3",
            r#"{"role":"r4"}"#,
            None,
            400,
            r#"{"message":"Role JSON name does not match the name in the URL"}"#,
        ),
        (
            "GET",
            "/v2/auth/users/bob",
            "",
            None,
            200,
            "{\"user\":\"bob\",\"roles\":[{\"role\":\"r1\",\"permissions\":{\"kv\":{\"read\":null,\"write\":null}}}]}\n",
        ),
        (
            "GET",
            "/v2/auth/roles",
            "",
            None,
            200,
            "{\"roles\":[{\"role\":\"r1\",\"permissions\":{\"kv\":{\"read\":null,\"write\":null}}},{\"role\":\"r2\",\"permissions\":{\"kv\":{\"read\":[\"/app/*\"],\"write\":[]}}},{\"role\":\"root\",\"permissions\":{\"kv\":{\"read\":[\"/*\"],\"write\":[\"/*\"]}}}]}\n",
        ),
        (
            "DELETE",
            "/v2/auth/roles/root",
            "",
            None,
            403,
            r#"{"message":"auth: Cannot modify role root: is root role."}"#,
        ),
        (
            "DELETE",
            "/v2/auth/roles/nosuch",
            "",
            None,
            404,
            r#"{"message":"auth: Role nosuch doesn't exist."}"#,
        ),
        (
            "GET",
            "/v2/auth/roles/a/b",
            "",
            None,
            400,
            r#"{"message":"Invalid path"}"#,
        ),
        (
            "GET",
            "/v2/auth/users/a/b",
            "",
            None,
            400,
            r#"{"message":"Invalid path"}"#,
        ),
        (
            "GET",
            "/v2/auth/usersx",
            "",
            None,
            404,
            "404 page not found\n",
        ),
        (
            "PATCH",
            "/v2/auth/users/bob",
            "",
            None,
            405,
            "Method Not Allowed\n",
        ),
        (
            "POST",
            "/v2/auth/users",
            "",
            None,
            405,
            "Method Not Allowed\n",
        ),
        (
            "PUT",
            "/v2/auth/users/root",
            r#"{"user":"root","password":"rootpw"}"#,
            None,
            201,
            "{\"user\":\"root\",\"roles\":[\"root\"]}\n",
        ),
        (
            "PUT",
            "/v2/auth/users/root",
            r#"{"user":"root","revoke":["root"]}"#,
            None,
            200,
            "{\"user\":\"root\",\"roles\":[]}\n",
        ),
        (
            "GET",
            "/v2/auth/users/root",
            "",
            None,
            200,
            "{\"user\":\"root\",\"roles\":[{\"role\":\"root\",\"permissions\":{\"kv\":{\"read\":[\"/*\"],\"write\":[\"/*\"]}}}]}\n",
        ),
        ("PUT", "/v2/auth/enable", "", None, 200, ""),
        (
            "GET",
            "/v2/auth/enable",
            "",
            None,
            200,
            "{\"enabled\":true}\n",
        ),
        (
            "PUT",
            "/v2/auth/enable",
            "",
            None,
            401,
            r#"{"message":"Insufficient credentials"}"#,
        ),
        (
            "PUT",
            "/v2/auth/enable",
            "",
            root,
            409,
            r#"{"message":"auth: already enabled"}"#,
        ),
        (
            "GET",
            "/v2/auth/roles/guest",
            "",
            root,
            200,
            "{\"role\":\"guest\",\"permissions\":{\"kv\":{\"read\":[\"/*\"],\"write\":[\"/*\"]}}}\n",
        ),
        (
            "GET",
            "/v2/auth/users",
            "",
            None,
            401,
            r#"{"message":"Insufficient credentials"}"#,
        ),
        (
            "GET",
            "/v2/auth/users",
            "",
            Some("root:wrong"),
            401,
            r#"{"message":"Insufficient credentials"}"#,
        ),
        (
            "GET",
            "/v2/auth/users",
            "",
            Some("bob:bobpw"),
            401,
            r#"{"message":"Insufficient credentials"}"#,
        ),
        (
            "GET",
            "/v2/auth/users",
            "",
            Some("nobody:x"),
            401,
            r#"{"message":"Insufficient credentials"}"#,
        ),
        (
            "DELETE",
            "/v2/auth/users/root",
            "",
            root,
            403,
            r#"{"message":"auth: Cannot delete root user while auth is enabled."}"#,
        ),
        (
            "DELETE",
            "/v2/auth/users/nobody",
            "",
            root,
            404,
            r#"{"message":"auth: User nobody does not exist"}"#,
        ),
        (
            "DELETE",
            "/v2/auth/enable",
            "",
            Some("bob:bobpw"),
            401,
            r#"{"message":"Insufficient credentials"}"#,
        ),
        (
            "PUT",
            "/v2/auth/roles/guest",
            r#"{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}"#,
            root,
            200,
            "{\"role\":\"guest\",\"permissions\":{\"kv\":{\"read\":[],\"write\":[]}}}\n",
        ),
        ("DELETE", "/v2/auth/roles/guest", "", root, 200, ""),
        ("DELETE", "/v2/auth/enable", "", root, 200, ""),
        (
            "DELETE",
            "/v2/auth/enable",
            "",
            root,
            409,
            r#"{"message":"auth: already disabled"}"#,
        ),
        ("DELETE", "/v2/auth/users/bob", "", None, 200, ""),
        (
            "DELETE",
            "/v2/auth/users/bob",
            "",
            None,
            404,
            r#"{"message":"auth: User bob does not exist"}"#,
        ),
        ("DELETE", "/v2/auth/roles/r1", "", None, 200, ""),
    ];
    for (method, target, body, user, status, expected) in steps {
        assert_eq!(
            a.ask(method, target, body, *user),
            answer(*status, expected),
            "{method} {target} {body}"
        );
    }
}

#[test]
fn a_401_asks_for_basic_credentials_and_a_405_names_the_methods() {
    let a = api(true);
    a.call(
        "PUT",
        "/v2/auth/users/root",
        r#"{"user":"root","password":"pw"}"#,
        None,
    );
    a.call("PUT", "/v2/auth/enable", "", None);
    let r = a.call("GET", "/v2/auth/users", "", None);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"etcd\""));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let r = a.call("HEAD", "/v2/auth/users", "", Some("root:pw"));
    assert_eq!((r.status, r.header("allow")), (405, Some("GET")));
    let r = a.call("POST", "/v2/auth/enable", "", Some("root:pw"));
    assert_eq!((r.status, r.header("allow")), (405, Some("GET,PUT,DELETE")));
    // Keys refuse with etcd's error body, also for a read the guest may
    // make when the credentials given are wrong.
    let r = a.call("GET", "/v2/keys/a", "", Some("root:bad"));
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"etcd\""));
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        "{\"errorCode\":110,\"message\":\"The request requires user authentication\",\"cause\":\"Insufficient credentials\",\"index\":0}\n"
    );
}

#[test]
fn the_list_and_the_name_paths_are_cleaned_as_2x_cleans_them() {
    let a = api(true);
    a.call("PUT", "/v2/auth/roles/r", r#"{"role":"r"}"#, None);
    for target in [
        "/v2/auth/roles/",
        "/v2/auth/roles/..",
        "/v2/auth/roles/x/..",
    ] {
        let r = a.call("GET", target, "", None);
        assert_eq!(r.status, 200, "{target}");
        assert!(
            String::from_utf8_lossy(&r.body).starts_with("{\"roles\":"),
            "{target}"
        );
    }
    for target in [
        "/v2/auth/roles/r/",
        "/v2/auth/roles//r",
        "/v2/auth/roles/./r",
    ] {
        let r = a.call("GET", target, "", None);
        assert_eq!(r.status, 200, "{target}");
        assert!(
            String::from_utf8_lossy(&r.body).starts_with("{\"role\":\"r\""),
            "{target}"
        );
    }
    assert_eq!(a.call("GET", "/v2/auth/enable/", "", None).status, 404);
    assert_eq!(a.call("GET", "/v2/auth/nothing", "", None).status, 404);
}

#[test]
fn a_follower_sends_changes_to_the_leader_without_hashing() {
    let a = api(false);
    let r = a.call(
        "PUT",
        "/v2/auth/users/bob?x=1",
        r#"{"user":"bob","password":"pw"}"#,
        None,
    );
    assert_eq!(r.status, 307);
    assert_eq!(
        r.header("location"),
        Some("http://127.0.0.1:4002/v2/auth/users/bob?x=1")
    );
    assert_eq!(a.verifier.hashes_computed(), 0, "no hash for a redirect");
    let r = a.call("PUT", "/v2/auth/roles/r", r#"{"role":"r"}"#, None);
    assert_eq!(r.status, 307);
    let r = a.call("PUT", "/v2/auth/enable", "", None);
    assert_eq!(r.status, 307);
    // Reads are this machine's own.
    assert_eq!(a.call("GET", "/v2/auth/enable", "", None).status, 200);
}

#[test]
fn passwords_are_hashed_here_and_logins_remembered() {
    let a = api(true);
    a.call(
        "PUT",
        "/v2/auth/users/root",
        r#"{"user":"root","password":"pw"}"#,
        None,
    );
    assert_eq!(a.verifier.hashes_computed(), 1, "the new password");
    a.call("PUT", "/v2/auth/enable", "", None);
    for _ in 0..5 {
        assert_eq!(
            a.call("GET", "/v2/auth/users", "", Some("root:pw")).status,
            200
        );
    }
    assert_eq!(a.verifier.hashes_computed(), 2, "one login, then the cache");
    let user = a.verifier.state().user("root").cloned().expect("root");
    assert_eq!(user.password.iterations(), crate::auth::DEFAULT_ITERATIONS);
    assert!(!user.password.to_string().contains("pw$"));
    // A new password: the old one fails at once, whatever the cache held.
    let r = a.call(
        "PUT",
        "/v2/auth/users/root",
        r#"{"user":"root","password":"new"}"#,
        Some("root:pw"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        a.call("GET", "/v2/auth/users", "", Some("root:pw")).status,
        401
    );
    assert_eq!(
        a.call("GET", "/v2/auth/users", "", Some("root:new")).status,
        200
    );
}
