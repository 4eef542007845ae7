//! Taking over an etcd 0.4 data dir: `legacy_log` (goraft's `log`, with
//! the fixture's `conf`) and `legacy_snapshot` (a `snapshot/*.ss` file, or
//! the store state inside one, which the target wraps into a file with the
//! right checksum so that mutations reach the store's JSON).
//!
//! Both run the whole takeover plan. Checked: a refusal names an offset
//! inside its file; a plan's log starts after its snapshot and counts up
//! by one, its commit index is within the log, its term is above 0.4's;
//! every entry it maps applies to a store; and the snapshot it would write
//! reads back the way a restart reads it, into a store that passes the
//! store checks.

use std::path::PathBuf;

use super::store::{apply_entry, check_store};
use crate::legacy::{Files, Plan, TERM_FLOOR, crc32_ieee, plan};
use crate::raft::types::base64_bytes;
use crate::server::snapshot_data::SnapshotData;
use crate::store::Store;

/// `m1/conf` of the fixture cluster: m1's peers are m2 and m3.
const CONF: &[u8] = br#"{"commitIndex":10,"peers":[{"name":"m2","connectionString":""},{"name":"m3","connectionString":""}]}"#;

fn check_plan(files: Files, sizes: &[(PathBuf, usize)]) {
    let planned = match plan(files, "m1") {
        Ok(p) => p,
        Err(e) => {
            let size = sizes
                .iter()
                .find(|(p, _)| *p == e.file)
                .map_or(0, |(_, n)| *n);
            assert!(
                e.offset <= size as u64,
                "{e} is past the end ({size} bytes)"
            );
            return;
        }
    };
    let Plan {
        snapshot,
        entries,
        hard_state,
        report,
    } = planned;
    let base = snapshot.as_ref().map_or(0, |s| s.meta.index);
    if let Some(first) = entries.first() {
        assert_eq!(
            Some(first.index),
            base.checked_add(1),
            "the log does not follow"
        );
    }
    for pair in entries.windows(2) {
        assert_eq!(
            Some(pair[1].index),
            pair[0].index.checked_add(1),
            "hole in the log"
        );
    }
    assert!(report.log_entries >= entries.len());
    let last = entries.last().map_or(base, |e| e.index);
    assert!(
        base <= hard_state.commit && hard_state.commit <= last,
        "commit out of the log"
    );
    if snapshot.is_some() || !entries.is_empty() {
        assert!(hard_state.term >= TERM_FLOOR);
    }
    let mut store = Store::new();
    if let Some(snap) = &snapshot {
        assert!(!snap.meta.conf.voters.is_empty());
        assert!(snap.meta.conf.voters.windows(2).all(|w| w[0] < w[1]));
        let data = SnapshotData::decode(&snap.data).expect("the takeover's snapshot decodes");
        store
            .restore(&data.store)
            .expect("the takeover's store snapshot restores");
        assert!(!data.members.is_empty());
        check_store(&mut store);
    }
    for entry in &entries {
        let _ = apply_entry(&mut store, entry);
    }
}

pub fn legacy_log(data: &[u8]) {
    let log = PathBuf::from("m1/log");
    let conf = PathBuf::from("m1/conf");
    let sizes = [(log.clone(), data.len()), (conf.clone(), CONF.len())];
    for with_conf in [true, false] {
        let files = Files {
            conf: with_conf.then(|| (conf.clone(), CONF.to_vec())),
            log: Some((log.clone(), data.to_vec())),
            snapshots: Vec::new(),
        };
        check_plan(files, &sizes);
    }
}

/// The `(lastTerm, lastIndex)` a snapshot's JSON claims, if it says.
fn claimed(body: &[u8]) -> Option<(u64, u64)> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    Some((
        json.get("lastTerm")?.as_u64()?,
        json.get("lastIndex")?.as_u64()?,
    ))
}

fn with_checksum(body: &[u8]) -> Vec<u8> {
    let mut out = format!("{:08x}\n", crc32_ieee(body)).into_bytes();
    out.extend_from_slice(body);
    out
}

fn check_snapshot_file(bytes: Vec<u8>) {
    let (term, index) = bytes.get(9..).and_then(claimed).unwrap_or((0, 0));
    let path = PathBuf::from(format!("m1/snapshot/{term}_{index}.ss"));
    let sizes = [(path.clone(), bytes.len())];
    let files = Files {
        snapshots: vec![(path, bytes)],
        ..Files::default()
    };
    check_plan(files, &sizes);
}

pub fn legacy_snapshot(data: &[u8]) {
    if data.first() == Some(&b'{') {
        // A store state: wrap it as goraft would have.
        let body = format!(
            r#"{{"lastIndex":1,"lastTerm":0,"peers":null,"state":"{}"}}"#,
            base64_bytes::encode(data)
        );
        check_snapshot_file(with_checksum(body.as_bytes()));
        return;
    }
    check_snapshot_file(data.to_vec());
    if let Some(body) = data.get(9..) {
        check_snapshot_file(with_checksum(body));
    }
}
