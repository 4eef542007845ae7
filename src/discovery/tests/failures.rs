//! Every way a registry can fail, each mapped to the variant that says why.

use super::*;
use std::io::Write;
use std::thread;

const REGISTRY: &str = "/v2/keys/_etcd/registry/abc";

fn run_against(fake: &Fake) -> DiscoveryError {
    failure(&discoverer(
        &fake.url(REGISTRY),
        "n1",
        "http://127.0.0.1:7001",
    ))
}

/// A registry that registers fine and answers the claim with `claim`.
fn claim_answered(claim: Response) -> Fake {
    let tree = Mutex::new(Tree::default());
    Fake::plain(move |req| {
        if req.path.ends_with("/_state") {
            claim.clone()
        } else {
            keys_api(&tree, "/v2/keys", req)
        }
    })
}

fn assert_one_line_naming(e: &DiscoveryError, url: &str) {
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("discovery via {url} failed: ")),
        "{text}"
    );
    assert!(!text.contains('\n'), "{text}");
}

#[test]
fn an_html_page_is_not_etcd() {
    let fake = Fake::plain(|_| {
        Response::new(200)
            .with_header("Content-Type", "text/html; charset=utf-8")
            .with_body("<!DOCTYPE html>\n<html>\n  <head><title>Welcome</title></head>\n</html>\n")
    });
    let e = run_against(&fake);
    let DiscoveryError::NotEtcd {
        status,
        content_type,
        snippet,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*status, 200);
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert_eq!(
        snippet,
        "<!DOCTYPE html> <html> <head><title>Welcome</title></head> </html>"
    );
    assert_one_line_naming(&e, &fake.url(REGISTRY));
    assert!(e.to_string().contains("not etcd's JSON"), "{e}");
}

#[test]
fn a_long_foreign_body_is_quoted_short() {
    let fake = Fake::plain(|_| Response::text(502, &"bad gateway ".repeat(50)));
    let DiscoveryError::NotEtcd {
        status, snippet, ..
    } = run_against(&fake)
    else {
        panic!()
    };
    assert_eq!(status, 502);
    assert!(
        snippet.chars().count() <= 81 && snippet.ends_with('…'),
        "{snippet}"
    );
}

#[test]
fn json_that_is_not_etcd_s_is_not_etcd() {
    let fake = Fake::plain(|_| Response::json(201, r#"{"hello":"world"}"#));
    assert!(matches!(run_against(&fake), DiscoveryError::NotEtcd { .. }));
    // A registration answer must carry `action` as well as `node`.
    let fake = Fake::plain(|_| Response::json(201, r#"{"node":{"key":"/x"}}"#));
    assert!(matches!(run_against(&fake), DiscoveryError::NotEtcd { .. }));
}

#[test]
fn a_404_is_not_found() {
    let fake = Fake::plain(|_| Response::text(404, "404 page not found\n"));
    let e = run_against(&fake);
    assert!(matches!(e, DiscoveryError::NotFound { .. }), "{e:?}");
    assert_one_line_naming(&e, &fake.url(REGISTRY));
    assert!(e.to_string().contains("token"), "{e}");
    // A hosted-style URL into a server whose keys API is under /v2/keys.
    let keys_api = Fake::registry("/v2/keys");
    let d = discoverer(&keys_api.url("/abc"), "n1", "http://127.0.0.1:7001");
    assert!(matches!(failure(&d), DiscoveryError::NotFound { .. }));
    assert_eq!(
        keys_api.requests(),
        [("PUT".to_string(), "/abc/n1".to_string())]
    );
}

#[test]
fn an_etcd_error_other_than_key_exists_on_the_claim_is_reported_as_etcd_s() {
    let fake = claim_answered(etcd_error(412, 101, "Compare failed", "[x != y]", 3));
    let e = run_against(&fake);
    assert_eq!(
        e,
        DiscoveryError::EtcdError {
            url: fake.url(REGISTRY),
            request: format!("PUT {}/_state?prevExist=false", fake.url(REGISTRY)),
            code: 101,
            message: "Compare failed".into(),
            cause: "[x != y]".into(),
        }
    );
    assert!(
        e.to_string()
            .ends_with("got etcd error 101: Compare failed ([x != y])"),
        "{e}"
    );
}

#[test]
fn an_etcd_error_on_registration_is_reported_as_etcd_s() {
    let fake = Fake::plain(|_| etcd_error(500, 300, "Raft Internal Error", "", 7));
    let e = run_against(&fake);
    assert!(
        matches!(e, DiscoveryError::EtcdError { code: 300, .. }),
        "{e:?}"
    );
    assert!(e.to_string().ends_with("Raft Internal Error"), "{e}");
}

#[test]
fn a_claim_that_stores_something_else_is_an_unexpected_answer() {
    let body = json!({"action": "create", "node": {"key": "/x/_state", "value": "stopped"}});
    let fake = claim_answered(Response::json(201, body.to_string()));
    let e = run_against(&fake);
    assert!(
        matches!(e, DiscoveryError::UnexpectedAnswer { .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("\"stopped\""), "{e}");
}

#[test]
fn an_odd_status_with_etcd_s_json_is_unexpected() {
    let body = json!({"action": "create", "node": {"key": "/x/_state", "value": "started"}});
    let fake = claim_answered(Response::json(202, body.to_string()));
    let e = run_against(&fake);
    assert!(
        matches!(e, DiscoveryError::UnexpectedStatus { status: 202, .. }),
        "{e:?}"
    );
}

#[test]
fn a_port_nobody_listens_on_is_unreachable_with_the_os_reason() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}{REGISTRY}");
    let e = failure(&discoverer(&url, "n1", "http://127.0.0.1:7001"));
    let DiscoveryError::Unreachable { addr, reason, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(addr, &format!("127.0.0.1:{port}"));
    assert!(reason.to_lowercase().contains("refused"), "{reason}");
    assert_one_line_naming(&e, &url);
}

#[test]
fn a_server_that_never_answers_times_out_within_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts, reads nothing, answers nothing; holds every connection.
    thread::spawn(move || {
        let mut held = Vec::new();
        for tcp in listener.incoming().flatten() {
            held.push(tcp);
        }
    });
    let timeout = Duration::from_millis(500);
    let url = format!("http://{addr}{REGISTRY}");
    let d = discoverer_with(
        &url,
        "n1",
        "http://127.0.0.1:7001",
        Arc::new(plain),
        timeout,
    );
    let started = Instant::now();
    let e = failure(&d);
    let took = started.elapsed();
    assert!(
        matches!(e, DiscoveryError::TimedOut { timeout: t, .. } if t == timeout),
        "{e:?}"
    );
    assert!(took < 3 * timeout, "a hang held discovery for {took:?}");
    assert!(
        e.to_string().ends_with("within 500ms (the service hangs)"),
        "{e}"
    );
}

#[test]
fn a_server_that_hangs_up_without_answering_is_unreachable() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            drop(tcp);
        }
    });
    let e = failure(&discoverer(
        &format!("http://{addr}{REGISTRY}"),
        "n1",
        "http://127.0.0.1:7001",
    ));
    assert!(matches!(e, DiscoveryError::Unreachable { .. }), "{e:?}");
}

#[test]
fn a_server_that_does_not_speak_http_is_a_bad_response() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for mut tcp in listener.incoming().flatten() {
            let _ = tcp.write_all(b"SSH-2.0-OpenSSH_9.6\r\nInvalid SSH identification\r\n\r\n");
            let _ = tcp.shutdown(std::net::Shutdown::Write);
            // Keeps the socket until the client is done reading.
            thread::spawn(move || {
                let _ = std::io::copy(&mut tcp, &mut std::io::sink());
            });
        }
    });
    let e = failure(&discoverer(
        &format!("http://{addr}{REGISTRY}"),
        "n1",
        "http://127.0.0.1:7001",
    ));
    assert!(matches!(e, DiscoveryError::BadResponse { .. }), "{e:?}");
    assert!(e.to_string().contains("scheme and port"), "{e}");
}

#[test]
fn nothing_is_listed_after_a_failed_registration() {
    let fake = Fake::plain(|_| Response::text(404, "no"));
    let _ = run_against(&fake);
    assert_eq!(fake.seen().len(), 1);
}
