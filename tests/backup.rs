//! Backup and restore with real processes: online backups from a follower
//! and from the leader of a three-machine cluster under a write load,
//! each restored into a fresh machine that others then join; refused
//! files and data dirs; an offline backup of a stopped member; and the
//! inspection of data dirs, a damaged one included.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{BIN, Etcd, Resp, TempDir, request, request_l, try_request, wait_for};

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// Key → the modifiedIndex its one acknowledged write got.
type Acked = Arc<Mutex<BTreeMap<String, u64>>>;

struct Cluster {
    dir: TempDir,
    machines: Vec<Etcd>,
}

impl Cluster {
    /// Three machines (`common::three_machines`).
    fn start(tag: &str, extra: &[&str]) -> Cluster {
        let dir = TempDir::new(tag);
        let machines = common::three_machines(dir.path(), extra);
        Cluster { dir, machines }
    }

    fn leader(&self) -> usize {
        wait_for("a leader", Duration::from_secs(10), || {
            let m = self.machines.iter().find(|m| m.child.is_some())?;
            let r = try_request(&m.client, "GET", "/v2/leader", &[], b"").ok()?;
            let url = (r.status == 200).then(|| r.text())?;
            self.machines.iter().position(|x| url.ends_with(&x.peer))
        })
    }
}

/// Writer threads putting unique keys through any machine (following
/// redirects), recording each acknowledged write's index.
struct Load {
    acked: Acked,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(clients: Vec<String>, writers: usize) -> Load {
        let acked: Acked = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..writers)
            .map(|w| {
                let (acked, stop, clients) = (acked.clone(), stop.clone(), clients.clone());
                std::thread::spawn(move || {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let key = format!("/v2/keys/load/w{w}-{i}");
                        let via = &clients[(w + i) % clients.len()];
                        let body = format!("value=v{i}");
                        if let Ok(r) = request_l(via, "PUT", &key, &[FORM], body.as_bytes())
                            && r.status == 201
                        {
                            let index = r.json()["node"]["modifiedIndex"].as_u64();
                            acked.lock().unwrap().insert(key, index.expect("index"));
                        }
                        i += 1;
                    }
                })
            })
            .collect();
        Load {
            acked,
            stop,
            threads,
        }
    }

    fn count(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    fn finish(self) -> BTreeMap<String, u64> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        self.acked.lock().unwrap().clone()
    }
}

/// `GET /v2/admin/backup` on `peer`, saved to `file`; returns the index.
fn online_backup(peer: &str, file: &Path) -> u64 {
    let r = request(peer, "GET", "/v2/admin/backup", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("Content-Type"), Some("application/octet-stream"));
    let index: u64 = r
        .header("X-Backup-Index")
        .and_then(|v| v.parse().ok())
        .expect("X-Backup-Index");
    assert_eq!(r.etcd_index(), index, "X-Etcd-Index is the backup's index");
    let header = etcd::backup::read(&mut &r.body[..], &mut |_, _| {})
        .expect("a whole, checked backup")
        .header;
    assert_eq!(header.store_index, index, "the file says the same index");
    std::fs::write(file, &r.body).unwrap();
    index
}

/// Every acknowledged write at or below `index` is on `machine` with its
/// index; none above it is.
fn holds_exactly(machine: &Etcd, acked: &BTreeMap<String, u64>, index: u64) {
    let (mut before, mut after) = (0, 0);
    for (key, modified) in acked {
        let r = machine.get(key);
        if *modified <= index {
            assert_eq!(
                r.status, 200,
                "{}: {key} ({modified}) is missing",
                machine.name
            );
            assert_eq!(r.json()["node"]["modifiedIndex"].as_u64(), Some(*modified));
            before += 1;
        } else {
            assert_eq!(
                r.status, 404,
                "{}: {key} ({modified}) is there",
                machine.name
            );
            after += 1;
        }
    }
    eprintln!(
        "{}: {before} keys at or below {index} present, {after} above absent",
        machine.name
    );
}

/// `GET` of the keys written before the load, whose shape must survive.
fn fixed_keys(machine: &Etcd) -> Vec<serde_json::Value> {
    [
        "/v2/keys/fixed/ttl",
        "/v2/keys/fixed/_hidden",
        "/v2/keys/fixed/dir",
    ]
    .iter()
    .map(|key| {
        let r = machine.get(key);
        assert_eq!(r.status, 200, "{}: {key}", machine.name);
        let mut node = r.json()["node"].clone();
        // Seconds left change while the test runs; the expiration not.
        if let Some(n) = node.as_object_mut() {
            n.remove("ttl");
        }
        node
    })
    .collect()
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run etcd")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A machine started from a backup file in a fresh data dir.
fn restore_machine(dir: &Path, name: &str, file: &Path) -> Etcd {
    let mut e = Etcd::new(dir, name, &["-restore", path(file)]);
    e.spawn();
    e.wait_ready();
    e
}

#[test]
fn backups_under_load_restore_with_their_indices_and_take_new_members() {
    let mut c = Cluster::start("backup-load", &["-snapshot-count", "300"]);
    let leader = c.leader();
    let follower = (leader + 1) % 3;
    let lead = c.machines[leader].client.clone();
    for (key, form) in [
        ("/v2/keys/fixed/ttl", "value=t&ttl=3600"),
        ("/v2/keys/fixed/_hidden", "value=h"),
        ("/v2/keys/fixed/dir", "dir=true"),
    ] {
        let r = request_l(&lead, "PUT", key, &[FORM], form.as_bytes()).unwrap();
        assert_eq!(r.status, 201, "{key}: {}", r.text());
    }
    let before = fixed_keys(&c.machines[leader]);

    let clients: Vec<String> = c.machines.iter().map(|m| m.client.clone()).collect();
    let load = Load::start(clients, 4);
    wait_for("writes before the backups", Duration::from_secs(30), || {
        (load.count() >= 1500).then_some(())
    });
    let files = c.dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let from_follower = files.join("follower.backup");
    let from_leader = files.join("leader.backup");
    let acked_at_start = load.count();
    let follower_index = online_backup(&c.machines[follower].peer, &from_follower);
    let leader_index = online_backup(&c.machines[leader].peer, &from_leader);
    // The writes went on while the copies were streamed, and after them.
    wait_for("writes after the backups", Duration::from_secs(30), || {
        (load.count() >= acked_at_start + 500).then_some(())
    });
    let acked = load.finish();
    let highest = acked.values().max().copied().unwrap_or(0);
    assert!(follower_index < highest && leader_index < highest);
    eprintln!(
        "backups at {follower_index} (follower) and {leader_index} (leader); {} writes up to {highest}",
        acked.len()
    );

    let restored_dir = TempDir::new("backup-restored");
    for (name, file, index) in [
        ("fromfollower", &from_follower, follower_index),
        ("fromleader", &from_leader, leader_index),
    ] {
        let r = restore_machine(restored_dir.path(), name, file);
        holds_exactly(&r, &acked, index);
        assert_eq!(fixed_keys(&r), before, "TTL, hidden key and directory");
        // The old members are gone from the registry; only this one is there.
        let registry = r.get("/v2/keys/_etcd/machines").json();
        let listed: Vec<&str> = registry["node"]["nodes"]
            .as_array()
            .expect("registry")
            .iter()
            .filter_map(|n| n["key"].as_str())
            .collect();
        assert_eq!(listed, [format!("/_etcd/machines/{name}")]);
        assert_eq!(r.machines(), Some(vec![format!("http://{}", r.client)]));
        // The next write gets the next index.
        let w = r.put("/v2/keys/after-restore", "value=1");
        assert_eq!(w.status, 201);
        assert_eq!(w.etcd_index(), index + 1);
        assert_eq!(w.json()["node"]["modifiedIndex"].as_u64(), Some(index + 1));
        // A watch from before the backup's index is told to re-read.
        let old = r.get(&format!("/v2/keys/load?wait=true&waitIndex={index}"));
        assert_eq!(old.json()["errorCode"], 401, "{}", old.text());

        if name == "fromfollower" {
            joiners_serve_the_same_keys(restored_dir.path(), &r, &acked, index);
        }
    }

    offline_backup_of_a_stopped_member_restores(&mut c, follower, &acked);
}

fn joiners_serve_the_same_keys(
    dir: &Path,
    restored: &Etcd,
    acked: &BTreeMap<String, u64>,
    index: u64,
) {
    let mut joiners = Vec::new();
    for name in ["joiner1", "joiner2"] {
        let mut j = Etcd::new(dir, name, &["-peers", &restored.peer]);
        j.spawn();
        j.wait_ready();
        joiners.push(j);
    }
    let target = restored.get("/v2/keys/").etcd_index();
    assert_eq!(target, index + 3, "the write and two joins");
    for j in &joiners {
        wait_for("the joiner to catch up", Duration::from_secs(20), || {
            let r = try_request(&j.client, "GET", "/v2/keys/", &[], b"").ok()?;
            (r.etcd_index() >= target).then_some(())
        });
        holds_exactly(j, acked, index);
        assert_eq!(j.get("/v2/keys/after-restore").status, 200);
    }
    let machines = restored.machines().expect("machines");
    assert_eq!(machines.len(), 3, "{machines:?}");
}

fn offline_backup_of_a_stopped_member_restores(
    c: &mut Cluster,
    which: usize,
    acked: &BTreeMap<String, u64>,
) {
    let highest = acked.values().max().copied().unwrap_or(0);
    let member = &mut c.machines[which];
    wait_for(
        "the member to apply every write",
        Duration::from_secs(20),
        || {
            let r = try_request(&member.client, "GET", "/v2/keys/", &[], b"").ok()?;
            (r.etcd_index() >= highest).then_some(())
        },
    );
    let data_dir = member.data_dir.clone();
    let file = c.dir.path().join("files").join("offline.backup");
    // A running member is refused (its log moves on) and shown as in use.
    let out = run(&[
        "-backup-data-dir",
        path(&data_dir),
        "-backup-file",
        path(&file),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("in use by a running etcd"),
        "{}",
        stderr(&out)
    );
    assert!(!file.exists());
    let out = run(&["-inspect", path(&data_dir), "-json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["lock"], "in use");
    member.kill();
    let out = run(&[
        "-backup-data-dir",
        path(&data_dir),
        "-backup-file",
        path(&file),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("store index"), "{}", stderr(&out));
    let bytes = std::fs::read(&file).unwrap();
    let backup = etcd::backup::read(&mut &bytes[..], &mut |_, _| {}).expect("checked");
    assert_eq!(backup.header.origin, etcd::backup::Origin::Offline);
    assert_eq!(backup.header.taken_by, member.name);
    // The last commit index it learned may not have reached its disk
    // before the kill; everything up to the file's index must be there.
    let index = backup.header.store_index;
    assert!(index > 500, "{index}");

    inspection_describes_the_stopped_member(&data_dir, &member.name, index);

    let dir = TempDir::new("backup-offline");
    let r = restore_machine(dir.path(), "fromoffline", &file);
    holds_exactly(&r, acked, index);
    assert_eq!(r.put("/v2/keys/next", "value=1").etcd_index(), index + 1);
}

fn inspection_describes_the_stopped_member(data_dir: &Path, name: &str, store_index: u64) {
    let out = run(&["-inspect", path(data_dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for needle in [
        format!("name          {name} (member id "),
        "raft          term ".to_string(),
        format!("store         index {store_index}: "),
        "snapshots     ".to_string(),
        "wal segments  ".to_string(),
        "problems      0".to_string(),
        "voter".to_string(),
    ] {
        assert!(text.contains(&needle), "{needle:?} in\n{text}");
    }
    let json = common::inspect_json(data_dir);
    assert_eq!(json["name"], name);
    assert_eq!(json["lock"], "free");
    assert_eq!(json["storeIndex"].as_u64(), Some(store_index));
    assert_eq!(json["members"].as_array().map(Vec::len), Some(3));
    assert!(json["term"].as_u64() > Some(0));
    assert!(json["commitIndex"].as_u64() >= json["snapshotIndex"].as_u64());
    assert_eq!(json["appliedIndex"], json["commitIndex"]);
    assert!(json["keys"].as_u64() > Some(500));
    let snapshots = json["snapshots"].as_array().expect("snapshots");
    assert!(!snapshots.is_empty(), "-snapshot-count 300 made some");
    assert!(
        snapshots
            .iter()
            .all(|s| s["ok"] == true && s["bytes"].as_u64() > Some(0))
    );
    let segments = json["walSegments"].as_array().expect("segments");
    assert!(!segments.is_empty());
    assert!(
        segments
            .iter()
            .all(|s| s["lastIndex"].as_u64() >= s["firstIndex"].as_u64())
    );
    assert_eq!(json["problems"], serde_json::json!([]));
}

/// A one-machine data dir with some writes, stopped; and a backup of it.
fn small_member(dir: &Path) -> (PathBuf, PathBuf) {
    let mut e = Etcd::start(dir, "m1", &[]);
    for i in 0..60 {
        let r = e.put(
            &format!("/v2/keys/k{i}"),
            "value=some-value-long-enough-to-corrupt",
        );
        assert_eq!(r.status, 201);
    }
    let file = dir.join("m1.backup");
    online_backup(&e.peer, &file);
    e.kill();
    (e.data_dir.clone(), file)
}

#[test]
fn bad_files_and_used_data_dirs_are_refused_with_one_line_touching_nothing() {
    let dir = TempDir::new("backup-refused");
    let (data_dir, good) = small_member(dir.path());
    let bytes = std::fs::read(&good).unwrap();
    let mut corrupt = bytes.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0xff;
    let mut other_version = bytes.clone();
    other_version[8] = 2;
    let segment = std::fs::read_dir(data_dir.join("wal"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let foreign = std::fs::read(segment).unwrap();
    for (name, content, needle) in [
        (
            "truncated",
            bytes[..bytes.len() * 2 / 3].to_vec(),
            "truncated",
        ),
        ("corrupt", corrupt, "corrupt at byte"),
        ("version", other_version, "unknown backup format version 2"),
        ("foreign", foreign, "not an etcd backup file"),
    ] {
        let file = dir.path().join(format!("{name}.backup"));
        std::fs::write(&file, content).unwrap();
        let fresh = dir.path().join(format!("fresh-{name}"));
        let mut e = Etcd::new(dir.path(), &format!("r-{name}"), &["-restore", path(&file)]);
        e.data_dir = fresh.clone();
        let out = Command::new(BIN).args(e.args()).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let text = stderr(&out);
        assert_eq!(text.trim().lines().count(), 1, "{name}: one line: {text}");
        assert!(text.contains(needle), "{name}: {needle} in {text}");
        assert!(text.contains(path(&file)), "{name}: names the file: {text}");
        assert!(!fresh.exists(), "{name}: the data dir was created");
    }

    // A data dir with data in it, whatever the file.
    let mut e = Etcd::new(dir.path(), "m1", &["-restore", path(&good)]);
    e.data_dir = data_dir.clone();
    let before = std::fs::read_dir(&data_dir).unwrap().count();
    let out = Command::new(BIN).args(e.args()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert_eq!(text.trim().lines().count(), 1, "one line: {text}");
    assert!(text.contains("already holds data"), "{text}");
    assert_eq!(std::fs::read_dir(&data_dir).unwrap().count(), before);

    // With -peers, a restore is refused before anything is read.
    let out = run(&["-restore", path(&good), "-peers", "127.0.0.1:7001"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot be combined with -peers"));

    // An empty directory is fine, and the good file restores into it.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let mut e = Etcd::new(dir.path(), "r-empty", &["-restore", path(&good)]);
    e.data_dir = empty;
    e.spawn();
    e.wait_ready();
    assert_eq!(e.get("/v2/keys/k59").status, 200);
}

/// A copy of `from` in `to`, without its lock file.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.path().is_dir() {
            copy_dir(&item.path(), &target);
        } else if item.file_name() != "lock" {
            std::fs::copy(item.path(), &target).unwrap();
        }
    }
}

/// Every file under `dir` with its bytes.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut all = BTreeMap::new();
    for item in std::fs::read_dir(dir).unwrap() {
        let p = item.unwrap().path();
        if p.is_dir() {
            all.extend(contents(&p));
        } else {
            all.insert(p.clone(), std::fs::read(&p).unwrap());
        }
    }
    all
}

#[test]
fn inspection_names_damage_by_file_and_offset_and_changes_nothing() {
    let dir = TempDir::new("backup-inspect");
    let (data_dir, _) = small_member(dir.path());
    let damaged = dir.path().join("damaged");
    copy_dir(&data_dir, &damaged);
    let segment = std::fs::read_dir(damaged.join("wal"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&segment).unwrap();
    // In the middle of the records, not of the zeros reserved after them.
    let written = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    let middle = written / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&segment, bytes).unwrap();
    let before = contents(&damaged);

    let out = run(&["-inspect", path(&damaged)]);
    assert_eq!(out.status.code(), Some(2), "damage gives status 2");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains(": corrupt: "))
        .unwrap_or_else(|| panic!("a corrupt line in\n{text}"));
    assert!(line.contains(path(&segment)), "names the file: {line}");
    let offset: u64 = line
        .split(" at offset ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("names the offset: {line}"));
    assert!(offset <= middle as u64, "{offset} > {middle}");
    assert!(text.contains("lock: no lock file"), "{text}");

    let out = run(&["-inspect", path(&damaged), "-json"]);
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let problem = &json["problems"][0];
    assert_eq!(problem["file"], path(&segment));
    assert_eq!(problem["offset"].as_u64(), Some(offset));
    assert_eq!(problem["kind"], "corrupt");
    assert_eq!(problem["damage"], true);
    assert!(
        json["storeIndex"].as_u64() < Some(61),
        "the replay stops at the damage"
    );

    // An offline backup stops before the damage and says where it is.
    let file = dir.path().join("damaged.backup");
    let out = run(&[
        "-backup-data-dir",
        path(&damaged),
        "-backup-file",
        path(&file),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("at offset {offset}")),
        "{}",
        stderr(&out)
    );
    assert!(etcd::backup::read(&mut &std::fs::read(&file).unwrap()[..], &mut |_, _| {}).is_ok());
    assert_eq!(
        contents(&damaged),
        before,
        "no byte of the data dir changed"
    );
    assert!(!damaged.join("lock").exists(), "no lock file was created");
    // The machine itself refuses the directory, naming the same place.
    let mut refused = Etcd::new(dir.path(), "m1", &[]);
    refused.data_dir = damaged.clone();
    let out = Command::new(BIN).args(refused.args()).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("at offset {offset}")),
        "{}",
        stderr(&out)
    );

    // The healthy original: nothing wrong, and a torn tail is only a note.
    let out = run(&["-inspect", path(&data_dir)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let torn = dir.path().join("torn");
    copy_dir(&data_dir, &torn);
    let segment = std::fs::read_dir(torn.join("wal"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let out = run(&["-inspect", path(&torn), "-json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let end = json["walSegments"][0]["usedBytes"]
        .as_u64()
        .expect("usedBytes") as usize;
    let mut bytes = std::fs::read(&segment).unwrap();
    assert!(
        bytes[end..].iter().all(|b| *b == 0),
        "only reserved zeros follow the records"
    );
    // Half a record header written where the next record goes.
    let torn_bytes = [0x40, 0, 0, 0, 0xde, 0xad];
    if bytes.len() < end + torn_bytes.len() {
        bytes.resize(end + torn_bytes.len(), 0);
    }
    bytes[end..end + torn_bytes.len()].copy_from_slice(&torn_bytes);
    std::fs::write(&segment, &bytes).unwrap();
    let out = run(&["-inspect", path(&torn), "-json"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["problems"][0]["kind"], "torn tail");
    assert_eq!(json["problems"][0]["offset"].as_u64(), Some(end as u64));
    assert_eq!(std::fs::read(&segment).unwrap(), bytes, "not cut");
}

/// The figures in the README: 200 000 keys of 100 bytes. Run by hand:
/// `cargo test --release --test backup -- --ignored --nocapture`.
#[test]
#[ignore]
fn figures_for_200_000_keys_of_100_bytes() {
    use etcd::backup::{Origin, Source};
    use etcd::membership::{ClusterConfig, Members};
    use etcd::store::{KeyPath, KeySpace, NodeRecord};

    let dir = TempDir::new("backup-figures");
    // The file a cluster holding these keys would give, built directly.
    let n: u64 = 200_000;
    let mut space = KeySpace::empty(n + 1);
    let dir_record = |key: &str| NodeRecord {
        key: KeyPath::parse(key),
        value: None,
        created_index: 1,
        modified_index: 1,
        expiration: None,
    };
    space.insert(dir_record("/bench")).unwrap();
    for i in 0..n {
        space
            .insert(NodeRecord {
                key: KeyPath::parse(&format!("/bench/key{i:06}")),
                value: Some(format!("{i:0100}")),
                created_index: i + 2,
                modified_index: i + 2,
                expiration: None,
            })
            .unwrap();
    }
    let source = Source {
        key_space: space,
        members: Members::default(),
        config: ClusterConfig::default(),
        auth: Default::default(),
        raft_index: n + 1,
        raft_term: 2,
        taken_by: "generated".into(),
        taken_at: 0,
        origin: Origin::Online,
    };
    let file = dir.path().join("generated.backup");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    etcd::backup::write(&mut out, &source, &mut |_, _| {}).unwrap();
    drop(out);

    let started = Instant::now();
    let mut e = Etcd::new(dir.path(), "r1", &["-restore", path(&file)]);
    e.spawn();
    e.wait_ready();
    let restore = started.elapsed();
    assert_eq!(e.put("/v2/keys/probe", "value=1").etcd_index(), n + 2);

    // An online backup while a writer measures how long its writes wait.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let (client, stop2, written2) = (e.client.clone(), stop.clone(), written.clone());
    let writer = std::thread::spawn(move || {
        let mut worst = Duration::ZERO;
        let mut count = 0;
        while !stop2.load(Ordering::Relaxed) {
            let t = Instant::now();
            let r = request(&client, "PUT", "/v2/keys/w", &[FORM], b"value=x");
            assert!(r.status < 300);
            worst = worst.max(t.elapsed());
            count += 1;
            written2.store(count, Ordering::Relaxed);
        }
        (worst, count)
    });
    // Writes before, during and after the backup.
    let writes_past = |n: u64| {
        wait_for("the writer's writes", Duration::from_secs(30), || {
            (written.load(Ordering::Relaxed) >= n).then_some(())
        })
    };
    writes_past(300);
    let started = Instant::now();
    let r: Resp = request(&e.peer, "GET", "/v2/admin/backup", &[], b"");
    let backup = started.elapsed();
    assert_eq!(r.status, 200);
    writes_past(written.load(Ordering::Relaxed) + 300);
    stop.store(true, Ordering::Relaxed);
    let (worst, writes) = writer.join().unwrap();
    let online = dir.path().join("online.backup");
    std::fs::write(&online, &r.body).unwrap();
    let copy_ms = e
        .log_text()
        .lines()
        .find_map(|l| l.split("key space copied in ").nth(1).map(str::to_string))
        .unwrap_or_default();

    e.kill();
    let started = Instant::now();
    let offline = dir.path().join("offline.backup");
    let out = run(&[
        "-backup-data-dir",
        path(&e.data_dir),
        "-backup-file",
        path(&offline),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let offline_time = started.elapsed();
    let started = Instant::now();
    let out = run(&["-inspect", path(&e.data_dir)]);
    assert!(out.status.success());
    let inspect = started.elapsed();

    eprintln!("200000 keys of 100 bytes:");
    eprintln!("  file size: {} bytes", r.body.len());
    eprintln!("  restore (etcd -restore until a leader answers): {restore:?}");
    eprintln!("  online backup (GET /v2/admin/backup, whole body): {backup:?}");
    eprintln!("  state thread's copy: {copy_ms}");
    eprintln!("  writes during the backup: {writes}, slowest {worst:?}");
    eprintln!("  offline backup (-backup-data-dir): {offline_time:?}");
    eprintln!("  inspection (-inspect): {inspect:?}");
}
