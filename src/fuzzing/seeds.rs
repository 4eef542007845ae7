//! Writes the hand-made seeds of `testdata/fuzz/<target>/seed-*`, built
//! with the real encoders (and from the etcd 0.4.6 fixture cluster when
//! `/work/shared/fixtures` or `ETCD04_FIXTURES` is there), so that every
//! target starts from inputs our own writers produce:
//!
//! ```sh
//! cargo test --lib write_fuzz_seeds -- --ignored
//! ```
//!
//! Seeds taken from a running binary (`real-*`) and entries the fuzzer
//! found are kept beside them; this only rewrites `seed-*`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::backup::{Origin, Source};
use crate::membership::{ClusterConfig, Member, Members};
use crate::raft::types::base64_bytes;
use crate::raft::{
    ConfChange, ConfState, Entry, EntryKind, HardState, Message, MessageBody, Snapshot,
    SnapshotMeta,
};
use crate::server::command::Command;
use crate::server::snapshot_data::SnapshotData;
use crate::store::{KeyPath, Store, StoreCommand};
use crate::wal::{
    RecordType, Wal, WalOptions, append_frame, encode_entry, encode_hard_state,
    encode_snapshot_marker, snapshot_file,
};

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fuzz")
        .join(target)
}

fn put(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    let dir = corpus(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
}

fn set(key: &str, value: &str, ttl: Option<i64>) -> StoreCommand {
    StoreCommand::Set {
        key: KeyPath::parse(key),
        value: value.into(),
        dir: false,
        ttl,
    }
}

/// A small store as a running machine has it: files, dirs, TTLs, hidden
/// keys, an in-order queue, a compare-and-swap, a delete.
fn sample_store() -> Store {
    let mut store = Store::new();
    let now = 1_700_000_000_000_000_000;
    let commands = [
        set("/message", "Hello world", None),
        set("/dir/a", "1", None),
        set("/dir/sub/c", "3", Some(60)),
        set("/_hidden", "secret", None),
        set("/unicode", "héllo wörld ✓", None),
        StoreCommand::Create {
            key: KeyPath::parse("/queue"),
            value: "job1".into(),
            dir: false,
            ttl: None,
            in_order: true,
        },
        StoreCommand::Create {
            key: KeyPath::parse("/empty"),
            value: String::new(),
            dir: true,
            ttl: Some(3600),
            in_order: false,
        },
        StoreCommand::CompareAndSwap {
            key: KeyPath::parse("/message"),
            value: "bye".into(),
            ttl: None,
            prev_value: Some("Hello world".into()),
            prev_index: 0,
        },
        StoreCommand::Delete {
            key: KeyPath::parse("/dir/a"),
            dir: false,
            recursive: false,
        },
    ];
    for cmd in &commands {
        store.apply(cmd, now).unwrap();
    }
    store
}

fn members() -> Members {
    let mut m = Members::default();
    for i in 1..=3 {
        m.upsert(Member::new(
            &format!("m{i}"),
            &format!("http://127.0.0.1:700{i}"),
            &format!("http://127.0.0.1:400{i}"),
        ));
    }
    m
}

fn snapshot_data() -> Vec<u8> {
    SnapshotData {
        store: sample_store().snapshot(),
        members: members(),
        config: ClusterConfig::default(),
        auth: Default::default(),
    }
    .encode()
}

fn http_seeds() {
    let seeds: &[(&str, &str)] = &[
        (
            "curl-get",
            "GET /v2/keys/message HTTP/1.1\r\nHost: 127.0.0.1:4001\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
        ),
        (
            "curl-put",
            "PUT /v2/keys/message HTTP/1.1\r\nHost: 127.0.0.1:4001\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nContent-Length: 19\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nvalue=Hello%20world",
        ),
        (
            "curl-expect",
            "PUT /v2/keys/big HTTP/1.1\r\nHost: 127.0.0.1:4001\r\nContent-Length: 10\r\nExpect: 100-continue\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nvalue=abcd",
        ),
        (
            "chunked",
            "POST /v2/keys/queue HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nvalue\r\n4\r\n=job\r\n0\r\nX-Trailer: y\r\n\r\n",
        ),
        (
            "pipelined",
            "GET /v2/keys/a HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/keys/b?wait=true HTTP/1.1\r\nHost: x\r\n\r\nDELETE /v2/keys/c?recursive=true HTTP/1.1\r\nConnection: close\r\n\r\n",
        ),
        (
            "http10",
            "GET /version HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /v2/machines HTTP/1.0\r\n\r\n",
        ),
        ("bare-lf", "HEAD /v2/keys/ HTTP/1.1\nHost: x\n\n"),
        (
            "absolute-form",
            "GET http://127.0.0.1:4001/v2/keys/x?a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        ),
        (
            "etcdctl",
            "GET /v2/members HTTP/1.1\r\nHost: 127.0.0.1:4001\r\nUser-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n\r\n",
        ),
        (
            "raft-batch",
            "POST /raft HTTP/1.1\r\nHost: 127.0.0.1:7001\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]",
        ),
        (
            "smuggle",
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        (
            "too-big",
            "PUT /v2/keys/x HTTP/1.1\r\nContent-Length: 1000\r\n\r\nvalue=",
        ),
        ("http2", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        (
            "gzip",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        ),
    ];
    for (name, text) in seeds {
        put("http_request", name, text);
    }
}

fn form_and_key_seeds() {
    for (name, text) in [
        ("value", "value=Hello+world&ttl=5"),
        (
            "prev",
            "prevExist=false&prevValue=a%20b&prevIndex=3&value=%C3%BC",
        ),
        (
            "flags",
            "recursive=true&sorted=TRUE&dir=false&wait=yes&waitIndex=7",
        ),
        ("bad-escape", "value=%zz&x"),
        ("target", "/v2/keys/a%2Fb?wait=true&x=%41"),
        ("empty-pairs", "&a=1&&b=2&=c&d"),
    ] {
        put("form_query", name, text);
    }
    for (name, text) in [
        ("plain", "/foo/bar"),
        ("dots", "/a//b/./c/../d/\n/a"),
        ("hidden", "/_etcd/machines/m1\n/_etcd"),
        ("escaped", "a%2Fb%20c/%E2%9C%93"),
        ("climb", "../../x\n/"),
        ("unicode", "/dir/ü/x\n/dir"),
    ] {
        put("key_path", name, text);
    }
}

fn entry(index: u64, term: u64, kind: EntryKind, data: Vec<u8>) -> Entry {
    Entry {
        term,
        index,
        kind,
        data,
    }
}

fn store_entry(index: u64, term: u64, cmd: StoreCommand) -> Entry {
    let data = Command::Store {
        time: 1_700_000_000_000_000_000,
        cmd,
    }
    .encode();
    entry(index, term, EntryKind::Normal, data)
}

fn peer_seeds() {
    let msg = |from: u64, term: u64, body: MessageBody| Message {
        from,
        to: 1,
        term,
        body,
    };
    let join = Command::Join {
        time: 1,
        member: Member::new("m4", "http://127.0.0.1:7004", "http://127.0.0.1:4004"),
    };
    let appends = vec![msg(
        2,
        3,
        MessageBody::Append {
            prev_index: 3,
            prev_term: 1,
            entries: vec![
                entry(4, 3, EntryKind::Normal, Vec::new()),
                store_entry(5, 3, set("/a", "1", Some(5))),
                entry(6, 3, EntryKind::ConfChange, join.encode()),
                entry(7, 3, EntryKind::ConfChange, ConfChange::AddNode(9).encode()),
            ],
            commit: 6,
        },
    )];
    let votes = vec![
        msg(
            3,
            2,
            MessageBody::Vote {
                pre_vote: true,
                last_index: 9,
                last_term: 1,
            },
        ),
        msg(
            2,
            2,
            MessageBody::Vote {
                pre_vote: false,
                last_index: 3,
                last_term: 1,
            },
        ),
        msg(
            2,
            2,
            MessageBody::VoteResponse {
                pre_vote: false,
                granted: true,
            },
        ),
    ];
    // Machine 1 leads term 2 in the target; these answer its appends.
    let to_leader = vec![
        msg(
            2,
            2,
            MessageBody::AppendResponse {
                index: 4,
                reject: false,
                hint: 0,
            },
        ),
        msg(
            3,
            2,
            MessageBody::AppendResponse {
                index: 4,
                reject: true,
                hint: 1,
            },
        ),
        msg(2, 2, MessageBody::HeartbeatResponse { ctx: 1 }),
    ];
    let heartbeat = vec![msg(2, 3, MessageBody::Heartbeat { commit: 3, ctx: 0 })];
    // Follower reads: machine 1 asks as a follower, answers as the leader.
    let reads = vec![
        msg(2, 3, MessageBody::ReadIndexResponse { ctx: 7, index: 3 }),
        msg(2, 2, MessageBody::ReadIndex { ctx: 1 }),
    ];
    let snapshot = vec![msg(
        2,
        3,
        MessageBody::Snapshot {
            snapshot: Snapshot {
                meta: SnapshotMeta {
                    index: 20,
                    term: 3,
                    conf: ConfState {
                        voters: vec![1, 2, 3],
                    },
                },
                data: snapshot_data(),
            },
        },
    )];
    for (name, batch) in [
        ("append", appends),
        ("votes", votes),
        ("to-leader", to_leader),
        ("heartbeat", heartbeat),
        ("reads", reads),
        ("snapshot", snapshot),
    ] {
        put(
            "peer_message",
            name,
            crate::transport::codec::encode(&batch),
        );
    }
    put(
        "peer_message",
        "join",
        r#"{"name":"m4","raftURL":"http://127.0.0.1:7004","etcdURL":"http://127.0.0.1:4004"}"#,
    );
    put(
        "peer_message",
        "config",
        r#"{"activeSize":5,"removeDelay":30,"syncInterval":1.5}"#,
    );
}

fn store_seeds() {
    let lines = |cmds: Vec<Command>| {
        let text: Vec<String> = cmds
            .iter()
            .map(|c| String::from_utf8(c.encode()).unwrap())
            .collect();
        text.join("\n")
    };
    let at = |time: i64, cmd: StoreCommand| Command::Store { time, cmd };
    put(
        "store_apply",
        "writes",
        lines(vec![
            at(1, set("/a", "1", None)),
            at(2, set("/d/b", "2", Some(5))),
            at(
                3,
                StoreCommand::Create {
                    key: KeyPath::parse("/q"),
                    value: "job".into(),
                    dir: false,
                    ttl: None,
                    in_order: true,
                },
            ),
            at(
                4,
                StoreCommand::Update {
                    key: KeyPath::parse("/a"),
                    value: "3".into(),
                    ttl: Some(1),
                },
            ),
            Command::ExpireDue {
                time: 6_000_000_000,
            },
            at(
                7,
                StoreCommand::CompareAndDelete {
                    key: KeyPath::parse("/q"),
                    prev_value: None,
                    prev_index: 3,
                },
            ),
        ]),
    );
    put(
        "store_apply",
        "dirs",
        lines(vec![
            at(
                1,
                StoreCommand::Create {
                    key: KeyPath::parse("/dir"),
                    value: String::new(),
                    dir: true,
                    ttl: Some(10),
                    in_order: false,
                },
            ),
            at(1, set("/dir/x", "inside", None)),
            at(
                2,
                StoreCommand::Delete {
                    key: KeyPath::parse("/dir"),
                    dir: true,
                    recursive: true,
                },
            ),
            Command::SetConfig {
                time: 3,
                config: ClusterConfig::default(),
                record: true,
            },
        ]),
    );
}

fn wal_seeds() {
    let hs = HardState {
        term: 2,
        vote: 1,
        commit: 3,
    };
    let e = store_entry(3, 2, set("/a", "1", None));
    let mut frames = Vec::new();
    append_frame(&mut frames, RecordType::Entry, |b| encode_entry(b, &e));
    put("wal_record", "entry", &frames);
    let mut one = Vec::new();
    append_frame(&mut one, RecordType::HardState, |b| {
        encode_hard_state(b, &hs)
    });
    put("wal_record", "hard-state", &one);
    let mut marker = Vec::new();
    append_frame(&mut marker, RecordType::SnapshotMarker, |b| {
        encode_snapshot_marker(b, 10, 2)
    });
    put("wal_record", "marker", &marker);
    let mut payload = vec![1];
    encode_entry(&mut payload, &e);
    put("wal_record", "payload-entry", &payload);

    // A segment our WAL wrote: entries, a rewrite, a hard state, a torn tail.
    let dir = tempfile::tempdir().unwrap();
    // Not preallocated: a seed is a few hundred bytes, not 64 MiB.
    let opts = WalOptions {
        preallocate: false,
        ..WalOptions::default()
    };
    let (mut wal, _) = Wal::open(dir.path(), opts).unwrap();
    let entries: Vec<Entry> = (1..=4)
        .map(|i| store_entry(i, 2, set(&format!("/k{i}"), "v", None)))
        .collect();
    wal.append(&entries, Some(&hs)).unwrap();
    wal.append(&[store_entry(3, 2, set("/again", "w", None))], None)
        .unwrap();
    wal.sync().unwrap();
    drop(wal);
    let segment = fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    let bytes = fs::read(segment).unwrap();
    put("wal_segment", "written", &bytes);
    put("wal_segment", "torn", &bytes[..bytes.len() - 5]);
    let mut preallocated = bytes.clone();
    preallocated.resize(bytes.len() + 512, 0);
    put("wal_segment", "preallocated", &preallocated);
    let mut with_marker = bytes.clone();
    with_marker.extend_from_slice(&marker);
    put("wal_segment", "marker", &with_marker);
}

fn snapshot_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let snap = Snapshot {
        meta: SnapshotMeta {
            index: 12,
            term: 2,
            conf: ConfState {
                voters: vec![1, 2, 3],
            },
        },
        data: snapshot_data(),
    };
    let path = snapshot_file::write(dir.path(), &snap).unwrap();
    put("snapshot", "file", fs::read(path).unwrap());
    put("snapshot", "data", snapshot_data());
    put("snapshot", "store", sample_store().snapshot());
}

fn config_seeds() {
    let toml = "name = \"machine1\"\naddr = \"127.0.0.1:4001\"\ndata_dir = \"machines/machine1\"\npeers = [\"127.0.0.1:7002\", \"127.0.0.1:7003\"]\nsnapshot_count = 10000\n\n[peer]\naddr = \"127.0.0.1:7001\"\nheartbeat_interval = 50\nelection_timeout = 200\n\n[cluster]\nactive_size = 9\nremove_delay = 1800.0\nsync_interval = 5.0\n";
    let env_example =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/etcd.env.example"))
            .unwrap_or_default();
    let seeds = [
        (
            "flags",
            "-name\nm1\n-addr\n127.0.0.1:4001\n-peer-addr=127.0.0.1:7001\n-peers\n127.0.0.1:7002,127.0.0.1:7003\n-snapshot=false\n-v".to_string(),
        ),
        ("file", format!("-config\n/etc/etcd/m1.toml\0\0{toml}")),
        ("env", format!("\0{env_example}")),
        (
            "system",
            "-name=m2\0ETCD_PEER_HEARTBEAT_INTERVAL=60\nETCD_SNAPSHOTCOUNT=5\0\0cors = \"http://a, *\"\n[cluster]\nactive_size = 2\n".to_string(),
        ),
        (
            "tls",
            "-cert-file=s.crt\n-key-file=s.key\n-addr=https://[::1]:4001/\n-peers-file=peers\n-data-dir=d\0\0\0\x00127.0.0.1:7002\n10.0.0.3:7001".to_string(),
        ),
        (
            "tools",
            "-inspect\nmachines/m1\n-json".to_string(),
        ),
        (
            "discovery-restore",
            "-discovery=https://discovery.etcd.io/abc\n-restore=b.backup\n-cluster-remove-delay\n0.5".to_string(),
        ),
    ];
    for (name, text) in seeds {
        put("config", name, text);
    }
}

/// The fixture cluster of etcd 0.4.6, if this machine has it.
fn fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("ETCD04_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/fixtures/etcd-0.4.6-cluster"));
    dir.is_dir().then_some(dir)
}

/// The first `n` entries of a goraft log (length lines are `%8x\n`).
fn log_prefix(log: &[u8], n: usize) -> &[u8] {
    let mut at = 0;
    for _ in 0..n {
        let Some(line) = log.get(at..at + 9) else {
            break;
        };
        let len = usize::from_str_radix(std::str::from_utf8(&line[..8]).unwrap().trim(), 16);
        at = (at + 9 + len.unwrap()).min(log.len());
    }
    &log[..at]
}

/// A fixture snapshot's store state with its event history cut to three.
fn trimmed_state(ss: &[u8]) -> Vec<u8> {
    let outer: serde_json::Value = serde_json::from_slice(&ss[9..]).unwrap();
    let state = base64_bytes::decode(outer["state"].as_str().unwrap()).unwrap();
    let mut state: serde_json::Value = serde_json::from_slice(&state).unwrap();
    let queue = &mut state["WatcherHub"]["EventHistory"]["Queue"];
    let capacity = queue["Capacity"].as_u64().unwrap() as usize;
    let front = queue["Front"].as_u64().unwrap() as usize;
    let size = queue["Size"].as_u64().unwrap() as usize;
    let slots = queue["Events"].as_array().unwrap().clone();
    let kept: Vec<serde_json::Value> = (size.saturating_sub(3)..size)
        .map(|i| slots[(front + i) % capacity].clone())
        .collect();
    *queue =
        serde_json::json!({"Events": kept, "Size": kept.len(), "Front": 0, "Capacity": kept.len()});
    serde_json::to_vec(&state).unwrap()
}

fn legacy_seeds() {
    let Some(dir) = fixtures() else {
        eprintln!("no etcd 0.4.6 fixtures: legacy seeds not written");
        return;
    };
    for m in ["m1", "m2"] {
        let log = fs::read(dir.join(m).join("log")).unwrap();
        put("legacy_log", &format!("{m}-log"), &log);
        put("legacy_log", &format!("{m}-log-12"), log_prefix(&log, 12));
    }
    for (m, ss) in [("m1", "0_90.ss"), ("m2", "0_129.ss")] {
        let bytes = fs::read(dir.join(m).join("snapshot").join(ss)).unwrap();
        let state = trimmed_state(&bytes);
        put("legacy_snapshot", &format!("{m}-state"), &state);
        let (index, _) = ss
            .trim_end_matches(".ss")
            .split_once('_')
            .map(|(t, i)| (i, t))
            .unwrap();
        let body = format!(
            r#"{{"lastIndex":{index},"lastTerm":0,"peers":[{{"name":"m2","connectionString":""}}],"state":"{}"}}"#,
            base64_bytes::encode(&state)
        );
        let mut file = format!("{:08x}\n", crate::legacy::crc32_ieee(body.as_bytes())).into_bytes();
        file.extend_from_slice(body.as_bytes());
        put("legacy_snapshot", &format!("{m}-{ss}"), &file);
    }
}

fn backup_seeds() {
    let source = Source {
        key_space: sample_store().key_space(),
        members: members(),
        config: ClusterConfig::default(),
        raft_index: 14,
        raft_term: 2,
        taken_by: "m1".into(),
        taken_at: 1_700_000_000_000_000_000,
        origin: Origin::Online,
        auth: Default::default(),
    };
    let mut file = Vec::new();
    crate::backup::write(&mut file, &source, &mut |_, _| {}).unwrap();
    put("backup", "online", &file);
    put("backup", "truncated", &file[..file.len() - 7]);
    let empty = Source {
        key_space: Store::new().key_space(),
        origin: Origin::Offline,
        ..source
    };
    let mut file = Vec::new();
    crate::backup::write(&mut file, &empty, &mut |_, _| {}).unwrap();
    put("backup", "empty", &file);
}

fn discovery_seeds() {
    let json = |status: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nX-Etcd-Index: 7\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let listing = r#"{"action":"get","node":{"key":"/_etcd/registry/abc","dir":true,"nodes":[{"key":"/_etcd/registry/abc/m2","value":"http://10.0.0.2:7001","modifiedIndex":5,"createdIndex":5},{"key":"/_etcd/registry/abc/m1","value":"http://10.0.0.1:7001"},{"key":"/_etcd/registry/abc/_state","value":"started"},{"key":"/_etcd/registry/abc/m3","value":"https://10.0.0.3:7001/"}],"modifiedIndex":3,"createdIndex":3}}"#;
    put("discovery", "listing", json("200 OK", listing));
    put(
        "discovery",
        "registered",
        json(
            "201 Created",
            r#"{"action":"set","node":{"key":"/_etcd/registry/abc/m1","value":"http://10.0.0.1:7001","expiration":"2026-12-08T10:00:00Z","ttl":604800,"modifiedIndex":4,"createdIndex":4}}"#,
        ),
    );
    put(
        "discovery",
        "exists",
        json(
            "412 Precondition Failed",
            r#"{"errorCode":105,"message":"Key already exists","cause":"/_etcd/registry/abc/_state","index":6}"#,
        ),
    );
    put(
        "discovery",
        "redirect",
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://10.0.0.2:4001/v2/keys/_etcd/registry/abc?recursive=true\r\nContent-Length: 0\r\n\r\n",
    );
    put(
        "discovery",
        "chunked",
        format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{listing}\r\n0\r\n\r\n",
            listing.len()
        ),
    );
    put(
        "discovery",
        "html",
        "HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\n\r\n<html>\n<body>Not found</body></html>",
    );
}

#[test]
#[ignore = "writes testdata/fuzz/*/seed-*; run by hand"]
fn write_fuzz_seeds() {
    http_seeds();
    form_and_key_seeds();
    peer_seeds();
    store_seeds();
    wal_seeds();
    snapshot_seeds();
    config_seeds();
    legacy_seeds();
    backup_seeds();
    discovery_seeds();
}
