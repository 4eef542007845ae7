//! Crash safety with real processes: `kill -9` during a write load, torn
//! and corrupt logs, the data-dir lock, snapshots bounding the data dir.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{BIN, Etcd, TempDir, form_request, try_request, wait_for};

/// Writers hammer the machine; every acknowledged write is recorded with
/// the index it got. After `kill -9` and a restart, all of them must be
/// there with the same index.
fn kill_during_load_keeps_every_acknowledged_write(extra: &[&str], tag: &str) {
    let dir = TempDir::new(tag);
    let mut e = Etcd::start(dir.path(), "m1", extra);
    let acked: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (acked, stop, client) = (acked.clone(), stop.clone(), e.client.clone());
        writers.push(std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("/v2/keys/load/w{w}-{i}");
                let r = try_request(
                    &client,
                    "PUT",
                    &key,
                    &[("Content-Type", "application/x-www-form-urlencoded")],
                    format!("value=v{i}").as_bytes(),
                );
                if let Ok(r) = r
                    && r.status == 201
                {
                    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
                    let index = v["node"]["modifiedIndex"].as_u64().expect("index");
                    acked.lock().unwrap().insert(key, index);
                }
                i += 1;
            }
        }));
    }
    wait_for(
        "some writes to be acknowledged",
        Duration::from_secs(20),
        || (acked.lock().unwrap().len() >= 300).then_some(()),
    );
    e.kill();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    e.spawn();
    e.wait_ready();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300);
    for (key, index) in &acked {
        let r = e.get(key);
        assert_eq!(r.status, 200, "acknowledged write {key} lost after kill -9");
        assert_eq!(
            r.json()["node"]["modifiedIndex"].as_u64(),
            Some(*index),
            "{key} changed index"
        );
    }
    // And the machine goes on accepting writes after the highest index.
    let max = acked.values().max().copied().unwrap_or(0);
    let r = e.put("/v2/keys/after", "value=1");
    assert_eq!(r.status, 201);
    assert!(r.etcd_index() > max);
}

#[test]
fn kill_9_during_writes_loses_no_acknowledged_write() {
    kill_during_load_keeps_every_acknowledged_write(&[], "kill9");
}

#[test]
fn kill_9_with_frequent_snapshots_loses_no_acknowledged_write() {
    kill_during_load_keeps_every_acknowledged_write(&["-snapshot-count", "100"], "kill9snap");
}

fn wal_segments(data_dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(data_dir.join("wal"))
        .expect("wal dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn a_torn_tail_is_cut_off_at_startup() {
    let dir = TempDir::new("torn");
    let mut e = Etcd::start(dir.path(), "m1", &[]);
    assert_eq!(e.put("/v2/keys/k", "value=1").status, 201);
    e.kill();
    let last = wal_segments(&e.data_dir).pop().expect("a segment");
    let mut bytes = std::fs::read(&last).unwrap();
    bytes.extend_from_slice(&[0x40, 0, 0, 0, 0xde, 0xad]);
    std::fs::write(&last, bytes).unwrap();
    e.spawn();
    e.wait_ready();
    assert_eq!(e.get("/v2/keys/k").json()["node"]["value"], "1");
    assert_eq!(e.put("/v2/keys/k2", "value=2").status, 201);
}

#[test]
fn corruption_in_the_middle_refuses_to_start_naming_file_and_offset() {
    let dir = TempDir::new("corrupt");
    let mut e = Etcd::start(dir.path(), "m1", &[]);
    for i in 0..50 {
        e.put(
            &format!("/v2/keys/k{i}"),
            "value=some-longer-value-to-corrupt",
        );
    }
    e.kill();
    let first = wal_segments(&e.data_dir).remove(0);
    let mut bytes = std::fs::read(&first).unwrap();
    // In the middle of the records, not of the zeros reserved after them.
    let written = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    let middle = written / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&first, bytes).unwrap();
    let out = std::process::Command::new(BIN)
        .args(e.args())
        .output()
        .expect("run");
    assert!(!out.status.success(), "must refuse to start");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("offset"), "names the offset: {stderr}");
    assert!(
        stderr.contains(&first.file_name().unwrap().to_string_lossy().to_string()),
        "names the file: {stderr}"
    );
}

#[test]
fn a_second_process_on_the_same_data_dir_is_refused() {
    let dir = TempDir::new("lock");
    let e = Etcd::start(dir.path(), "m1", &[]);
    let mut other = Etcd {
        child: None,
        name: "m1".into(),
        client: format!("127.0.0.1:{}", common::free_port()),
        peer: format!("127.0.0.1:{}", common::free_port()),
        data_dir: e.data_dir.clone(),
        extra: vec![],
        log: dir.path().join("other.log"),
        env: vec![],
    };
    let out = std::process::Command::new(BIN)
        .args(other.args())
        .output()
        .expect("run");
    other.child = None;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use"));
    assert_eq!(e.put("/v2/keys/still", "value=ok").status, 201);
}

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        dir_size(&p)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn snapshots_keep_the_data_dir_bounded_and_restart_replays() {
    let dir = TempDir::new("bounded");
    let mut e = Etcd::start_with_env(
        dir.path(),
        "m1",
        &["-snapshot-count", "300"],
        &[("ETCD_WAL_SEGMENT_BYTES", "262144")],
    );
    let value = "x".repeat(1024);
    let overwrite = |from: usize, to: usize| {
        for i in from..to {
            let r = form_request(
                &e.client,
                "PUT",
                &format!("/v2/keys/over{}", i % 10),
                &format!("value={value}"),
            );
            assert!(
                r.status == 200 || r.status == 201,
                "write {i}: {}",
                r.status
            );
        }
    };
    overwrite(0, 2000);
    let early = dir_size(&e.data_dir);
    overwrite(2000, 6000);
    let late = dir_size(&e.data_dir);
    // Three times the writes, yet the directory holds about the same: old
    // segments go once a snapshot covers them (4 MiB were written in all).
    assert!(
        late < early + early / 2,
        "data dir grew from {early} to {late} bytes"
    );
    let snaps = std::fs::read_dir(e.data_dir.join("snap")).unwrap().count();
    assert!((1..=3).contains(&snaps), "{snaps} snapshot files");
    let before = e.get("/v2/keys/over3").json();
    e.restart();
    assert_eq!(e.get("/v2/keys/over3").json()["node"], before["node"]);
}

/// What the log on disk says is committed, read while the machine runs.
fn commit_on_disk(data_dir: &std::path::Path) -> u64 {
    common::inspect_json(data_dir)["commitIndex"]
        .as_u64()
        .expect("commitIndex")
}

/// A hard state that only moves the commit index waits for the next WAL
/// job with entries, or for the next tick: an idle machine's log still
/// says how far it is committed soon after its last write, so a kill -9
/// then restarts with every write applied from the log.
#[test]
fn an_idle_machines_commit_index_reaches_its_log_and_survives_kill_9() {
    let dir = TempDir::new("commit-hold");
    let mut e = Etcd::start(dir.path(), "m1", &[]);
    let mut last = 0;
    for i in 0..5 {
        let r = e.put(&format!("/v2/keys/held/{i}"), "value=v");
        assert_eq!(r.status, 201);
        last = r
            .header("X-Raft-Index")
            .and_then(|v| v.parse::<u64>().ok())
            .expect("X-Raft-Index");
    }
    wait_for("the commit index on disk", Duration::from_secs(10), || {
        (commit_on_disk(&e.data_dir) >= last).then_some(())
    });
    e.kill();
    assert!(commit_on_disk(&e.data_dir) >= last, "kept after kill -9");
    e.restart();
    for i in 0..5 {
        assert_eq!(e.get(&format!("/v2/keys/held/{i}")).status, 200);
    }
}
