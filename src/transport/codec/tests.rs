use super::*;
use crate::raft::types::{ConfState, Entry, EntryKind, Snapshot, SnapshotMeta};

fn msg(body: MessageBody) -> Message {
    Message {
        from: 0x1234_5678_9abc_def0,
        to: 2,
        term: u64::MAX,
        body,
    }
}

/// One of every message (add new variants here too).
fn samples() -> Vec<Message> {
    let entry = |index, kind, data: &[u8]| Entry {
        term: 7,
        index,
        kind,
        data: data.to_vec(),
    };
    vec![
        msg(MessageBody::Append {
            prev_index: 41,
            prev_term: 6,
            entries: vec![
                entry(42, EntryKind::Normal, b"{\"set\":\"x\"}"),
                entry(43, EntryKind::ConfChange, &[0, 1, 255]),
                entry(44, EntryKind::Normal, b""),
            ],
            commit: 40,
        }),
        msg(MessageBody::Append {
            prev_index: 0,
            prev_term: 0,
            entries: vec![],
            commit: 0,
        }),
        msg(MessageBody::AppendResponse {
            index: 44,
            reject: true,
            hint: 12,
        }),
        msg(MessageBody::Vote {
            pre_vote: true,
            last_index: 1 << 40,
            last_term: 1 << 33,
        }),
        msg(MessageBody::VoteResponse {
            pre_vote: false,
            granted: true,
        }),
        msg(MessageBody::Heartbeat { commit: 9, ctx: 77 }),
        msg(MessageBody::HeartbeatResponse { ctx: u64::MAX }),
        msg(MessageBody::ReadIndex { ctx: u64::MAX }),
        msg(MessageBody::ReadIndexResponse {
            ctx: 3,
            index: u64::MAX,
        }),
        msg(MessageBody::Snapshot {
            snapshot: Snapshot {
                meta: SnapshotMeta {
                    index: 100,
                    term: 3,
                    conf: ConfState {
                        voters: vec![1, 2, 3],
                    },
                },
                data: (0..=255).collect(),
            },
        }),
    ]
}

#[test]
fn every_message_round_trips() {
    for m in samples() {
        let one = vec![m];
        assert_eq!(decode(&encode(&one)).unwrap(), one);
    }
    let all = samples();
    assert_eq!(decode(&encode(&all)).unwrap(), all);
    assert_eq!(decode(&encode(&[])).unwrap(), vec![]);
}

#[test]
fn a_write_is_much_smaller_than_in_json() {
    let m = vec![msg(MessageBody::Append {
        prev_index: 100_000,
        prev_term: 2,
        entries: vec![Entry {
            term: 2,
            index: 100_001,
            kind: EntryKind::Normal,
            data: vec![b'x'; 100],
        }],
        commit: 100_000,
    })];
    let binary = encode(&m).len();
    let json = serde_json::to_vec(&m).unwrap().len();
    assert!(binary < 145 && binary * 2 < json, "{binary} vs {json}");
}

#[test]
fn varints_at_the_edges_round_trip() {
    for v in [
        0,
        1,
        127,
        128,
        16_383,
        16_384,
        u64::MAX >> 1,
        u64::MAX - 1,
        u64::MAX,
    ] {
        let m = vec![msg(MessageBody::HeartbeatResponse { ctx: v })];
        assert_eq!(decode(&encode(&m)).unwrap(), m, "{v}");
    }
}

#[test]
fn every_truncation_is_refused() {
    let bytes = encode(&samples());
    for cut in 0..bytes.len() {
        assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn flipped_bytes_never_panic() {
    let bytes = encode(&samples());
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            let _ = decode(&b);
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in 0..2000 {
        let mut b = MAGIC.to_vec();
        b.push(VERSION);
        for _ in 0..len % 97 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.push(x as u8);
        }
        let _ = decode(&b);
    }
}

#[test]
fn other_protocols_are_named() {
    let json = serde_json::to_vec(&samples()).unwrap();
    assert_eq!(decode(&json), Err(DecodeError::Json));
    assert!(DecodeError::Json.to_string().contains("peer protocol 3"));
    let mut other = encode(&samples());
    other[4] = 5;
    assert_eq!(decode(&other), Err(DecodeError::Version(5)));
    assert_eq!(decode(b"GET /"), Err(DecodeError::BadMagic));
    assert_eq!(decode(b""), Err(DecodeError::BadMagic));
}

#[test]
fn malformed_fields_are_refused_with_their_offset() {
    let head = |rest: &[u8]| [&MAGIC[..], &[VERSION], rest].concat();
    // A count no input could hold: refused before allocating anything.
    let huge = head(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert_eq!(decode(&huge), Err(DecodeError::Truncated { at: 5 }));
    // An eleven-byte varint, and a tenth byte above u64.
    let long = head(&[
        1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0,
    ]);
    assert_eq!(decode(&long), Err(DecodeError::BadVarint { at: 6 }));
    let over = head(&[
        1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0,
    ]);
    assert_eq!(decode(&over), Err(DecodeError::BadVarint { at: 6 }));
    // An unknown tag, a boolean that is 2, an unknown entry kind.
    assert_eq!(
        decode(&head(&[1, 1, 2, 3, 99, 0])),
        Err(DecodeError::BadValue {
            at: 9,
            what: "message tag"
        })
    );
    assert_eq!(
        decode(&head(&[1, 1, 2, 3, VOTE_RESPONSE, 2, 0])),
        Err(DecodeError::BadValue {
            at: 10,
            what: "boolean"
        })
    );
    assert_eq!(
        decode(&head(&[1, 1, 2, 3, APPEND, 0, 0, 0, 1, 1, 1, 9, 0])),
        Err(DecodeError::BadValue {
            at: 16,
            what: "entry kind"
        })
    );
    // A data length past the end.
    assert_eq!(
        decode(&head(&[1, 1, 2, 3, APPEND, 0, 0, 0, 1, 1, 1, 0, 50, 1])),
        Err(DecodeError::Truncated { at: 17 })
    );
    let mut trailing = encode(&samples());
    trailing.push(0);
    assert!(matches!(
        decode(&trailing),
        Err(DecodeError::Trailing { .. })
    ));
}
