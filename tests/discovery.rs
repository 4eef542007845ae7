//! `-discovery URL` with real processes: machines started at once form one
//! cluster through a registry kept by our own binary, by Debian's etcd 3.4
//! (`--enable-v2`), by a hosted-style service whose path has no
//! `/v2/keys`, and over HTTPS; restarts rejoin; late machines join; and
//! every failure of the discovery service ends clearly and in bounded time.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::fake::{FakeHttp, fake_http, http};
use common::{Etcd, TempDir, free_port, request, try_request, wait_for};

/// Start `n` machines at once with one discovery URL (and `extra` flags).
fn start_all(dir: &Path, n: usize, url: &str, extra: &[&str]) -> Vec<Etcd> {
    let mut machines: Vec<Etcd> = (1..=n)
        .map(|i| {
            let mut flags = vec!["-discovery", url];
            flags.extend_from_slice(extra);
            Etcd::new(dir, &format!("m{i}"), &flags)
        })
        .collect();
    for m in machines.iter_mut() {
        m.spawn();
    }
    machines
}

/// Every machine lists all `n` client URLs; returns how long that took.
fn wait_formed(machines: &mut [Etcd], n: usize, limit: Duration) -> Duration {
    let started = Instant::now();
    for m in machines.iter_mut() {
        m.wait_serving(limit);
    }
    let want: Vec<String> = machines
        .iter()
        .map(|m| format!("http://{}", m.client))
        .collect();
    wait_for("every machine to list every machine", limit, || {
        machines
            .iter()
            .all(|m| {
                m.machines()
                    .is_some_and(|list| list.len() == n && want.iter().all(|w| list.contains(w)))
            })
            .then_some(())
    });
    started.elapsed()
}

fn leaders(machines: &[Etcd]) -> Vec<String> {
    machines
        .iter()
        .filter_map(|m| try_request(&m.client, "GET", "/v2/leader", &[], b"").ok())
        .filter(|r| r.status == 200)
        .map(|r| r.text())
        .collect()
}

#[test]
fn five_machines_at_once_form_one_cluster_through_our_own_discovery_host() {
    let dir = TempDir::new("disc-own");
    let host = Etcd::start(dir.path(), "registry", &[]);
    let url = format!("http://{}/v2/keys/_etcd/registry/tok-five", host.client);
    let mut machines = start_all(dir.path(), 5, &url, &[]);
    let took = wait_formed(&mut machines, 5, Duration::from_secs(30));
    println!("five machines formed a cluster by discovery in {took:?}");
    // One cluster: everyone names the same leader.
    let seen = leaders(&machines);
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(|l| *l == seen[0]), "{seen:?}");
    // Exactly one machine claimed the start.
    let started: Vec<String> = machines
        .iter()
        .filter(|m| m.log_text().contains("this machine starts the cluster"))
        .map(|m| m.name.clone())
        .collect();
    assert_eq!(started.len(), 1, "{started:?}");
    // The registry holds every machine's peer URL, with a one-week TTL.
    let reg = request(
        &host.client,
        "GET",
        "/v2/keys/_etcd/registry/tok-five?recursive=true",
        &[],
        b"",
    )
    .json();
    let nodes = reg["node"]["nodes"].as_array().expect("registry entries");
    assert_eq!(nodes.len(), 5);
    for n in nodes {
        let ttl = n["ttl"].as_u64().expect("ttl");
        assert!((604_000..=604_800).contains(&ttl), "{n}");
    }
    // A write through one member is read on all.
    let r = common::request_l(
        &machines[3].client,
        "PUT",
        "/v2/keys/formed",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"value=yes",
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());

    // Restarted with the same command and data dir: the same cluster.
    let founded = |m: &Etcd| m.log_text().matches("starting a new cluster").count();
    let before = founded(&machines[1]);
    machines[1].restart();
    machines[1].wait_serving(Duration::from_secs(10));
    wait_formed(&mut machines, 5, Duration::from_secs(15));
    assert_eq!(founded(&machines[1]), before, "{}", machines[1].log_text());
    wait_for(
        "the restarted machine to have the write",
        Duration::from_secs(10),
        || {
            let r = try_request(&machines[1].client, "GET", "/v2/keys/formed", &[], b"").ok()?;
            (r.status == 200).then_some(())
        },
    );

    // A machine started later with the same URL joins the running cluster.
    let mut late = Etcd::new(dir.path(), "m6", &["-discovery", &url]);
    late.spawn();
    machines.push(late);
    wait_formed(&mut machines, 6, Duration::from_secs(20));
}

/// Debian's etcd 3.4 on free ports with the v2 API, killed when dropped.
struct Etcd34 {
    child: Child,
    client: String,
    peer: String,
}

impl Etcd34 {
    fn start(dir: &Path) -> Etcd34 {
        let bin = "/usr/bin/etcd";
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: install Debian's etcd-server (scripts/test does)"
        );
        let client = format!("127.0.0.1:{}", free_port());
        let peer = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.join("etcd34.log")).expect("log");
        let child = Command::new(bin)
            .args([
                "--enable-v2",
                "--name",
                "v34",
                "--data-dir",
                &dir.join("v34").display().to_string(),
                "--listen-client-urls",
                &format!("http://{client}"),
                "--advertise-client-urls",
                &format!("http://{client}"),
                "--listen-peer-urls",
                &format!("http://{peer}"),
                "--initial-advertise-peer-urls",
                &format!("http://{peer}"),
                "--initial-cluster",
                &format!("v34=http://{peer}"),
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start etcd 3.4");
        let e = Etcd34 {
            child,
            client,
            peer,
        };
        wait_for("etcd 3.4 to serve v2", Duration::from_secs(20), || {
            let r = try_request(&e.client, "GET", "/v2/keys/", &[], b"").ok()?;
            (r.status == 200).then_some(())
        });
        e
    }
}

impl Drop for Etcd34 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn three_machines_form_one_cluster_through_etcd_3_4() {
    let dir = TempDir::new("disc-v34");
    let host = Etcd34::start(dir.path());
    let url = format!("http://{}/v2/keys/_etcd/registry/tok-three", host.client);
    let mut machines = start_all(dir.path(), 3, &url, &[]);
    let took = wait_formed(&mut machines, 3, Duration::from_secs(30));
    println!("three machines formed a cluster through etcd 3.4 in {took:?}");
    let seen = leaders(&machines);
    assert!(seen.iter().all(|l| *l == seen[0]), "{seen:?}");
    // Restart of all three with the same commands: the same cluster again.
    for m in machines.iter_mut() {
        m.kill();
    }
    for m in machines.iter_mut() {
        m.spawn();
    }
    wait_formed(&mut machines, 3, Duration::from_secs(20));
    // Only the first start of one machine ever founded a cluster.
    let founded: usize = machines
        .iter()
        .map(|m| m.log_text().matches("starting a new cluster").count())
        .sum();
    assert_eq!(founded, 1);
    // And etcd 3.4's peer port is no peer of ours: refused before any join.
    let mut joiner = Etcd::new(dir.path(), "intruder", &["-peers", &host.peer]);
    joiner.spawn();
    let status = joiner.exit_within(Duration::from_secs(20)).expect("exits");
    assert!(!status.success());
    let log = joiner.log_text();
    assert!(
        log.contains(&host.peer) && log.contains("etcd 3.4"),
        "{log}"
    );
}

/// Forwards every request to `target`, rewriting the path prefix `from` to
/// `to`: a hosted discovery service whose keys live outside `/v2/keys`.
fn forwarder(target: String, from: &'static str, to: String) -> FakeHttp {
    fake_http(move |line, body| {
        let mut parts = line.split(' ');
        let (method, path) = (parts.next().unwrap_or("GET"), parts.next().unwrap_or("/"));
        let rewritten = match path.strip_prefix(from) {
            Some(rest) => format!("{to}{rest}"),
            None => return http("404 Not Found", "text/plain", "404 page not found\n"),
        };
        match common::request_l(
            &target,
            method,
            &rewritten,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body,
        ) {
            Ok(r) => {
                let ct = r
                    .header("Content-Type")
                    .unwrap_or("application/json")
                    .to_string();
                let status = match r.status {
                    200 => "200 OK",
                    201 => "201 Created",
                    412 => "412 Precondition Failed",
                    404 => "404 Not Found",
                    _ => "500 Internal Server Error",
                };
                http(status, &ct, &r.text())
            }
            Err(_) => http("502 Bad Gateway", "text/plain", "down\n"),
        }
    })
}

#[test]
fn a_hosted_service_whose_path_is_not_under_v2_keys_works() {
    let dir = TempDir::new("disc-hosted");
    let host = Etcd::start(dir.path(), "registry", &[]);
    let service = forwarder(
        host.client.clone(),
        "/",
        "/v2/keys/_etcd/hosted/".to_string(),
    );
    let url = format!("http://{}/tok-hosted", service.addr);
    let mut machines = start_all(dir.path(), 3, &url, &[]);
    wait_formed(&mut machines, 3, Duration::from_secs(30));
    let lines = service.requests.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l.starts_with("PUT /tok-hosted/m1 ")),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| !l.contains("/v2/keys")), "{lines:?}");
}

fn certs() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/certs")
}

#[test]
fn https_discovery_uses_the_peer_ca() {
    let dir = TempDir::new("disc-tls");
    let c = certs();
    let cert = c.join("server.crt").display().to_string();
    let key = c.join("server.key").display().to_string();
    let ca = c.join("ca.crt").display().to_string();
    let mut host = Etcd::new(
        dir.path(),
        "registry",
        &["-cert-file", &cert, "-key-file", &key],
    );
    host.spawn();
    wait_for("the HTTPS registry", Duration::from_secs(15), || {
        host.log_text().contains("etcd server [").then_some(())
    });
    let url = format!("https://{}/v2/keys/_etcd/registry/tok-tls", host.client);
    let peer_tls = [
        "-peer-cert-file",
        cert.as_str(),
        "-peer-key-file",
        key.as_str(),
        "-peer-ca-file",
        ca.as_str(),
    ];
    let mut machines = start_all(dir.path(), 3, &url, &peer_tls);
    wait_formed(&mut machines, 3, Duration::from_secs(30));
    // Without the CA (system roots only) the registry is not trusted.
    let mut stranger = Etcd::new(dir.path(), "stranger", &["-discovery", &url]);
    stranger.spawn();
    let status = stranger
        .exit_within(Duration::from_secs(20))
        .expect("exits");
    assert!(!status.success());
    let log = stranger.log_text();
    assert!(log.contains(&url) && log.contains("TLS"), "{log}");
}

/// Runs a new machine with `-discovery url` (and `extra`), which must stop
/// by itself within `limit`; returns its log.
fn must_stop(dir: &Path, name: &str, url: &str, extra: &[&str], limit: Duration) -> String {
    let mut flags = vec!["-discovery", url];
    flags.extend_from_slice(extra);
    let mut m = Etcd::new(dir, name, &flags);
    m.spawn();
    let started = Instant::now();
    let status = m
        .exit_within(limit)
        .unwrap_or_else(|| panic!("{name} still runs after {limit:?}: {}", m.log_text()));
    assert!(!status.success(), "{name} exited successfully");
    println!("{name} stopped after {:?}", started.elapsed());
    let log = m.log_text();
    assert!(log.contains(url), "the line must name the URL: {log}");
    assert!(!log.contains("starting a new cluster"), "{log}");
    assert!(
        !log.contains("etcd server ["),
        "served a client port: {log}"
    );
    log
}

#[test]
fn discovery_failures_stop_the_machine_with_one_clear_line() {
    let dir = TempDir::new("disc-fail");
    let limit = Duration::from_secs(20);
    // Nothing listens there.
    let down = format!("http://127.0.0.1:{}/v2/keys/_etcd/registry/t", free_port());
    let log = must_stop(dir.path(), "down", &down, &[], limit);
    assert!(log.contains("no -peers to fall back to"), "{log}");

    // An HTML page.
    let html = fake_http(|_, _| http("200 OK", "text/html", "<html><body>hello</body></html>"));
    let url = format!("http://{}/v2/keys/_etcd/registry/t", html.addr);
    let log = must_stop(dir.path(), "html", &url, &[], limit);
    assert!(log.contains("text/html"), "{log}");

    // A 404 (not an etcd keys API at that path).
    let host = Etcd::start(dir.path(), "registry", &[]);
    let url = format!("http://{}/no/such/token", host.client);
    let log = must_stop(dir.path(), "notfound", &url, &[], limit);
    assert!(log.contains("404"), "{log}");

    // A service that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for s in silent.incoming().flatten() {
            keep.lock().unwrap().push(s);
        }
    });
    let url = format!("http://{addr}/v2/keys/_etcd/registry/t");
    let log = must_stop(dir.path(), "hang", &url, &[], limit);
    assert!(log.contains("hangs"), "{log}");

    // A registry that lists only this machine: `_state` is taken, nobody else.
    let url = format!("http://{}/v2/keys/_etcd/registry/lonely", host.client);
    let r = common::form_request(
        &host.client,
        "PUT",
        "/v2/keys/_etcd/registry/lonely/_state",
        "value=started",
    );
    assert_eq!(r.status, 201);
    let log = must_stop(dir.path(), "lonely", &url, &[], limit);
    assert!(
        log.contains(
            "Discovery found an initialized cluster but no reachable peers are registered."
        ),
        "{log}"
    );
}

#[test]
fn a_failed_discovery_falls_back_to_the_peers_flag() {
    let dir = TempDir::new("disc-fallback");
    let first = Etcd::start(dir.path(), "first", &[]);
    let down = format!("http://127.0.0.1:{}/v2/keys/_etcd/registry/t", free_port());
    let mut second = Etcd::new(
        dir.path(),
        "second",
        &["-discovery", &down, "-peers", &first.peer],
    );
    second.spawn();
    second.wait_ready();
    let log = second.log_text();
    assert!(
        log.contains(&down) && log.contains("falling back to -peers"),
        "{log}"
    );
    wait_for("two members", Duration::from_secs(10), || {
        (first.machines()?.len() == 2).then_some(())
    });
}
