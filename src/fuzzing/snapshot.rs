//! `snapshot`: what a snapshot brings back, from a file in `snap/` or in a
//! Raft `Snapshot` message from the leader. The same bytes are read three
//! ways: as a whole snapshot file (also with its checksum repaired), as
//! the `SnapshotData` inside one (members, settings, store), and, when
//! they look like JSON, as the store's own snapshot.
//!
//! Checked: a file that reads back holds the metadata its header names;
//! `SnapshotData` decodes what it encodes; a restored store passes the
//! store checks (`store.rs`), also after a few writes and an expiry that
//! its index and tree might not expect.

use super::store::{check_store, poke};
use crate::raft::SnapshotMeta;
use crate::server::snapshot_data::SnapshotData;
use crate::store::Store;
use crate::wal::crc32c;
use crate::wal::snapshot_file;

/// Header of a snapshot file: CRC-32C, meta length, data length.
const FILE_HEADER: usize = 16;

/// The (term, index) a file's own metadata claims, so the check against
/// its name can pass.
fn claimed(bytes: &[u8]) -> (u64, u64) {
    let meta_len = bytes
        .get(4..8)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    FILE_HEADER
        .checked_add(meta_len)
        .and_then(|end| bytes.get(FILE_HEADER..end))
        .and_then(|meta| serde_json::from_slice::<SnapshotMeta>(meta).ok())
        .map_or((0, 0), |m| (m.term, m.index))
}

fn check_file(bytes: &[u8]) {
    let (term, index) = claimed(bytes);
    if let Ok(snap) = snapshot_file::decode(bytes.to_vec(), term, index) {
        assert_eq!((snap.meta.term, snap.meta.index), (term, index));
        let meta_len = bytes.len() - FILE_HEADER - snap.data.len();
        assert_eq!(&bytes[FILE_HEADER + meta_len..], snap.data.as_slice());
        check_data(&snap.data);
    }
}

fn check_data(bytes: &[u8]) {
    let Ok(data) = SnapshotData::decode(bytes) else {
        return;
    };
    let again = SnapshotData::decode(&data.encode()).expect("encoded snapshot data decodes");
    assert_eq!(again.members, data.members, "members round trip");
    assert_eq!(again.config, data.config, "settings round trip");
    assert_eq!(again.store, data.store, "store bytes round trip");
    assert_eq!(again.auth, data.auth, "users and roles round trip");
    check_restore(&data.store);
}

fn check_restore(bytes: &[u8]) {
    let mut store = Store::new();
    if store.restore(bytes).is_ok() {
        check_store(&mut store);
        poke(&mut store);
        check_store(&mut store);
    }
}

pub fn snapshot(data: &[u8]) {
    check_file(data);
    if data.len() >= 4 {
        let mut fixed = data.to_vec();
        let crc = crc32c(&fixed[4..]);
        fixed[..4].copy_from_slice(&crc.to_le_bytes());
        check_file(&fixed);
    }
    check_data(data);
    if data.first() == Some(&b'{') {
        check_restore(data);
    }
}
