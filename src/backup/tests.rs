//! The backup format and restore, in-process: round trips, and every way a
//! file can be wrong (cut short, a flipped byte, another version, another
//! kind of file), each refused with its own reason.

use std::fs;
use std::path::Path;

use super::*;
use crate::membership::{ClusterConfig, MACHINES_DIR, Member, Members};
use crate::server::boot;
use crate::store::{KeyPath, Store, StoreCommand};
use crate::wal::WalOptions;

const NOW: i64 = 1_700_000_000_000_000_000;

fn member(name: &str, n: u16) -> Member {
    Member::new(
        name,
        &format!("http://127.0.0.1:{}", 7000 + n),
        &format!("http://127.0.0.1:{}", 4000 + n),
    )
}

/// A root user, a role and auth on (one value: a hash has a random salt).
fn sample_auth() -> crate::auth::AuthState {
    static SAMPLE: std::sync::OnceLock<crate::auth::AuthState> = std::sync::OnceLock::new();
    SAMPLE.get_or_init(make_sample_auth).clone()
}

fn make_sample_auth() -> crate::auth::AuthState {
    use crate::auth::{AuthCommand, PasswordHash, Patterns, Permissions, RoleChange, UserChange};
    let mut auth = crate::auth::AuthState::default();
    let cmds = [
        AuthCommand::PutUser(UserChange {
            name: "root".into(),
            password: Some(PasswordHash::with_iterations("pw", 10).expect("hash")),
            roles: None,
            grant: vec![],
            revoke: vec![],
        }),
        AuthCommand::PutRole(RoleChange {
            name: "app".into(),
            permissions: Permissions {
                read: Patterns::of(&["/config/*"]),
                write: Patterns::default(),
            },
            grant: None,
            revoke: None,
        }),
        AuthCommand::Enable,
    ];
    for cmd in cmds {
        auth.apply(&cmd).expect("auth command");
    }
    auth
}

/// A store as a three-machine cluster leaves it: registry, hidden keys,
/// directories, a TTL, an overwritten key.
fn sample_source() -> Source {
    let mut store = Store::new();
    let mut members = Members::default();
    for (i, name) in ["m1", "m2", "m3"].iter().enumerate() {
        let m = member(name, i as u16 + 1);
        let _ = crate::server::replica::register(&mut store, &mut members, &m, NOW);
    }
    let mut set = |key: &str, value: &str, ttl: Option<i64>| {
        let cmd = StoreCommand::Set {
            key: KeyPath::parse(key),
            value: value.into(),
            dir: false,
            ttl,
        };
        store.apply(&cmd, NOW).expect("set");
    };
    set("/config/a", "1", None);
    set("/config/_secret", "hidden", None);
    set("/lease", "holder", Some(3600));
    set("/config/a", "2", None);
    for i in 0..50 {
        set(&format!("/bulk/k{i:03}"), &"x".repeat(100), None);
    }
    Source {
        key_space: store.key_space(),
        members,
        config: ClusterConfig {
            active_size: 5,
            ..ClusterConfig::default()
        },
        auth: sample_auth(),
        raft_index: 90,
        raft_term: 4,
        taken_by: "m2".into(),
        taken_at: NOW,
        origin: Origin::Online,
    }
}

fn encoded(source: &Source) -> Vec<u8> {
    let mut out = Vec::new();
    let written = write(&mut out, source, &mut |_, _| {}).expect("write");
    assert_eq!(written.bytes, out.len() as u64);
    out
}

fn decode(bytes: &[u8]) -> Result<Backup, BackupError> {
    read(&mut &bytes[..], &mut |_, _| {})
}

fn all_nodes(space: &crate::store::KeySpace) -> Vec<String> {
    let mut out = Vec::new();
    let walked: Result<(), ()> = space.try_for_each(|n| {
        out.push(format!(
            "{} {:?} {} {} {:?}",
            n.key, n.value, n.created_index, n.modified_index, n.expiration
        ));
        Ok(())
    });
    assert!(walked.is_ok());
    out
}

#[test]
fn a_backup_round_trips_every_node_and_the_header() {
    let source = sample_source();
    let bytes = encoded(&source);
    let back = decode(&bytes).expect("reads back");
    assert_eq!(back.bytes, bytes.len() as u64);
    assert_eq!(all_nodes(&back.key_space), all_nodes(&source.key_space));
    assert_eq!(back.key_space.index(), source.key_space.index());
    let header = back.header;
    assert_eq!(header, source.header());
    assert_eq!(header.store_index, source.key_space.index());
    assert_eq!((header.raft_index, header.raft_term), (90, 4));
    assert_eq!(header.members.len(), 3);
    assert_eq!(header.config.active_size, 5);
    assert_eq!(header.auth, sample_auth());
    assert_eq!(header.taken_at, "2023-11-14T22:13:20Z");
}

#[test]
fn a_header_without_auth_reads_as_auth_off_and_an_empty_one_is_left_out() {
    let old = r#"{"storeIndex":5,"raftIndex":9,"raftTerm":2,"takenBy":"m1",
        "takenAt":"2023-11-14T22:13:20Z","origin":"online","nodes":0,"members":[],
        "config":{"activeSize":9,"removeDelay":1800,"syncInterval":5},"etcdVersion":"0.4.6"}"#;
    let header: crate::backup::Header = serde_json::from_str(old).expect("an older header reads");
    assert!(header.auth.is_empty());
    let plain = Source {
        auth: crate::auth::AuthState::default(),
        ..sample_source()
    };
    let json = serde_json::to_string(&plain.header()).unwrap();
    assert!(!json.contains("\"auth\""), "{json}");
    let with_auth = serde_json::to_string(&sample_source().header()).unwrap();
    assert!(with_auth.contains("\"auth\"") && !with_auth.contains("\"pw\""));
}

#[test]
fn an_empty_key_space_round_trips() {
    let source = Source {
        key_space: crate::store::KeySpace::empty(0),
        members: Members::default(),
        ..sample_source()
    };
    let back = decode(&encoded(&source)).expect("reads back");
    assert_eq!(back.header.nodes, 0);
    assert!(all_nodes(&back.key_space).is_empty());
}

#[test]
fn every_truncation_is_refused_as_truncated() {
    let bytes = encoded(&sample_source());
    for cut in 8..bytes.len() {
        match decode(&bytes[..cut]) {
            Err(BackupError::Truncated { offset, .. }) => {
                assert_eq!(offset, cut as u64, "cut {cut}")
            }
            other => panic!("cut {cut}: {other:?}"),
        }
    }
}

#[test]
fn every_flipped_byte_is_refused() {
    let bytes = encoded(&sample_source());
    for at in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[at] ^= 0x20;
        let result = decode(&bad);
        assert!(result.is_err(), "byte {at} flipped, yet it read");
    }
    // A flip inside a node's value is named as corruption at its record.
    let mut bad = bytes.clone();
    let at = bytes.len() / 2;
    bad[at] ^= 0x01;
    match decode(&bad) {
        Err(BackupError::Corrupt { offset, reason }) => {
            assert!(offset <= at as u64 && offset >= 12, "{offset}");
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn another_version_is_refused_by_number() {
    let mut bytes = encoded(&sample_source());
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert!(matches!(
        decode(&bytes),
        Err(BackupError::UnknownVersion(2))
    ));
}

#[test]
fn foreign_files_are_refused_as_foreign() {
    let snapshot_like = [0x12u8, 0x34, 0x56, 0x78, 1, 0, 0, 0, 0, 0, 0, 0];
    for bytes in [
        &b""[..],
        b"\x89ETC",
        b"{\"action\":\"get\",\"node\":{}}",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        &snapshot_like,
    ] {
        assert!(
            matches!(decode(bytes), Err(BackupError::Foreign)),
            "{bytes:?}"
        );
    }
}

#[test]
fn bytes_after_the_end_or_records_out_of_place_are_corrupt() {
    let mut bytes = encoded(&sample_source());
    bytes.push(0);
    assert!(
        matches!(decode(&bytes), Err(BackupError::Corrupt { reason, .. }) if reason.contains("after the end"))
    );

    // The same records without the header: the first record is a node.
    let bytes = encoded(&sample_source());
    let header_len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
    let mut headless = bytes[..12].to_vec();
    headless.extend_from_slice(&bytes[12 + 9 + header_len..]);
    assert!(matches!(
        decode(&headless),
        Err(BackupError::Corrupt { offset: 12, .. })
    ));
}

fn restore_into(bytes: &[u8], data_dir: &Path, me: &Member) -> Result<Restored, RestoreError> {
    let file = data_dir.with_extension("backup");
    fs::write(&file, bytes).unwrap();
    restore(&file, data_dir, me, &mut |_| {})
}

#[test]
fn a_restored_data_dir_opens_as_a_cluster_of_one_at_the_backup_s_index() {
    let source = sample_source();
    let index = source.key_space.index();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("restored");
    let me = member("r1", 9);
    let restored = restore_into(&encoded(&source), &data_dir, &me).expect("restore");
    assert_eq!(restored.store_index, index);
    assert_eq!((restored.raft_index, restored.raft_term), (90, 4));
    assert!(!dir.path().join(".restored.restoring").exists());

    let mut rec = boot::open(&data_dir, "r1", false, WalOptions::default()).expect("opens");
    assert!(!rec.fresh);
    assert_eq!(rec.store.index(), index, "the next write gets index + 1");
    assert_eq!(rec.applied, (90, 4));
    assert_eq!(rec.bootstrap.conf.voters, vec![me.id]);
    assert_eq!(rec.members.iter().collect::<Vec<_>>(), vec![&me]);
    assert_eq!(rec.config.active_size, 5);
    assert_eq!(rec.auth, sample_auth(), "users and roles come back too");
    assert_eq!(rec.auth_committed, sample_auth());
    let machines = rec
        .store
        .get(&KeyPath::parse(MACHINES_DIR), true, true, NOW)
        .expect("registry");
    let listed: Vec<_> = machines
        .node
        .nodes
        .unwrap_or_default()
        .into_iter()
        .map(|n| (n.key, n.value, n.modified_index))
        .collect();
    assert_eq!(
        listed,
        vec![(
            "/_etcd/machines/r1".to_string(),
            Some(me.registry_value()),
            index
        )]
    );
    for key in ["/config/a", "/config/_secret", "/lease", "/bulk/k049"] {
        let key = KeyPath::parse(key);
        let got = rec
            .store
            .get(&key, false, false, NOW)
            .expect("restored key");
        let want = source.key_space.find(&key).expect("in the source");
        assert_eq!(got.node.value.as_deref(), want.value);
        assert_eq!(got.node.modified_index, want.modified_index);
        assert_eq!(got.node.expiration, want.expiration);
    }
}

#[test]
fn a_refused_file_or_data_dir_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let me = member("r1", 9);
    let good = encoded(&sample_source());
    let fresh = dir.path().join("fresh");
    for (bytes, needle) in [
        (good[..good.len() - 3].to_vec(), "truncated"),
        (b"hello, world".to_vec(), "not an etcd backup"),
        (
            {
                let mut b = good.clone();
                b[8] = 7;
                b
            },
            "version 7",
        ),
        (
            {
                let mut b = good.clone();
                let middle = b.len() / 2;
                b[middle] ^= 0xff;
                b
            },
            "corrupt at byte",
        ),
    ] {
        let error = restore_into(&bytes, &fresh, &me).expect_err("refused");
        let text = error.to_string();
        assert!(text.contains(needle), "{text}");
        assert!(!text.contains('\n'), "{text}");
        assert!(!fresh.exists(), "{needle}: the data dir was created");
    }

    let mut deep = crate::store::KeySpace::empty(1);
    let mut key = String::new();
    for _ in 0..=crate::store::SNAPSHOT_DEPTH_LIMIT {
        key.push_str("/d");
        let record = crate::store::NodeRecord {
            key: KeyPath::parse(&key),
            value: None,
            created_index: 1,
            modified_index: 1,
            expiration: None,
        };
        deep.insert(record).expect("insert");
    }
    let too_deep = Source {
        key_space: deep,
        ..sample_source()
    };
    let error = restore_into(&encoded(&too_deep), &fresh, &me).expect_err("refused");
    assert!(error.to_string().contains("42 levels deep"), "{error}");
    assert!(!fresh.exists());

    let used = dir.path().join("used");
    fs::create_dir_all(used.join("wal")).unwrap();
    let error = restore_into(&good, &used, &me).expect_err("refused");
    assert!(
        error.to_string().contains("already holds data (wal)"),
        "{error}"
    );
    let empty = dir.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    assert!(restore_into(&good, &empty, &me).is_ok());
    assert!(empty.join("snap").is_dir());
}
