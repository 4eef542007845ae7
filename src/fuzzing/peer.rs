//! `peer_message`: the body of a `POST /raft` on the peer port (a binary
//! batch of Raft messages, `transport::codec`), and of `PUT /join` and
//! `PUT /v2/admin/config` (JSON: most of the corpus is JSON for these).
//!
//! The batch goes through the real handler; what it hands to the state
//! thread must encode and decode back to itself, and is then stepped into
//! a follower and a leader the way the state thread does it (persist,
//! apply committed entries, install snapshots). A peer is trusted to
//! speak Raft, not to be right: nothing it sends may panic a replica.
//!
//! The only codec-specific lines are the batch round trip
//! (`encode_batch`, `decode_batch`); the rest goes through `PeerApi`.

use std::time::Duration;

use crossbeam_channel::unbounded;

use super::store::apply_entry;
use crate::http::auth::guard::Guard;
use crate::http::peer_api::PeerApi;
use crate::httpd::{Request, call_in_memory};
use crate::membership::{ClusterConfig, ConfigPatch};
use crate::raft::{Bootstrap, ConfState, Config, Message, MessageBody, Raft, Role};
use crate::server::mode::{Mode, ModeCell};
use crate::server::requests::PeerRequest;
use crate::store::Store;

/// Drains every Ready as the state thread would, the WAL "fsyncing" at
/// once. Returns false if Raft keeps producing Readies (a livelock).
fn settle(raft: &mut Raft, store: &mut Store) -> bool {
    for _ in 0..64 {
        if !raft.has_ready() {
            return true;
        }
        let rd = raft.ready();
        if let Some(snap) = &rd.snapshot {
            let _ = crate::server::snapshot_data::SnapshotData::decode(&snap.data)
                .and_then(|data| store.restore(&data.store));
        }
        let last = rd
            .entries
            .last()
            .map(|e| (e.index, e.term))
            .or_else(|| rd.snapshot.as_ref().map(|s| (s.meta.index, s.meta.term)));
        if let Some((index, term)) = last {
            raft.on_persisted(index, term);
        }
        for entry in &rd.committed {
            if let Some(cc) = apply_entry(store, entry) {
                raft.apply_conf_change(cc);
            }
        }
    }
    false
}

/// Machine 1 of a new three-member cluster, as a follower.
fn follower() -> Raft {
    let boot = Bootstrap {
        conf: ConfState {
            voters: vec![1, 2, 3],
        },
        ..Bootstrap::default()
    };
    Raft::new(Config::new(1), boot)
}

/// Machine 1 after winning an election with machine 2's votes.
pub(super) fn leader(store: &mut Store) -> Raft {
    let mut raft = follower();
    settle(&mut raft, store);
    raft.campaign();
    settle(&mut raft, store);
    for pre_vote in [true, false] {
        let term = raft.status().term + u64::from(pre_vote);
        raft.step(Message {
            from: 2,
            to: 1,
            term,
            body: MessageBody::VoteResponse {
                pre_vote,
                granted: true,
            },
        });
        settle(&mut raft, store);
    }
    raft
}

fn step_all(mut raft: Raft, msgs: &[Message]) {
    let mut store = Store::new();
    settle(&mut raft, &mut store);
    for m in msgs {
        let before = raft.status();
        raft.step(m.clone());
        assert!(settle(&mut raft, &mut store), "Raft never settles");
        let after = raft.status();
        assert!(after.term >= before.term, "the term went back");
        assert!(after.commit >= before.commit, "the commit index went back");
        assert!(
            after.applied <= after.commit,
            "applied past the commit index"
        );
    }
}

/// The wire form of a batch, as `POST /raft` carries it (peer protocol 4's
/// binary batch).
fn encode_batch(msgs: &[Message]) -> Vec<u8> {
    crate::transport::codec::encode(msgs)
}

fn decode_batch(bytes: &[u8]) -> Option<Vec<Message>> {
    crate::transport::codec::decode(bytes).ok()
}

pub fn peer_message(data: &[u8]) {
    let (tx, rx) = unbounded();
    let api = PeerApi {
        state: tx,
        mode: ModeCell::new(Mode::Member),
        answer_timeout: Duration::ZERO,
        // Auth off: what a peer sends reaches the decoder.
        auth: Guard::default(),
    };
    let post = Request::new("POST", "/raft", Vec::new(), data.to_vec());
    let status = call_in_memory(&api, post).map(|r| r.status).unwrap_or(0);
    let batch = match rx.try_recv() {
        Ok(PeerRequest::Raft(msgs)) => Some(msgs),
        _ => None,
    };
    assert_eq!(status == 204, batch.is_some(), "status {status}");
    if let Some(msgs) = batch {
        let back = decode_batch(&encode_batch(&msgs));
        assert_eq!(back.as_ref(), Some(&msgs), "batch round trip");
        step_all(follower(), &msgs);
        let mut store = Store::new();
        let leader = leader(&mut store);
        assert_eq!(leader.status().role, Role::Leader);
        step_all(leader, &msgs);
    }

    // The same body as a join and as settings; with no state thread to
    // ask, a body that decodes answers 500 and one that does not 400.
    let (tx, rx) = unbounded();
    drop(rx);
    let api = PeerApi {
        state: tx,
        mode: ModeCell::new(Mode::Member),
        answer_timeout: Duration::ZERO,
        auth: Guard::default(),
    };
    for target in ["/join", "/v2/admin/config"] {
        let put = Request::new("PUT", target, Vec::new(), data.to_vec());
        let status = call_in_memory(&api, put).map(|r| r.status).unwrap_or(0);
        assert!(matches!(status, 400 | 500), "{target}: {status}");
    }
    let patch = ConfigPatch::parse(data);
    if let Ok(patch) = patch {
        // What is stored at /_etcd/config reads back as the same settings.
        let config = ClusterConfig::default().with(&patch);
        let again = ClusterConfig::default().patched(config.to_json().as_bytes());
        assert_eq!(again, Ok(config), "settings round trip");
    }
}
