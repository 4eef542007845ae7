//! Discovery against real HTTP servers on loopback: a fake registry that
//! speaks just enough of the v2 keys API (create-only PUT, recursive GET
//! without hidden keys, etcd's JSON errors), and misbehaving servers.

mod failures;
mod protocol;
mod redirects;
mod tls;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Discoverer, DiscoveryError, DiscoveryUrl, Outcome};
use crate::httpd::{
    Request, Responder, Response, ServerConfig, Wrap, parse_form, percent_decode, plain, serve,
};

const TIMEOUT: Duration = Duration::from_secs(2);

/// One request as a fake server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: String,
    path: String,
    query: String,
    /// The body as form data (empty when it is not form data).
    form: Vec<(String, String)>,
    host: Option<String>,
    content_type: Option<String>,
}

impl Seen {
    fn of(req: &Request) -> Seen {
        Seen {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            form: parse_form(&req.body).unwrap_or_default(),
            host: req.header("host").map(str::to_string),
            content_type: req.header("content-type").map(str::to_string),
        }
    }
}

/// A server on 127.0.0.1 that records every request it answers.
struct Fake {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    /// Serves `answer` over `wrap` (plain or TLS).
    fn serve(wrap: Wrap, answer: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let handler = move |req: Request, out: &mut Responder| {
            log.lock().unwrap().push(Seen::of(&req));
            let _ = out.send(answer(&req));
        };
        let cfg = ServerConfig {
            name: "fake-registry".into(),
            read_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
            ..ServerConfig::default()
        };
        serve(listener, cfg, wrap, Arc::new(handler)).unwrap();
        Fake { addr, seen }
    }

    fn plain(answer: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Fake {
        Fake::serve(Arc::new(plain), answer)
    }

    /// A registry whose keys API sits under `mount` (`/v2/keys`, or `""`
    /// for a hosted service that addresses keys directly).
    fn registry(mount: &'static str) -> Fake {
        Fake::registry_over(Arc::new(plain), mount)
    }

    fn registry_over(wrap: Wrap, mount: &'static str) -> Fake {
        let tree = Mutex::new(Tree::default());
        Fake::serve(wrap, move |req| keys_api(&tree, mount, req))
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// `(method, path)` of every request, in order.
    fn requests(&self) -> Vec<(String, String)> {
        self.seen()
            .into_iter()
            .map(|s| (s.method, s.path))
            .collect()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// The fake's keys: full key → value, plus etcd's index.
#[derive(Default)]
struct Tree {
    keys: BTreeMap<String, String>,
    index: u64,
}

fn etcd_error(status: u16, code: u64, message: &str, cause: &str, index: u64) -> Response {
    let body = json!({"errorCode": code, "message": message, "cause": cause, "index": index});
    Response::json(status, body.to_string())
}

fn keys_api(tree: &Mutex<Tree>, mount: &str, req: &Request) -> Response {
    let not_found = || Response::text(404, "404 page not found\n");
    let Some(raw) = req.path.strip_prefix(mount).filter(|k| k.starts_with('/')) else {
        return not_found();
    };
    let Some(key) = percent_decode(raw).and_then(|k| String::from_utf8(k).ok()) else {
        return not_found();
    };
    let key = key.trim_end_matches('/').to_string();
    let query = parse_form(req.query.as_bytes()).unwrap_or_default();
    let has = |name: &str, value: &str| query.iter().any(|(n, v)| n == name && v == value);
    let mut tree = tree.lock().unwrap();
    match req.method.as_str() {
        "PUT" => {
            let form = parse_form(&req.body).unwrap_or_default();
            let value = form
                .iter()
                .find(|(n, _)| n == "value")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let create = has("prevExist", "false");
            if create && tree.keys.contains_key(&key) {
                let index = tree.index;
                return etcd_error(412, 105, "Key already exists", &key, index);
            }
            tree.index += 1;
            let index = tree.index;
            let fresh = tree.keys.insert(key.clone(), value.clone()).is_none();
            let body = json!({
                "action": if create { "create" } else { "set" },
                "node": {"key": key, "value": value, "modifiedIndex": index, "createdIndex": index},
            });
            Response::json(if fresh { 201 } else { 200 }, body.to_string())
        }
        "GET" if has("recursive", "true") => {
            let under = format!("{key}/");
            let nodes: Vec<_> = tree
                .keys
                .iter()
                .filter_map(|(k, v)| {
                    let name = k.strip_prefix(&under)?;
                    (!name.contains('/') && !name.starts_with('_')).then(
                        || json!({"key": k, "value": v, "modifiedIndex": 1, "createdIndex": 1}),
                    )
                })
                .collect();
            let exists = tree.keys.keys().any(|k| k.starts_with(&under));
            if !exists {
                return etcd_error(404, 100, "Key not found", &key, tree.index);
            }
            let body = json!({"action": "get", "node": {"key": key, "dir": true, "nodes": nodes}});
            Response::json(200, body.to_string())
        }
        _ => Response::json(405, "{}"),
    }
}

/// A discoverer over plain TCP.
fn discoverer(url: &str, name: &str, peer_url: &str) -> Discoverer {
    discoverer_with(url, name, peer_url, Arc::new(plain), TIMEOUT)
}

fn discoverer_with(
    url: &str,
    name: &str,
    peer_url: &str,
    connector: crate::transport::Connector,
    timeout: Duration,
) -> Discoverer {
    Discoverer::new(
        DiscoveryUrl::parse(url).unwrap(),
        name,
        peer_url,
        connector,
        timeout,
    )
}

fn failure(d: &Discoverer) -> DiscoveryError {
    match d.run() {
        Ok(outcome) => panic!("discovery succeeded: {outcome:?}"),
        Err(e) => e,
    }
}

/// Polls `cond` until it holds, failing the test after `limit`.
fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "condition never held");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}
