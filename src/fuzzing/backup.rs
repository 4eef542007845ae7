//! `backup`: a backup file handed to `-restore` (or one a download cut
//! short). Read as given and with every record checksum and the file
//! checksum repaired, so that mutations reach the records behind them.
//!
//! Checked: a refusal names an offset inside the file; a file that reads
//! counts its nodes right and writes back (through the real writer) to a
//! file that reads to the same key space; and what `-restore` would build
//! from it decodes the way a restart decodes it, at the backup's index.

use super::checksums::fix_frames;
use super::store::check_store;
use crate::backup::restore::build_snapshot;
use crate::backup::{Backup, BackupError, Origin, Source, read, write};
use crate::membership::{Member, Members};
use crate::server::snapshot_data::SnapshotData;
use crate::store::{KeySpace, SNAPSHOT_DEPTH_LIMIT, Store};

/// Preamble: magic and version.
const PREAMBLE: usize = 12;
/// The end record's type byte.
const END: u8 = 3;

type Listed = (String, Option<String>, u64, u64, Option<i64>);

fn listing(space: &KeySpace) -> Vec<Listed> {
    let mut out = Vec::new();
    let _ = space.try_for_each(|n| {
        out.push((
            n.key.to_string(),
            n.value.map(str::to_string),
            n.created_index,
            n.modified_index,
            n.expiration,
        ));
        Ok::<(), ()>(())
    });
    out
}

fn check_file(bytes: &[u8]) {
    let backup = match read(&mut &bytes[..], &mut |_, _| {}) {
        Ok(b) => b,
        Err(BackupError::Truncated { offset, .. } | BackupError::Corrupt { offset, .. }) => {
            assert!(offset <= bytes.len() as u64, "offset {offset} past the end");
            return;
        }
        Err(_) => return,
    };
    assert_eq!(backup.bytes, bytes.len() as u64);
    let header = &backup.header;
    assert_eq!(header.nodes, backup.key_space.counts().total());
    assert_eq!(header.store_index, backup.key_space.index());

    // Written again by the writer, it reads to the same key space.
    let mut members = Members::default();
    for m in &header.members {
        members.upsert(Member::new(&m.name, &m.peer_url, &m.client_url));
    }
    let source = Source {
        key_space: backup.key_space.clone(),
        members,
        config: header.config,
        raft_index: header.raft_index,
        raft_term: header.raft_term,
        taken_by: header.taken_by.clone(),
        taken_at: 0,
        origin: Origin::Offline,
        auth: header.auth.clone(),
    };
    let mut file = Vec::new();
    write(&mut file, &source, &mut |_, _| {}).expect("writing to memory");
    let again = read(&mut &file[..], &mut |_, _| {}).expect("a written backup reads");
    assert_eq!(listing(&again.key_space), listing(&backup.key_space));
    assert_eq!(again.header.store_index, header.store_index);
    assert_eq!(again.header.config, header.config);
    assert_eq!(again.header.auth, header.auth, "users and roles round trip");
    assert_eq!(
        (again.header.raft_index, again.header.raft_term),
        (header.raft_index, header.raft_term)
    );

    if backup.key_space.depth() <= SNAPSHOT_DEPTH_LIMIT {
        check_restore(backup);
    }
}

/// What `-restore` writes into the new data dir, read as a restart reads it.
fn check_restore(backup: Backup) {
    let store_index = backup.header.store_index;
    let auth = backup.header.auth.clone();
    let me = Member::new("m1", "http://127.0.0.1:7001", "http://127.0.0.1:4001");
    let (snapshot, restored) = build_snapshot(backup, &me);
    assert_eq!(restored.store_index, store_index);
    assert!(snapshot.meta.index >= 1 && snapshot.meta.term >= 1);
    let data = SnapshotData::decode(&snapshot.data).expect("a restored snapshot decodes");
    assert_eq!(data.members.len(), 1);
    assert_eq!(
        data.auth, auth,
        "a restore keeps the backup's users and roles"
    );
    let mut store = Store::new();
    store
        .restore(&data.store)
        .expect("a restored store snapshot restores");
    assert_eq!(store.index(), store_index);
    assert_eq!(store.key_space().counts().total(), restored.nodes);
    check_store(&mut store);
}

pub fn backup(data: &[u8]) {
    check_file(data);
    check_file(&fix_frames(data, PREAMBLE, Some(END)));
}
