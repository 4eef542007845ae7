//! The WAL's write path without the disk's fsync: framing, CRC-32C and the
//! buffered write of one entry (one 100-byte PUT) or a batch of 64.

mod common;

use etcd::raft::types::{Entry, EntryKind, HardState};
use etcd::wal::{Wal, WalOptions};

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut wal, _) = Wal::open(dir.path(), WalOptions::default()).expect("open");
    let mut index = 0u64;
    let entry = |index: u64| Entry {
        term: 2,
        index,
        kind: EntryKind::Normal,
        data: vec![b'x'; 150],
    };
    common::bench("append 1 entry + hard state (no fsync)", || {
        index += 1;
        let hs = HardState {
            term: 2,
            vote: 1,
            commit: index,
        };
        wal.append(&[entry(index)], Some(&hs)).expect("append");
        wal.flush().expect("flush");
    });
    common::bench("append 64 entries (no fsync)", || {
        let batch: Vec<Entry> = (0..64).map(|i| entry(index + 1 + i)).collect();
        index += 64;
        wal.append(&batch, None).expect("append");
        wal.flush().expect("flush");
    });
    common::bench("crc32c of 4 KiB", || {
        std::hint::black_box(etcd::wal::crc32c(std::hint::black_box(&[7u8; 4096])));
    });
}
