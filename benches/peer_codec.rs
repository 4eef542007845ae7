//! The peer codec (`transport::codec`) against protocol 3's JSON with base64
//! entries, on the batches a write load produces.

mod common;

use std::hint::black_box;

use etcd::raft::types::{Entry, EntryKind};
use etcd::raft::{Message, MessageBody};
use etcd::transport::codec;

fn append(entries: usize, value_bytes: usize) -> Vec<Message> {
    let entries = (0..entries as u64)
        .map(|i| Entry {
            term: 3,
            index: 100_001 + i,
            kind: EntryKind::Normal,
            data: vec![b'x'; value_bytes],
        })
        .collect();
    vec![Message {
        from: 0x6d31_0000_0000_0001,
        to: 0x6d32_0000_0000_0002,
        term: 3,
        body: MessageBody::Append {
            prev_index: 100_000,
            prev_term: 3,
            entries,
            commit: 100_000,
        },
    }]
}

fn main() {
    for (label, batch) in [
        ("1 entry of 150 B", append(1, 150)),
        ("64 entries of 150 B", append(64, 150)),
    ] {
        let bin = codec::encode(&batch);
        let json = serde_json::to_vec(&batch).unwrap();
        println!(
            "{label}: binary {} bytes, JSON {} bytes",
            bin.len(),
            json.len()
        );
        common::bench(&format!("encode binary, {label}"), || {
            black_box(codec::encode(black_box(&batch)));
        });
        common::bench(&format!("decode binary, {label}"), || {
            black_box(codec::decode(black_box(&bin)).unwrap());
        });
        common::bench(&format!("encode JSON (protocol 3), {label}"), || {
            black_box(serde_json::to_vec(black_box(&batch)).unwrap());
        });
        common::bench(&format!("decode JSON (protocol 3), {label}"), || {
            black_box(serde_json::from_slice::<Vec<Message>>(black_box(&json)).unwrap());
        });
    }
    let acks: Vec<Message> = (0..8)
        .map(|i| Message {
            from: 2,
            to: 1,
            term: 3,
            body: MessageBody::AppendResponse {
                index: 100_000 + i,
                reject: false,
                hint: 0,
            },
        })
        .collect();
    let bin = codec::encode(&acks);
    common::bench("decode binary, 8 append responses", || {
        black_box(codec::decode(black_box(&bin)).unwrap());
    });
}
