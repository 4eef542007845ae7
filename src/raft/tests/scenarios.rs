//! One test per rule: each sets up the smallest situation where the rule
//! matters and checks what Raft does.

use super::super::*;
use super::harness::{Cluster, test_config};

fn conf(ids: &[NodeId]) -> ConfState {
    ConfState {
        voters: ids.to_vec(),
    }
}

fn fresh(id: NodeId, voters: &[NodeId]) -> Raft {
    Raft::new(
        test_config(id),
        Bootstrap {
            conf: conf(voters),
            ..Default::default()
        },
    )
}

fn msg(from: NodeId, to: NodeId, term: Term, body: MessageBody) -> Message {
    Message {
        from,
        to,
        term,
        body,
    }
}

fn entry(index: Index, term: Term, data: &[u8]) -> Entry {
    Entry {
        term,
        index,
        kind: EntryKind::Normal,
        data: data.to_vec(),
    }
}

/// A 3-machine cluster with `leader` elected and everything settled.
fn cluster_led_by(leader: NodeId) -> Cluster {
    let mut c = Cluster::new(1, &[1, 2, 3]);
    c.elect(leader);
    assert_eq!(c.leaders(), vec![leader]);
    c
}

fn role(c: &mut Cluster, id: NodeId) -> Role {
    c.raft(id).status().role
}

#[test]
fn single_voter_commits_only_after_its_own_log_is_persisted() {
    let mut r = fresh(1, &[1]);
    r.campaign();
    assert_eq!(r.status().role, Role::Leader, "a single voter wins at once");
    let idx = r.propose(b"x".to_vec()).unwrap_or(0);
    let rd = r.ready();
    assert!(rd.committed.is_empty(), "nothing is durable yet");
    assert!(r.status().commit < idx);
    let last = rd
        .entries
        .last()
        .cloned()
        .unwrap_or_else(|| entry(0, 0, b""));
    assert_eq!(last.index, idx);
    r.on_persisted(last.index, last.term);
    let rd = r.ready();
    assert_eq!(
        rd.committed.last().map(|e| e.data.clone()),
        Some(b"x".to_vec())
    );
    assert_eq!(rd.hard_state.map(|h| h.commit), Some(idx));
}

#[test]
fn a_brand_new_cluster_writes_its_members_into_the_log() {
    let mut r = fresh(1, &[1, 2]);
    let rd = r.ready();
    let ccs: Vec<Option<ConfChange>> = rd
        .entries
        .iter()
        .map(|e| ConfChange::decode(&e.data))
        .collect();
    assert_eq!(
        ccs,
        vec![Some(ConfChange::AddNode(1)), Some(ConfChange::AddNode(2))]
    );
    assert_eq!(
        rd.hard_state,
        Some(HardState {
            term: 1,
            vote: 0,
            commit: 2
        })
    );
}

#[test]
fn restart_hands_back_committed_but_unapplied_entries_first() {
    let boot = Bootstrap {
        hard_state: HardState {
            term: 1,
            vote: 1,
            commit: 2,
        },
        snapshot: None,
        entries: vec![entry(1, 1, b"a"), entry(2, 1, b"b"), entry(3, 1, b"c")],
        conf: conf(&[1, 2, 3]),
    };
    let mut r = Raft::new(test_config(1), boot);
    assert!(r.has_ready());
    let rd = r.ready();
    assert_eq!(
        rd.committed.iter().map(|e| e.index).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(
        rd.entries.is_empty() && rd.hard_state.is_none(),
        "nothing new to persist"
    );
}

#[test]
fn follower_acknowledges_appends_only_after_they_are_persisted() {
    let mut f = fresh(2, &[1, 2, 3]);
    f.ready();
    let append = MessageBody::Append {
        prev_index: 3,
        prev_term: 1,
        entries: vec![entry(4, 2, b"x")],
        commit: 3,
    };
    f.step(msg(1, 2, 2, append));
    let rd = f.ready();
    assert_eq!(rd.entries, vec![entry(4, 2, b"x")]);
    assert!(
        rd.messages
            .iter()
            .all(|m| !matches!(m.body, MessageBody::AppendResponse { .. }))
    );
    assert_eq!(
        rd.persisted_messages,
        vec![msg(
            2,
            1,
            2,
            MessageBody::AppendResponse {
                index: 4,
                reject: false,
                hint: 0
            }
        )]
    );
}

#[test]
fn follower_rejects_an_append_that_does_not_fit_and_says_where_to_retry() {
    let mut f = fresh(2, &[1, 2, 3]);
    f.ready();
    let append = MessageBody::Append {
        prev_index: 7,
        prev_term: 2,
        entries: vec![entry(8, 2, b"x")],
        commit: 3,
    };
    f.step(msg(1, 2, 2, append));
    let rd = f.ready();
    assert!(rd.entries.is_empty());
    assert_eq!(
        rd.messages,
        vec![msg(
            2,
            1,
            2,
            MessageBody::AppendResponse {
                index: 7,
                reject: true,
                hint: 3
            }
        )]
    );
}

#[test]
fn a_vote_is_granted_only_after_term_and_vote_are_persisted() {
    let mut f = fresh(2, &[1, 2, 3]);
    f.ready();
    f.step(msg(
        1,
        2,
        2,
        MessageBody::Vote {
            pre_vote: false,
            last_index: 3,
            last_term: 1,
        },
    ));
    let rd = f.ready();
    assert_eq!(rd.hard_state.map(|h| (h.term, h.vote)), Some((2, 1)));
    assert!(rd.messages.is_empty());
    assert_eq!(
        rd.persisted_messages,
        vec![msg(
            2,
            1,
            2,
            MessageBody::VoteResponse {
                pre_vote: false,
                granted: true
            }
        )]
    );
}

#[test]
fn a_vote_is_refused_to_a_candidate_with_an_older_log() {
    let mut f = fresh(2, &[1, 2, 3]);
    f.ready();
    f.step(msg(
        1,
        2,
        2,
        MessageBody::Vote {
            pre_vote: false,
            last_index: 2,
            last_term: 1,
        },
    ));
    let rd = f.ready();
    assert_eq!(
        rd.messages,
        vec![msg(
            2,
            1,
            2,
            MessageBody::VoteResponse {
                pre_vote: false,
                granted: false
            }
        )]
    );
    assert_eq!(f.status().term, 2);
}

#[test]
fn a_candidate_asks_for_votes_only_after_its_term_is_persisted() {
    let cfg = Config {
        pre_vote: false,
        ..test_config(1)
    };
    let mut r = Raft::new(
        cfg,
        Bootstrap {
            conf: conf(&[1, 2, 3]),
            ..Default::default()
        },
    );
    r.campaign();
    let rd = r.ready();
    assert_eq!(r.status().role, Role::Candidate);
    assert_eq!(rd.hard_state.map(|h| (h.term, h.vote)), Some((2, 1)));
    assert!(rd.messages.is_empty());
    assert_eq!(rd.persisted_messages.len(), 2);
    assert!(rd.persisted_messages.iter().all(|m| matches!(
        m.body,
        MessageBody::Vote {
            pre_vote: false,
            ..
        }
    )));
}

#[test]
fn a_pre_candidate_does_not_raise_its_term() {
    let mut r = fresh(1, &[1, 2, 3]);
    r.campaign();
    let rd = r.ready();
    assert_eq!(r.status().role, Role::PreCandidate);
    assert_eq!(r.status().term, 1);
    assert_eq!(rd.messages.len(), 2);
    assert!(
        rd.messages
            .iter()
            .all(|m| m.term == 2 && matches!(m.body, MessageBody::Vote { pre_vote: true, .. }))
    );
}

#[test]
fn a_new_leader_appends_an_empty_entry_of_its_term() {
    let mut c = cluster_led_by(1);
    let st = c.raft(1).status();
    let last = c.raft(1).log_entries().last().cloned();
    assert_eq!(
        last,
        Some(Entry {
            term: st.term,
            index: 4,
            kind: EntryKind::Normal,
            data: vec![]
        })
    );
    assert_eq!(
        st.commit, 4,
        "the empty entry commits the founders' entries with it"
    );
}

#[test]
fn election_timeouts_are_randomized_between_one_and_two_base_timeouts() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let cfg = Config {
            seed,
            ..test_config(1)
        };
        let mut r = Raft::new(
            cfg,
            Bootstrap {
                conf: conf(&[1, 2, 3]),
                ..Default::default()
            },
        );
        let mut ticks = 0;
        while r.status().role == Role::Follower && ticks < 100 {
            r.tick();
            ticks += 1;
        }
        assert!(
            (10..20).contains(&ticks),
            "timeout {ticks} outside [10, 20)"
        );
        seen.insert(ticks);
    }
    assert!(seen.len() > 3, "timeouts should vary: {seen:?}");
}

#[test]
fn a_machine_outside_the_voter_set_never_campaigns() {
    let mut r = fresh(4, &[]);
    for _ in 0..200 {
        r.tick();
    }
    r.campaign();
    assert_eq!(r.status().role, Role::Follower);
    assert!(r.ready().messages.is_empty());
}

#[test]
fn messages_for_someone_else_or_from_oneself_are_ignored() {
    let mut r = fresh(2, &[1, 2, 3]);
    r.ready();
    r.step(msg(1, 9, 5, MessageBody::Heartbeat { commit: 0, ctx: 0 }));
    r.step(msg(2, 2, 5, MessageBody::Heartbeat { commit: 0, ctx: 0 }));
    r.step(msg(0, 2, 5, MessageBody::Heartbeat { commit: 0, ctx: 0 }));
    assert_eq!(r.status().term, 1);
    assert!(!r.has_ready());
}

#[test]
fn messages_round_trip_through_serde() {
    let bodies = vec![
        MessageBody::Append {
            prev_index: 1,
            prev_term: 1,
            entries: vec![entry(2, 1, b"x")],
            commit: 1,
        },
        MessageBody::AppendResponse {
            index: 2,
            reject: true,
            hint: 1,
        },
        MessageBody::Vote {
            pre_vote: true,
            last_index: 3,
            last_term: 2,
        },
        MessageBody::VoteResponse {
            pre_vote: false,
            granted: true,
        },
        MessageBody::Heartbeat { commit: 3, ctx: 9 },
        MessageBody::HeartbeatResponse { ctx: 9 },
        MessageBody::Snapshot {
            snapshot: Snapshot::default(),
        },
    ];
    for body in bodies {
        let m = msg(1, 2, 3, body);
        let text = serde_json::to_string(&m).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Message>(&text).ok(), Some(m));
    }
}

#[test]
fn proposals_on_a_follower_name_the_leader() {
    let mut c = cluster_led_by(1);
    assert_eq!(
        c.raft(2).propose(b"x".to_vec()),
        Err(ProposeError::NotLeader { leader: Some(1) })
    );
    // Reads are not proposals: a follower asks its leader for a read index.
    assert_eq!(c.raft(2).read_index(1), Ok(()));
}

#[test]
fn appends_are_batched_by_bytes_and_pipelined_up_to_the_window() {
    let mut c = cluster_led_by(1);
    assert_eq!(
        c.raft(1).status().progress[&2].state,
        ProgressState::Replicate
    );
    for _ in 0..10 {
        let _ = c.raft(1).propose(vec![7u8; 40]);
    }
    c.settle();
    // Sent before the leader's own fsync; one 40-byte entry fits the 64-byte budget.
    let to2: Vec<&Message> = c
        .net
        .iter()
        .filter(|m| m.to == 2 && matches!(m.body, MessageBody::Append { .. }))
        .collect();
    assert_eq!(
        to2.len(),
        test_config(1).max_inflight,
        "window full, no more in flight"
    );
    for m in &to2 {
        if let MessageBody::Append { entries, .. } = &m.body {
            assert_eq!(entries.len(), 1);
        }
    }
    c.stabilize();
    let commit = c.raft(1).status().commit;
    assert_eq!(
        commit,
        c.raft(1).log_entries().last().map(|e| e.index).unwrap_or(0)
    );
    assert_eq!(
        c.nodes[&2].app.applied, commit,
        "acks reopened the window until all was sent"
    );
}

/// Deliver everything in flight addressed to `id` (and nothing else).
fn deliver_to(c: &mut Cluster, id: NodeId) {
    let (mine, rest): (Vec<Message>, Vec<Message>) = std::mem::take(&mut c.net)
        .into_iter()
        .partition(|m| m.to == id);
    c.net = rest;
    for m in mine {
        c.raft(id).step(m);
        c.settle();
    }
}

#[test]
fn a_leader_counts_itself_only_for_persisted_entries() {
    let mut c = cluster_led_by(1);
    let idx = c.raft(1).propose(b"x".to_vec()).unwrap_or(0);
    c.settle();
    deliver_to(&mut c, 2);
    c.flush_one(2);
    c.settle();
    deliver_to(&mut c, 1);
    assert!(c.raft(1).status().progress[&2].match_index >= idx);
    assert!(
        c.raft(1).status().commit < idx,
        "one durable follower plus an unsynced leader is no quorum"
    );
    c.flush_one(1);
    c.settle();
    assert_eq!(c.raft(1).status().commit, idx);
}

#[test]
fn read_index_is_answered_after_a_quorum_confirms_leadership() {
    let mut c = cluster_led_by(1);
    let commit = c.raft(1).status().commit;
    assert_eq!(c.raft(1).read_index(77), Ok(()));
    c.settle();
    assert!(
        c.nodes[&1].read_states.is_empty(),
        "not before the heartbeat round"
    );
    c.stabilize();
    assert_eq!(
        c.nodes[&1].read_states,
        vec![ReadState {
            ctx: 77,
            index: commit
        }]
    );
}

#[test]
fn read_index_waits_until_the_leader_committed_an_entry_of_its_term() {
    let mut c = Cluster::new(1, &[1, 2, 3]);
    c.raft(1).campaign();
    c.settle();
    for _ in 0..10 {
        if c.leaders() == vec![1] {
            break;
        }
        c.deliver_all();
        if c.leaders() == vec![1] {
            break;
        }
        for id in [1, 2, 3] {
            while c.flush_one(id) {}
        }
        c.settle();
    }
    assert_eq!(c.leaders(), vec![1]);
    let empty_entry = c.raft(1).log_entries().last().map(|e| e.index).unwrap_or(0);
    assert!(c.raft(1).status().commit < empty_entry);
    assert_eq!(c.raft(1).read_index(9), Ok(()));
    c.settle();
    assert!(
        !c.net
            .iter()
            .any(|m| matches!(m.body, MessageBody::Heartbeat { ctx, .. } if ctx != 0))
    );
    c.stabilize();
    assert_eq!(
        c.nodes[&1].read_states,
        vec![ReadState {
            ctx: 9,
            index: empty_entry
        }]
    );
}

#[test]
fn a_leader_cut_off_from_the_others_never_answers_a_read() {
    let mut c = cluster_led_by(1);
    c.isolate(&[1]);
    assert_eq!(c.raft(1).read_index(5), Ok(()));
    for _ in 0..50 {
        c.tick_all();
        c.stabilize();
    }
    assert!(c.nodes[&1].read_states.is_empty());
}

#[test]
fn pre_vote_keeps_a_rejoining_machine_from_raising_the_term() {
    let mut c = cluster_led_by(1);
    let term = c.raft(1).status().term;
    c.isolate(&[3]);
    for _ in 0..100 {
        c.tick_all();
        c.stabilize();
    }
    assert_eq!(
        c.raft(3).status().term,
        term,
        "pre-votes went unanswered; the term stayed"
    );
    assert_eq!(role(&mut c, 1), Role::Leader);
    c.heal();
    for _ in 0..30 {
        c.tick_all();
        c.stabilize();
    }
    assert_eq!(c.raft(1).status().term, term);
    assert_eq!(c.leaders(), vec![1]);
    assert_eq!(c.raft(3).status().leader, Some(1));
}

#[test]
fn without_pre_vote_a_rejoining_machine_disrupts_the_leader() {
    // The contrast to the rule above: shows the test setup can see a disruption.
    let cfg = Config {
        pre_vote: false,
        check_quorum: false,
        ..test_config(0)
    };
    let mut c = Cluster::with_config(1, &[1, 2, 3], cfg);
    c.elect(1);
    let term = c.raft(1).status().term;
    c.isolate(&[3]);
    for _ in 0..100 {
        c.tick_all();
        c.stabilize();
    }
    assert!(c.raft(3).status().term > term);
    c.heal();
    for _ in 0..30 {
        c.tick_all();
        c.stabilize();
    }
    assert!(c.raft(1).status().term > term);
}

#[test]
fn vote_requests_are_ignored_while_a_leader_is_heard_from() {
    let mut c = cluster_led_by(1);
    let term = c.raft(2).status().term;
    c.raft(2).step(msg(
        3,
        2,
        term + 5,
        MessageBody::Vote {
            pre_vote: false,
            last_index: 99,
            last_term: 99,
        },
    ));
    assert_eq!(c.raft(2).status().term, term);
    assert_eq!(c.raft(2).status().leader, Some(1));
}

#[test]
fn check_quorum_makes_a_cut_off_leader_step_down() {
    let mut c = cluster_led_by(1);
    c.isolate(&[1]);
    for _ in 0..(2 * test_config(1).election_tick) {
        c.tick(1);
        c.stabilize();
    }
    assert_eq!(role(&mut c, 1), Role::Follower);
}

#[test]
fn a_leader_that_hears_from_a_quorum_stays() {
    let mut c = cluster_led_by(1);
    c.isolate(&[3]);
    for _ in 0..(5 * test_config(1).election_tick) {
        c.tick_all();
        c.stabilize();
    }
    assert_eq!(role(&mut c, 1), Role::Leader);
}

#[test]
fn members_are_added_and_removed_by_conf_change() {
    let mut c = Cluster::new(1, &[1]);
    c.elect(1);
    for id in [2, 3] {
        c.add_machine(id, &[]);
        assert!(
            c.raft(1)
                .propose_conf_change(ConfChange::AddNode(id))
                .is_ok()
        );
        c.settle();
        c.stabilize();
        for _ in 0..5 {
            c.tick_all();
            c.stabilize();
        }
        assert!(
            c.raft(id).status().voters.contains(&id),
            "node {id} learned it is a member"
        );
    }
    assert_eq!(c.raft(1).status().voters, vec![1, 2, 3]);
    let idx = c.propose(1, b"after-join");
    assert!(c.nodes.values().all(|n| n.app.applied >= idx));

    // The leader removes itself: once applied, it steps down and the others elect.
    assert!(
        c.raft(1)
            .propose_conf_change(ConfChange::RemoveNode(1))
            .is_ok()
    );
    c.settle();
    c.stabilize();
    assert_eq!(role(&mut c, 1), Role::Follower);
    assert_eq!(c.raft(2).status().voters, vec![2, 3]);
    for _ in 0..60 {
        c.tick_all();
        c.stabilize();
    }
    let leaders = c.leaders();
    assert_eq!(leaders.len(), 1);
    assert_ne!(leaders[0], 1, "a removed machine never campaigns");
    let idx = c.propose(leaders[0], b"after-removal");
    assert!(c.nodes[&2].app.applied >= idx && c.nodes[&3].app.applied >= idx);
}

#[test]
fn only_one_conf_change_may_be_pending() {
    let mut c = cluster_led_by(1);
    assert!(
        c.raft(1)
            .propose_conf_change(ConfChange::AddNode(4))
            .is_ok()
    );
    assert_eq!(
        c.raft(1).propose_conf_change(ConfChange::AddNode(5)),
        Err(ProposeError::ConfChangePending)
    );
}

#[test]
fn a_membership_change_carries_application_data_under_the_same_gate() {
    let mut c = cluster_led_by(1);
    let index = c
        .raft(1)
        .propose_membership_change(ConfChange::AddNode(4), b"join machine4".to_vec())
        .expect("leader accepts");
    assert!(c.raft(1).membership_change_pending());
    assert_eq!(
        c.raft(1)
            .propose_membership_change(ConfChange::RemoveNode(3), b"remove machine3".to_vec()),
        Err(ProposeError::ConfChangePending)
    );
    let entry = c
        .raft(1)
        .log_entries()
        .iter()
        .find(|e| e.index == index)
        .cloned()
        .expect("appended");
    assert_eq!(entry.kind, EntryKind::ConfChange);
    assert_eq!(entry.data, b"join machine4");
    // Once committed and handed to the application, the next change may go.
    c.stabilize();
    assert!(!c.raft(1).membership_change_pending());
    assert!(
        c.raft(1)
            .propose_membership_change(ConfChange::RemoveNode(3), b"remove machine3".to_vec())
            .is_ok()
    );
}

#[test]
fn a_new_leader_waits_for_changes_already_in_its_log() {
    let mut c = cluster_led_by(1);
    let index = c
        .raft(1)
        .propose_membership_change(ConfChange::AddNode(4), b"join machine4".to_vec())
        .expect("leader accepts");
    c.settle();
    // Machine 2 gets the entry durably; nobody learns that it committed.
    c.net.retain(|m| m.to == 2);
    deliver_to(&mut c, 2);
    c.flush_one(2);
    c.net.clear();
    c.crash(1);
    for _ in 0..100 {
        if c.leaders() == vec![2] {
            break;
        }
        c.tick_all();
        c.deliver_all();
        // Votes are granted only once durable; everything but appends may land.
        for id in [2, 3] {
            while c.flush_one(id) {}
        }
        c.settle();
        c.net
            .retain(|m| !matches!(m.body, MessageBody::Append { .. }));
    }
    assert_eq!(c.leaders(), vec![2], "machine 2 has the longer log");
    assert!(c.raft(2).status().commit < index);
    assert!(
        c.raft(2).membership_change_pending(),
        "an unapplied change in the new leader's log blocks another"
    );
    assert_eq!(
        c.raft(2)
            .propose_membership_change(ConfChange::RemoveNode(3), b"remove machine3".to_vec()),
        Err(ProposeError::ConfChangePending)
    );
    c.stabilize();
    assert!(c.raft(2).status().commit >= index);
    assert!(!c.raft(2).membership_change_pending());
}

#[test]
fn the_last_voter_cannot_be_removed() {
    let mut c = Cluster::new(1, &[1]);
    c.elect(1);
    assert_eq!(
        c.raft(1).propose_conf_change(ConfChange::RemoveNode(1)),
        Err(ProposeError::Dropped)
    );
}

#[test]
fn a_follower_behind_the_compacted_log_receives_and_installs_a_snapshot() {
    let mut c = cluster_led_by(1);
    c.isolate(&[3]);
    for k in 0..5 {
        c.propose(1, format!("v{k}").as_bytes());
    }
    c.compact(1);
    c.compact(2);
    let snap_index = c.raft(1).snapshot_index();
    assert!(snap_index > c.nodes[&3].app.applied);
    c.heal();
    for _ in 0..10 {
        c.tick_all();
        c.stabilize();
    }
    assert_eq!(c.checker.snapshots_installed, 1);
    assert_eq!(
        c.nodes[&3].disk.snapshot.as_ref().map(|s| s.meta.index),
        Some(snap_index)
    );
    let idx = c.propose(1, b"after-snapshot");
    assert_eq!(
        c.nodes[&3].app, c.nodes[&1].app,
        "same state after the snapshot and the new entry"
    );
    assert_eq!(c.nodes[&3].app.applied, idx);
}

#[test]
fn a_restarted_machine_recovers_from_what_it_persisted() {
    let mut c = cluster_led_by(1);
    let idx = c.propose(1, b"durable");
    c.compact(2);
    c.crash(2);
    c.restart(2);
    c.stabilize();
    assert_eq!(c.nodes[&2].app.applied, idx);
    assert_eq!(c.raft(2).status().term, c.raft(1).status().term);
}

#[test]
fn a_single_voter_answers_reads_at_once_once_its_term_has_a_commit() {
    let mut r = fresh(1, &[1]);
    r.campaign();
    assert_eq!(r.read_index(1), Ok(()));
    let rd = r.ready();
    assert!(
        rd.read_states.is_empty(),
        "its empty entry is not committed yet"
    );
    let last = rd
        .entries
        .last()
        .cloned()
        .unwrap_or_else(|| entry(0, 0, b""));
    r.on_persisted(last.index, last.term);
    assert_eq!(
        r.ready().read_states,
        vec![ReadState {
            ctx: 1,
            index: last.index
        }]
    );
    assert_eq!(r.read_index(2), Ok(()));
    assert_eq!(
        r.ready().read_states,
        vec![ReadState {
            ctx: 2,
            index: last.index
        }]
    );
}
