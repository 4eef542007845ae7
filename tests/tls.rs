//! HTTPS on the real binary (cluster.md §12, seed walkthrough step 9): the
//! client port with and without required client certificates (checked with
//! curl), a peer-TLS cluster that forms, replicates and fails over, machines
//! that must not get in, and certificate files that stop the start.
//! Certificates come from testdata/gen-certs.sh, run once into a temp dir.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use common::{Etcd, TempDir, request, try_request, wait_for};

/// The generated certificate directory (shared by all tests of this file).
fn certs() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls-certs");
        let _ = std::fs::remove_dir_all(&dir);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/gen-certs.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(&dir)
            .output()
            .expect("run gen-certs.sh");
        assert!(
            out.status.success(),
            "gen-certs.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

fn cert(name: &str) -> String {
    certs().join(name).display().to_string()
}

/// The flags every member of a peer-TLS cluster gets.
fn peer_tls() -> Vec<String> {
    vec![
        "-peer-ca-file".into(),
        cert("ca.crt"),
        "-peer-cert-file".into(),
        cert("server.crt"),
        "-peer-key-file".into(),
        cert("server.key"),
    ]
}

/// A machine, not started yet.
fn machine(dir: &Path, name: &str, extra: Vec<String>) -> Etcd {
    let mut e = Etcd::new(dir, name, &[]);
    e.extra = extra;
    e
}

/// Three peer-TLS machines; 2 and 3 join through 1.
fn tls_cluster(dir: &Path) -> Vec<Etcd> {
    let mut machines: Vec<Etcd> = Vec::new();
    for i in 1..=3 {
        let mut extra = peer_tls();
        if let Some(first) = machines.first() {
            extra.extend(["-peers".into(), first.peer.clone()]);
        }
        let mut e = machine(dir, &format!("machine{i}"), extra);
        e.spawn();
        e.wait_ready();
        machines.push(e);
    }
    let first = machines[0].client.clone();
    wait_for("three registered machines", Duration::from_secs(15), || {
        (machine_count(&first) == Some(3)).then_some(())
    });
    machines
}

fn machine_count(client: &str) -> Option<usize> {
    let r = try_request(client, "GET", "/v2/keys/_etcd/machines", &[], b"").ok()?;
    (r.status == 200).then(|| r.json()["node"]["nodes"].as_array().map_or(0, Vec::len))
}

/// Index of the leader among the running machines, by its peer URL.
fn leader(machines: &[Etcd]) -> usize {
    wait_for("a leader", Duration::from_secs(15), || {
        machines.iter().filter(|m| m.child.is_some()).find_map(|m| {
            let r = try_request(&m.client, "GET", "/v2/leader", &[], b"").ok()?;
            let url = r.text();
            machines
                .iter()
                .position(|x| x.child.is_some() && url == format!("https://{}", x.peer))
        })
    })
}

/// curl's exit code and output; `args` go before the URL.
fn curl(args: &[&str], url: &str) -> (i32, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "5"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl (install it to run these tests)");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Runs the binary to its end (it must stop by itself) and returns its
/// exit status and stderr.
fn run_to_exit(args: &[String]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(common::BIN)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start etcd");
    let status = wait_for("etcd to exit", Duration::from_secs(30), || {
        child.try_wait().ok().flatten()
    });
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
    }
    (status, stderr)
}

#[test]
fn client_port_with_a_ca_serves_only_clients_with_a_certificate_it_signed() {
    let dir = TempDir::new("tls-client-ca");
    let mut e = machine(
        dir.path(),
        "secure",
        vec![
            "-cert-file".into(),
            cert("server.crt"),
            "-key-file".into(),
            cert("server.key"),
            "-ca-file".into(),
            cert("ca.crt"),
        ],
    );
    e.spawn();
    let base = format!("https://{}", e.client);
    let (ca, client_crt, client_key) = (cert("ca.crt"), cert("client.crt"), cert("client.key"));
    let with_cert = ["--cacert", &ca, "--cert", &client_crt, "--key", &client_key];
    wait_for("the HTTPS client port", Duration::from_secs(15), || {
        let (code, out) = curl(&with_cert, &format!("{base}/v2/leader"));
        (code == 0 && out.starts_with("http://")).then_some(())
    });

    let (code, machines) = curl(&with_cert, &format!("{base}/v2/machines"));
    assert_eq!(code, 0);
    assert_eq!(machines, base, "advertised client URL is https");
    let (code, set) = curl(
        &[&with_cert[..], &["-XPUT", "-d", "value=bar"]].concat(),
        &format!("{base}/v2/keys/foo"),
    );
    assert_eq!(code, 0);
    assert!(set.contains("\"value\":\"bar\""), "{set}");

    let (code, _) = curl(&["--cacert", &ca], &format!("{base}/v2/keys/foo"));
    assert_ne!(code, 0, "a client without a certificate must be refused");
    let (other_crt, other_key) = (cert("other.crt"), cert("other.key"));
    let stranger = ["--cacert", &ca, "--cert", &other_crt, "--key", &other_key];
    let (code, _) = curl(&stranger, &format!("{base}/v2/keys/foo"));
    assert_ne!(code, 0, "a certificate from another CA must be refused");
    let plain = try_request(&e.client, "GET", "/v2/keys/foo", &[], b"");
    assert!(
        !plain.is_ok_and(|r| r.status == 200),
        "plain HTTP is not served"
    );
}

#[test]
fn client_port_without_a_ca_serves_any_https_client() {
    let dir = TempDir::new("tls-client");
    let mut e = machine(
        dir.path(),
        "https",
        vec![
            "-cert-file".into(),
            cert("server-chain.crt"),
            "-key-file".into(),
            cert("server-rsa.key"),
        ],
    );
    e.spawn();
    let ca = cert("ca.crt");
    let url = format!("https://{}/version", e.client);
    let version = wait_for("the HTTPS client port", Duration::from_secs(15), || {
        let (code, out) = curl(&["--cacert", &ca], &url);
        (code == 0).then_some(out)
    });
    assert!(version.contains("etcd"), "{version}");
}

#[test]
fn peer_tls_cluster_forms_replicates_and_fails_over() {
    let dir = TempDir::new("tls-peers");
    let mut machines = tls_cluster(dir.path());

    let registry = machines[0].get("/v2/keys/_etcd/machines").json();
    for (node, m) in registry["node"]["nodes"]
        .as_array()
        .expect("machine list")
        .iter()
        .zip(&machines)
    {
        assert_eq!(
            node["value"],
            format!("raft=https://{}&etcd=http://{}", m.peer, m.client)
        );
    }
    let first = leader(&machines);
    assert!(
        machines[0]
            .get("/v2/leader")
            .text()
            .starts_with("https://127.0.0.1:")
    );

    let set = machines[first].put("/v2/keys/foo", "value=one");
    assert_eq!(set.status, 201, "{}", set.text());
    for m in &machines {
        wait_for("the write to replicate", Duration::from_secs(10), || {
            let r = try_request(&m.client, "GET", "/v2/keys/foo", &[], b"").ok()?;
            (r.status == 200 && r.json()["node"]["value"] == "one").then_some(())
        });
    }

    machines[first].kill();
    let next = leader(&machines);
    assert_ne!(next, first);
    let set = wait_for("a write after failover", Duration::from_secs(15), || {
        let r = try_request(
            &machines[next].client,
            "PUT",
            "/v2/keys/foo",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"value=two",
        )
        .ok()?;
        (r.status == 200).then_some(r)
    });
    assert_eq!(set.json()["node"]["value"], "two");
    let other = (0..3)
        .find(|&i| i != first && i != next)
        .expect("a follower");
    wait_for(
        "the new write to replicate",
        Duration::from_secs(10),
        || {
            let r = request(&machines[other].client, "GET", "/v2/keys/foo", &[], b"");
            (r.json()["node"]["value"] == "two").then_some(())
        },
    );
}

#[test]
fn machines_without_the_cluster_tls_cannot_join_and_say_why() {
    let dir = TempDir::new("tls-outsiders");
    let machines = tls_cluster(dir.path());
    let via = machines[0].peer.clone();
    let outsider = |name: &str, tls: Vec<String>| {
        let mut args = machine(dir.path(), name, vec![]).args();
        args.extend(tls);
        args.extend(
            [
                "-peers",
                &via,
                "-max-retry-attempts",
                "2",
                "-retry-interval",
                "0.2",
            ]
            .map(String::from),
        );
        run_to_exit(&args)
    };

    let (status, log) = outsider("plain", vec![]);
    assert!(!status.success());
    assert!(log.contains("HTTP request to an HTTPS server"), "{log}");

    let (status, log) = outsider(
        "stranger",
        vec![
            "-peer-ca-file".into(),
            cert("other-ca.crt"),
            "-peer-cert-file".into(),
            cert("other.crt"),
            "-peer-key-file".into(),
            cert("other.key"),
        ],
    );
    assert!(!status.success());
    let warned: Vec<&str> = log.lines().filter(|l| l.contains("[WARN]")).collect();
    assert_eq!(warned.len(), 1, "one line per reason, not per retry: {log}");
    assert!(warned[0].contains("certificate verify failed"), "{log}");

    // Our certificate is fine, but the cluster does not know its issuer.
    let (status, log) = outsider(
        "foreign-cert",
        vec![
            "-peer-ca-file".into(),
            cert("ca.crt"),
            "-peer-cert-file".into(),
            cert("other.crt"),
            "-peer-key-file".into(),
            cert("other.key"),
        ],
    );
    assert!(!status.success());
    assert!(log.contains("TLS: "), "{log}");

    assert_eq!(machine_count(&machines[0].client), Some(3));
}

#[test]
fn plain_http_to_a_tls_peer_port_gets_no_successful_answer() {
    let dir = TempDir::new("tls-peer-plain");
    let mut e = machine(dir.path(), "alone", peer_tls());
    e.spawn();
    e.wait_ready();
    for path in ["/v2/admin/machines", "/version", "/join"] {
        let r = try_request(&e.peer, "GET", path, &[], b"");
        assert!(!r.is_ok_and(|r| r.status / 100 == 2), "{path}");
    }
    let (ca, url) = (cert("ca.crt"), format!("https://{}/version", e.peer));
    let (code, _) = curl(&["--cacert", &ca], &url);
    assert_ne!(code, 0, "HTTPS without a client certificate is refused");
}

#[test]
fn a_missing_certificate_file_stops_the_start_with_one_line() {
    let dir = TempDir::new("tls-missing");
    let mut args = machine(dir.path(), "broken", vec![]).args();
    args.extend(
        [
            "-peer-cert-file",
            &cert("absent.crt"),
            "-peer-key-file",
            &cert("server.key"),
        ]
        .map(String::from),
    );
    let (status, log) = run_to_exit(&args);
    assert!(!status.success());
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains("TLS: cannot read -peer-cert-file "),
        "{log}"
    );
    assert!(
        lines[0].ends_with("absent.crt: No such file or directory"),
        "{log}"
    );
    assert!(
        !dir.path().join("broken").exists(),
        "stopped before the data dir"
    );
}

#[test]
fn a_key_that_does_not_match_the_certificate_stops_the_start() {
    let dir = TempDir::new("tls-mismatch");
    let mut args = machine(dir.path(), "broken", vec![]).args();
    args.extend(
        [
            "-cert-file",
            &cert("server.crt"),
            "-key-file",
            &cert("client.key"),
        ]
        .map(String::from),
    );
    let (status, log) = run_to_exit(&args);
    assert!(!status.success());
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("TLS: -key-file "), "{log}");
    assert!(log.contains(" does not match -cert-file "), "{log}");
}

#[test]
fn the_backup_endpoint_follows_the_peer_port_s_certificate_rules() {
    let dir = TempDir::new("tls-backup");
    let mut m = machine(dir.path(), "m1", peer_tls());
    m.spawn();
    m.wait_ready();
    assert_eq!(m.put("/v2/keys/secret", "value=s").status, 201);
    let url = format!("https://{}/v2/admin/backup", m.peer);
    let file = dir.path().join("m1.backup");
    let file_arg = file.display().to_string();
    let (ca, crt, key) = (cert("ca.crt"), cert("server.crt"), cert("server.key"));
    // Without a certificate the peer CA signed, no backup.
    let (code, _) = curl(&["--cacert", &ca, "-o", &file_arg], &url);
    assert_ne!(code, 0, "a client without a certificate got through");
    assert!(!file.exists() || std::fs::metadata(&file).map_or(0, |m| m.len()) == 0);
    let (code, _) = curl(
        &[
            "--cacert", &ca, "--cert", &crt, "--key", &key, "-o", &file_arg,
        ],
        &url,
    );
    assert_eq!(code, 0);
    let bytes = std::fs::read(&file).expect("the backup");
    let backup = etcd::backup::read(&mut &bytes[..], &mut |_, _| {}).expect("checked");
    assert_eq!(backup.header.taken_by, "m1");
    let key = etcd::store::KeyPath::parse("/secret");
    assert_eq!(backup.key_space.find(&key).and_then(|n| n.value), Some("s"));
}

#[test]
fn tls_handshakes_that_never_finish_are_cut_off_while_others_are_served() {
    use std::io::{Read, Write};
    let dir = TempDir::new("tls-stalled");
    let mut e = machine(
        dir.path(),
        "stalled",
        vec![
            "-cert-file".into(),
            cert("server-chain.crt"),
            "-key-file".into(),
            cert("server-rsa.key"),
            "-http-read-timeout".into(),
            "1".into(),
        ],
    );
    e.spawn();
    let ca = cert("ca.crt");
    let url = format!("https://{}/version", e.client);
    wait_for("the HTTPS client port", Duration::from_secs(15), || {
        (curl(&["--cacert", &ca], &url).0 == 0).then_some(())
    });
    // One says nothing at all; one sends the first bytes of a ClientHello
    // (a handshake record header) and stops.
    let mut silent = std::net::TcpStream::connect(&e.client).unwrap();
    let mut partial = std::net::TcpStream::connect(&e.client).unwrap();
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .unwrap();
    let started = std::time::Instant::now();
    // Meanwhile a real client is served.
    let (code, out) = curl(&["--cacert", &ca], &url);
    assert_eq!(code, 0, "{out}");
    for (what, s) in [("silent", &mut silent), ("partial", &mut partial)] {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 256];
        // The server closes (EOF, or a reset after its alert): never a hang.
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what} handshake held for {:?}",
            started.elapsed()
        );
    }
}
