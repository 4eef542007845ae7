//! Test harness: start the real `etcd` binary on free loopback ports, talk
//! to it over raw HTTP/1.1, and kill it when the test ends (even on panic).

#![allow(dead_code)]

pub mod fake;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_etcd");

/// A port nobody listens on right now.
///
/// Taken below the kernel's ephemeral range (32768 and up), where the
/// tests' own outgoing connections get their source ports: a port handed
/// out here cannot be taken by a client socket before etcd binds it.
/// Each is handed out once per test process; the ports of the seed
/// walkthrough and the fixture (4000-4999, 7000-7999) are skipped.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 10_000;
    const SPAN: u32 = 22_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        (std::process::id().wrapping_mul(7919)) % SPAN,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..SPAN {
        let port = LOW + NEXT.fetch_add(1, Ordering::SeqCst) % SPAN;
        if (4000..5000).contains(&port) || (7000..8000).contains(&port) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
            return port as u16;
        }
    }
    panic!("no free port below the ephemeral range")
}

/// A fresh directory under the target dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let dir = base.join(format!("{tag}-{}-{}", std::process::id(), free_port()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `etcd -inspect DIR -json`, which must succeed (it also reads the data
/// dir of a running machine).
pub fn inspect_json(data_dir: &Path) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["-inspect", data_dir.to_str().expect("UTF-8 path"), "-json"])
        .output()
        .expect("run -inspect");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Poll `f` every 20 ms until it returns Some, or panic after `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, f: impl FnMut() -> Option<T>) -> T {
    match poll_for(limit, f) {
        Some(v) => v,
        None => panic!("timed out waiting for {what}"),
    }
}

/// Poll `f` every 20 ms until it returns Some; None after `limit` (for a
/// caller that says more than `wait_for` when it gives up).
pub fn poll_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One running etcd process.
pub struct Etcd {
    pub child: Option<Child>,
    pub name: String,
    pub client: String,
    pub peer: String,
    pub data_dir: PathBuf,
    pub extra: Vec<String>,
    pub log: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Etcd {
    /// A machine with its own ports and data dir inside `dir`, not started.
    pub fn new(dir: &Path, name: &str, extra: &[&str]) -> Etcd {
        Etcd {
            child: None,
            name: name.to_string(),
            client: format!("127.0.0.1:{}", free_port()),
            peer: format!("127.0.0.1:{}", free_port()),
            data_dir: dir.join(name),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            log: dir.join(format!("{name}.log")),
            env: Vec::new(),
        }
    }

    /// A machine on the given addresses (`host:port`) and data dir, not
    /// started: for data dirs whose registry already names its ports.
    pub fn at(name: &str, client: &str, peer: &str, data_dir: &Path, extra: &[&str]) -> Etcd {
        let log = data_dir.with_file_name(format!("{name}.log"));
        Etcd {
            child: None,
            name: name.to_string(),
            client: client.to_string(),
            peer: peer.to_string(),
            data_dir: data_dir.to_path_buf(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            log,
            env: Vec::new(),
        }
    }

    /// Wait until the client port answers HTTP at all (a standby answers
    /// with redirects; it never knows a leader of its own).
    pub fn wait_serving(&mut self, limit: Duration) {
        let client = self.client.clone();
        wait_for("the client port to answer", limit, || {
            self.must_still_run();
            try_request(&client, "GET", "/version", &[], b"")
                .ok()
                .map(|_| ())
        });
    }

    /// Panics with the log if the process has exited.
    fn must_still_run(&mut self) {
        if let Some(child) = self.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            panic!("etcd exited early with {status}: {}", self.log_text());
        }
    }

    /// The exit status, if the process ends within `limit`.
    pub fn exit_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            let child = self.child.as_mut()?;
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The client URLs `/v2/machines` lists here, if it answers 200.
    pub fn machines(&self) -> Option<Vec<String>> {
        let r = try_request(&self.client, "GET", "/v2/machines", &[], b"").ok()?;
        (r.status == 200).then(|| {
            r.text()
                .split(", ")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
    }

    /// Start a single machine with its own data dir inside `dir`.
    pub fn start(dir: &Path, name: &str, extra: &[&str]) -> Etcd {
        Etcd::start_with_env(dir, name, extra, &[])
    }

    pub fn start_with_env(dir: &Path, name: &str, extra: &[&str], env: &[(&str, &str)]) -> Etcd {
        let mut e = Etcd::new(dir, name, extra);
        e.env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        e.spawn();
        e.wait_ready();
        e
    }

    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "-name".to_string(),
            self.name.clone(),
            "-addr".into(),
            self.client.clone(),
            "-peer-addr".into(),
            self.peer.clone(),
            "-data-dir".into(),
            self.data_dir.display().to_string(),
        ];
        args.extend(self.extra.iter().cloned());
        args
    }

    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(BIN)
            .args(self.args())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start etcd");
        self.child = Some(child);
    }

    /// Wait until the client port answers and a leader is known.
    pub fn wait_ready(&mut self) {
        let client = self.client.clone();
        wait_for("etcd to elect a leader", Duration::from_secs(15), || {
            self.must_still_run();
            let r = try_request(&client, "GET", "/v2/leader", &[], b"").ok()?;
            (r.status == 200).then_some(())
        });
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
        self.wait_ready();
    }

    /// SIGSTOP, then wait until every thread has stopped. `kill` returns
    /// before that: the group stop begins only when one thread of the
    /// process takes the signal, and under CPU load the others can go on
    /// answering peers for milliseconds.
    pub fn pause(&self) {
        self.signal("-STOP");
        wait_for("every thread to stop", Duration::from_secs(10), || {
            self.thread_states()
                .iter()
                .all(|s| *s == 'T' || *s == 't')
                .then_some(())
        });
    }

    /// SIGCONT, then wait until no thread is stopped any more.
    pub fn resume(&self) {
        self.signal("-CONT");
        wait_for("every thread to run again", Duration::from_secs(10), || {
            (!self.thread_states().contains(&'T')).then_some(())
        });
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {sig} {pid}");
    }

    /// The state letter of each thread (`/proc/<pid>/task/*/stat`).
    fn thread_states(&self) -> Vec<char> {
        let pid = self.child.as_ref().expect("running").id();
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the process's threads");
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("stat")).ok())
            // "tid (comm) S ...": the name may hold spaces and parentheses.
            .filter_map(|stat| stat.rsplit_once(')')?.1.trim_start().chars().next())
            .collect()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn get(&self, path: &str) -> Resp {
        request(&self.client, "GET", path, &[], b"")
    }

    pub fn put(&self, path: &str, form: &str) -> Resp {
        form_request(&self.client, "PUT", path, form)
    }

    pub fn post(&self, path: &str, form: &str) -> Resp {
        form_request(&self.client, "POST", path, form)
    }

    pub fn delete(&self, path: &str) -> Resp {
        request(&self.client, "DELETE", path, &[], b"")
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }
    pub fn etcd_index(&self) -> u64 {
        self.header("X-Etcd-Index")
            .and_then(|v| v.parse().ok())
            .expect("X-Etcd-Index")
    }
}

/// Follow 307s like `curl -L` (the same method and body to the new place).
pub fn request_l(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Resp> {
    let mut target = addr.to_string();
    let mut path = path.to_string();
    for _ in 0..5 {
        let r = try_request(&target, method, &path, headers, body)?;
        if r.status != 307 {
            return Ok(r);
        }
        let loc = r.header("Location").unwrap_or_default().to_string();
        let rest = loc
            .strip_prefix("http://")
            .or_else(|| loc.strip_prefix("https://"))
            .unwrap_or(&loc);
        let (host, p) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        target = host.to_string();
        path = if p.is_empty() {
            "/".into()
        } else {
            p.to_string()
        };
    }
    Err(std::io::Error::other("too many redirects"))
}

pub fn form_request(addr: &str, method: &str, path: &str, form: &str) -> Resp {
    request(
        addr,
        method,
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    )
}

pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    try_request(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {addr}{path}: {e}"))
}

/// One request on a fresh connection (`Connection: close`), reading the
/// whole response. Handles Content-Length, chunked, and until-close bodies.
pub fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || matches!(method, "PUT" | "POST") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw, method == "HEAD")
}

pub fn parse_response(raw: &[u8], head_only: bool) -> std::io::Result<Resp> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("no status line"))?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if head_only {
        Vec::new()
    } else if chunked {
        dechunk(rest).ok_or_else(|| bad("bad chunked body"))?
    } else {
        rest.to_vec()
    };
    Ok(Resp {
        status,
        headers,
        body,
    })
}

pub fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// Three machines of one cluster, started with `extra` flags: machine1
/// first, each of the others joining through the peers already up once the
/// one before is registered; returns once the first lists all three.
pub fn three_machines(dir: &Path, extra: &[&str]) -> Vec<Etcd> {
    let mut machines: Vec<Etcd> = Vec::new();
    for i in 1..=3 {
        let mut e = Etcd::new(dir, &format!("machine{i}"), extra);
        if i > 1 {
            let peers: Vec<String> = machines.iter().map(|m| m.peer.clone()).collect();
            e.extra.push("-peers".into());
            e.extra.push(peers.join(","));
        }
        e.spawn();
        e.wait_ready();
        let first = machines
            .first()
            .map_or(e.client.clone(), |m| m.client.clone());
        let key = format!("/v2/keys/_etcd/machines/{}", e.name);
        wait_for("registration", Duration::from_secs(15), || {
            let r = try_request(&first, "GET", &key, &[], b"").ok()?;
            (r.status == 200).then_some(())
        });
        machines.push(e);
    }
    let first = machines[0].client.clone();
    wait_for("three members", Duration::from_secs(15), || {
        let r = try_request(&first, "GET", "/v2/machines", &[], b"").ok()?;
        (r.text().split(", ").count() == 3).then_some(())
    });
    machines
}
