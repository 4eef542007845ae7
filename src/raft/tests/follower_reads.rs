//! Linearizable reads on followers: a follower asks its leader for a read
//! index (`ReadIndex`), the leader answers once a quorum confirmed it still
//! leads (`ReadIndexResponse`), and nothing stale ever comes back, however
//! the network is cut.

use super::super::*;
use super::harness::Cluster;

fn cluster_led_by(ids: &[NodeId], leader: NodeId) -> Cluster {
    let mut c = Cluster::new(1, ids);
    c.elect(leader);
    assert_eq!(c.leaders(), vec![leader]);
    c
}

/// Asks `id` for a read `ctx`, telling the checker the lowest index a
/// correct answer may carry (everything committed anywhere by now).
fn ask(c: &mut Cluster, id: NodeId, ctx: u64) -> Result<(), ProposeError> {
    let floor = c.max_commit();
    c.checker.read_floor.insert(ctx, floor);
    let r = c.raft(id).read_index(ctx);
    c.settle();
    r
}

fn in_net(c: &Cluster, f: impl Fn(&Message) -> bool) -> usize {
    c.net.iter().filter(|m| f(m)).count()
}

fn is_read_index(m: &Message) -> bool {
    matches!(m.body, MessageBody::ReadIndex { .. })
}

fn answered(c: &Cluster, id: NodeId) -> Vec<u64> {
    c.nodes[&id].read_states.iter().map(|rs| rs.ctx).collect()
}

fn is_read_index_response(m: &Message) -> bool {
    matches!(m.body, MessageBody::ReadIndexResponse { .. })
}

fn is_read_heartbeat(m: &Message) -> bool {
    matches!(m.body, MessageBody::Heartbeat { ctx, .. } if ctx != 0)
}

#[test]
fn on_three_machines_the_followers_request_and_the_leader_are_the_quorum() {
    let mut c = cluster_led_by(&[1, 2, 3], 1);
    c.propose(1, b"w1");
    let commit = c.raft(1).status().commit;
    assert_eq!(ask(&mut c, 2, 7), Ok(()));
    assert_eq!(in_net(&c, is_read_index), 1);
    // The request confirms the leader's term as of a moment after the read
    // arrived: with the leader's own vote that is two of three, so the
    // answer goes out at once, with no heartbeat round.
    let k = c.net.iter().position(is_read_index).unwrap();
    c.deliver_at(k, false);
    assert_eq!(in_net(&c, is_read_heartbeat), 0);
    assert_eq!(in_net(&c, is_read_index_response), 1);
    c.stabilize();
    assert_eq!(
        c.nodes[&2].read_states,
        vec![ReadState {
            ctx: 7,
            index: commit
        }]
    );
    assert!(c.nodes[&2].app.applied >= commit);
}

#[test]
fn on_five_machines_the_leader_answers_a_follower_after_one_more_confirmation() {
    let mut c = cluster_led_by(&[1, 2, 3, 4, 5], 1);
    c.propose(1, b"w1");
    let commit = c.raft(1).status().commit;
    assert_eq!(ask(&mut c, 2, 7), Ok(()));
    let k = c.net.iter().position(is_read_index).unwrap();
    c.deliver_at(k, false);
    // Leader and asker are two of five: not before a third has heard from it.
    assert_eq!(in_net(&c, is_read_index_response), 0);
    assert_eq!(in_net(&c, is_read_heartbeat), 4);
    let to_3 = c
        .net
        .iter()
        .position(|m| is_read_heartbeat(m) && m.to == 3)
        .unwrap();
    c.deliver_at(to_3, false);
    c.flush_all();
    assert_eq!(in_net(&c, is_read_index_response), 0);
    let from_3 = c
        .net
        .iter()
        .position(|m| matches!(m.body, MessageBody::HeartbeatResponse { .. }) && m.from == 3)
        .unwrap();
    c.deliver_at(from_3, false);
    assert_eq!(in_net(&c, is_read_index_response), 1);
    c.stabilize();
    assert_eq!(
        c.nodes[&2].read_states,
        vec![ReadState {
            ctx: 7,
            index: commit
        }]
    );
}

#[test]
fn reads_arriving_while_one_is_asked_share_the_next_request() {
    let mut c = cluster_led_by(&[1, 2, 3], 1);
    ask(&mut c, 2, 1).unwrap();
    for ctx in 2..=20 {
        ask(&mut c, 2, ctx).unwrap();
    }
    assert_eq!(in_net(&c, is_read_index), 1, "one request in flight");
    c.stabilize();
    let mut got = answered(&c, 2);
    got.sort_unstable();
    assert_eq!(got, (1..=20).collect::<Vec<u64>>());
}

#[test]
fn the_leader_runs_one_confirmation_round_at_a_time_for_all_waiting_reads() {
    let mut c = cluster_led_by(&[1, 2, 3], 1);
    for ctx in 1..=10 {
        ask(&mut c, 1, ctx).unwrap();
    }
    let mut rounds = std::collections::BTreeSet::new();
    while !c.net.is_empty() {
        if let MessageBody::Heartbeat { ctx, .. } = c.net[0].body
            && ctx != 0
        {
            rounds.insert(ctx);
        }
        c.deliver_at(0, false);
        c.flush_all();
    }
    // Read 1 has its round; reads 2-10 arrived meanwhile and share the next.
    assert_eq!(rounds.len(), 2, "{rounds:?}");
    assert_eq!(answered(&c, 1), (1..=10).collect::<Vec<u64>>());
}

#[test]
fn a_follower_that_knows_no_leader_refuses_at_once() {
    let mut c = Cluster::new(1, &[1, 2, 3]);
    assert_eq!(
        c.raft(2).read_index(1),
        Err(ProposeError::NotLeader { leader: None })
    );
}

#[test]
fn a_lost_request_is_sent_again() {
    let mut c = cluster_led_by(&[1, 2, 3], 1);
    ask(&mut c, 2, 5).unwrap();
    c.net.retain(|m| !is_read_index(m));
    // test_config: heartbeat_tick 2, so a retry after 4 ticks (well inside
    // the election timeout).
    for _ in 0..4 {
        c.tick(2);
    }
    assert_eq!(in_net(&c, is_read_index), 1);
    c.stabilize();
    assert_eq!(answered(&c, 2), vec![5]);
}

#[test]
fn answers_from_another_machine_or_for_another_round_are_ignored() {
    let mut c = cluster_led_by(&[1, 2, 3], 1);
    ask(&mut c, 2, 5).unwrap();
    let term = c.raft(2).status().term;
    let round = c
        .net
        .iter()
        .find_map(|m| match m.body {
            MessageBody::ReadIndex { ctx } => Some(ctx),
            _ => None,
        })
        .unwrap();
    let forged = |from, ctx| Message {
        from,
        to: 2,
        term,
        body: MessageBody::ReadIndexResponse { ctx, index: 1 },
    };
    c.raft(2).step(forged(3, round));
    c.raft(2).step(forged(1, round + 1));
    c.settle();
    assert!(answered(&c, 2).is_empty());
}

#[test]
fn a_follower_drops_its_reads_when_its_leader_changes() {
    let mut c = cluster_led_by(&[1, 2, 3], 1);
    ask(&mut c, 2, 5).unwrap();
    c.net.clear();
    c.isolate(&[1]);
    for _ in 0..100 {
        c.tick(2);
        c.tick(3);
        c.stabilize();
        if c.leaders().iter().any(|l| *l != 1) {
            break;
        }
    }
    let l = c
        .leaders()
        .into_iter()
        .find(|l| *l != 1)
        .expect("2 or 3 lead");
    assert_eq!(c.nodes[&2].dropped_reads, vec![5]);
    assert!(answered(&c, 2).is_empty());
    // The remaining follower asks the new leader from now on.
    c.propose(l, b"after");
    let f = if l == 2 { 3 } else { 2 };
    ask(&mut c, f, 6).unwrap();
    c.stabilize();
    assert_eq!(answered(&c, f), vec![6]);
}

#[test]
fn a_leader_that_steps_down_drops_its_own_reads() {
    let mut c = cluster_led_by(&[1, 2, 3], 1);
    c.isolate(&[1]);
    ask(&mut c, 1, 9).unwrap();
    for _ in 0..30 {
        c.tick(1);
        c.stabilize();
    }
    assert_ne!(c.raft(1).status().role, Role::Leader);
    assert_eq!(c.nodes[&1].dropped_reads, vec![9]);
    assert!(answered(&c, 1).is_empty());
}

/// The stale-read trap: five machines, the old leader 1 and follower 2 cut
/// off together while 3-5 elect a new leader and commit writes. 2 still
/// believes in 1 and asks it; 1 cannot get a quorum to confirm, so 2 must
/// never answer (it gives up once it notices it lost its leader).
#[test]
fn a_follower_partitioned_with_an_old_leader_never_answers_stale() {
    let mut c = cluster_led_by(&[1, 2, 3, 4, 5], 1);
    c.propose(1, b"before");
    c.isolate(&[1, 2]);
    let mut new_leader = None;
    for _ in 0..100 {
        for id in [3, 4, 5] {
            c.tick(id);
        }
        c.stabilize();
        new_leader = c.leaders().into_iter().find(|l| *l >= 3);
        if new_leader.is_some() {
            break;
        }
    }
    let l = new_leader.expect("3-5 elect a leader");
    for k in 0..5 {
        c.propose(l, format!("new-{k}").as_bytes());
    }
    assert!(c.max_commit() > c.raft(2).status().commit);
    assert_eq!(c.raft(1).status().role, Role::Leader, "1 does not know yet");
    // 2 asks the old leader; the checker holds the answer to the new commits.
    assert_eq!(ask(&mut c, 2, 42), Ok(()));
    for _ in 0..20 {
        c.stabilize();
    }
    assert!(
        answered(&c, 2).is_empty(),
        "no quorum confirmed the old leader"
    );
    // Time passes on the old side too: 1 steps down (CheckQuorum), 2 stops
    // following it, and the read is dropped rather than answered.
    for _ in 0..60 {
        c.tick(1);
        c.tick(2);
        c.stabilize();
    }
    assert!(answered(&c, 2).is_empty());
    assert_eq!(c.nodes[&2].dropped_reads, vec![42]);
    // Healed, 2 follows the new leader and a new read sees the new writes.
    c.heal();
    for _ in 0..50 {
        c.tick_all();
        c.stabilize();
        if c.raft(2).status().leader.is_some() && c.nodes[&2].app.applied >= c.max_commit() {
            break;
        }
    }
    ask(&mut c, 2, 43).unwrap();
    for _ in 0..10 {
        c.stabilize();
    }
    let rs = c.nodes[&2].read_states.clone();
    assert_eq!(rs.len(), 1, "{rs:?}");
    assert!(rs[0].index >= c.checker.first_index_of[b"new-4".as_slice()]);
}

#[test]
fn a_restarted_follower_ignores_answers_meant_for_its_previous_life() {
    let mut c = cluster_led_by(&[1, 2, 3], 1);
    ask(&mut c, 2, 5).unwrap();
    let k = c.net.iter().position(is_read_index).unwrap();
    c.deliver_at(k, false);
    // Let the leader's round complete, but keep its answer to 2 back.
    c.deliver_all_but(|m| matches!(m.body, MessageBody::ReadIndexResponse { .. }));
    let old: Vec<Message> = std::mem::take(&mut c.net);
    assert_eq!(old.len(), 1);
    c.crash(2);
    c.restart(2);
    c.propose(1, b"while 2 was away");
    c.tick_all();
    c.stabilize();
    assert_eq!(c.raft(2).status().leader, Some(1));
    // Same term, new life: the old answer must not serve the new read.
    ask(&mut c, 2, 6).unwrap();
    c.net.retain(|m| !is_read_index(m));
    c.raft(2).step(old[0].clone());
    c.settle();
    assert!(answered(&c, 2).is_empty());
}

#[test]
fn a_followers_request_does_not_wait_behind_the_leaders_own_round() {
    let mut c = cluster_led_by(&[1, 2, 3], 1);
    ask(&mut c, 1, 1).unwrap();
    let rounds = |c: &Cluster| -> std::collections::BTreeSet<u64> {
        c.net
            .iter()
            .filter_map(|m| match m.body {
                MessageBody::Heartbeat { ctx, .. } if ctx != 0 => Some(ctx),
                _ => None,
            })
            .collect()
    };
    let first = rounds(&c);
    assert_eq!(first.len(), 1);
    // The leader's round is still out when 2's request arrives: 2's needs
    // no heartbeats (three machines) and is answered before the leader's.
    ask(&mut c, 2, 2).unwrap();
    let k = c.net.iter().position(is_read_index).unwrap();
    c.deliver_at(k, false);
    assert_eq!(rounds(&c), first);
    let k = c.net.iter().position(is_read_index_response).unwrap();
    c.deliver_at(k, false);
    assert_eq!(answered(&c, 2), vec![2]);
    assert!(answered(&c, 1).is_empty());
    c.stabilize();
    assert_eq!(answered(&c, 1), vec![1]);
}
