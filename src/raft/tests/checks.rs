//! The Raft safety properties (Figure 3 of the paper), checked against
//! everything the simulated machines do. Any violation panics with the
//! seed, so the run can be repeated with `run_seed`.

use std::collections::{BTreeMap, BTreeSet};

use super::super::*;
use super::harness::{App, SimNode, chain};

#[derive(Debug, Default)]
pub struct Checker {
    /// Election safety: the one leader of each term.
    leaders: BTreeMap<Term, NodeId>,
    leaders_checked: BTreeSet<(Term, NodeId)>,
    /// Log matching: an (index, term) names one entry content and one predecessor term.
    entries: BTreeMap<(Index, Term), (u64, Option<Term>)>,
    /// State machine safety: the state after applying each index.
    states: BTreeMap<Index, u64>,
    /// Entries seen applied: index -> (entry term, highest term in the cluster then).
    committed: BTreeMap<Index, (Term, Term)>,
    /// First index at which each payload was applied.
    pub first_index_of: BTreeMap<Vec<u8>, Index>,
    /// Read-index requests: ctx -> lowest index a correct answer may carry
    /// (the highest commit anywhere when the read was asked for).
    pub read_floor: BTreeMap<u64, Index>,
    /// Reads confirmed, by ctx, with the floor they had (to check the state served).
    reads_confirmed: BTreeMap<u64, Index>,
    /// Reads Raft gave up on; none may be confirmed too.
    reads_dropped: BTreeSet<u64>,
    pub reads_answered: usize,
    /// Reads answered on a machine that was not leader when it got the ReadState.
    pub follower_reads_answered: usize,
    pub reads_served: usize,
    pub snapshots_installed: usize,
    /// Conf-change entries applied past the founding ones (counted per machine).
    pub conf_changes_applied: usize,
}

impl Checker {
    pub fn fail(&self, seed: u64, msg: String) -> ! {
        panic!("seed {seed}: {msg}")
    }

    pub fn leader_count(&self) -> usize {
        self.leaders.len()
    }

    /// The term of the entry committed at `index`, once some machine applied it.
    pub fn committed_term(&self, index: Index) -> Option<Term> {
        self.committed.get(&index).map(|(t, _)| *t)
    }

    pub fn max_committed(&self) -> Index {
        self.committed.keys().next_back().copied().unwrap_or(0)
    }

    pub fn saw_entry(&mut self, seed: u64, node: NodeId, e: &Entry, prev_term: Option<Term>) {
        let content = chain(0, e) ^ (e.kind == EntryKind::ConfChange) as u64;
        match self.entries.get_mut(&(e.index, e.term)) {
            None => {
                self.entries.insert((e.index, e.term), (content, prev_term));
            }
            Some((c, p)) => {
                if *c != content {
                    self.fail(
                        seed,
                        format!(
                            "log matching: node {node} has a different entry ({}, {})",
                            e.index, e.term
                        ),
                    );
                }
                match (*p, prev_term) {
                    (Some(a), Some(b)) if a != b => self.fail(
                        seed,
                        format!("log matching: node {node} entry ({}, {}) follows term {b}, elsewhere {a}", e.index, e.term),
                    ),
                    (None, Some(b)) => *p = Some(b),
                    _ => {}
                }
            }
        }
    }

    pub fn saw_state(&mut self, seed: u64, node: NodeId, app: App) {
        if app.applied == 0 {
            return;
        }
        match self.states.get(&app.applied) {
            None => {
                self.states.insert(app.applied, app.hash);
            }
            Some(h) if *h != app.hash => self.fail(
                seed,
                format!(
                    "state machine safety: node {node} differs after applying {}",
                    app.applied
                ),
            ),
            Some(_) => {}
        }
    }

    pub fn saw_commit(&mut self, seed: u64, e: &Entry, max_term: Term) {
        let (t, _) = *self.committed.entry(e.index).or_insert((e.term, max_term));
        if t != e.term {
            self.fail(
                seed,
                format!("two different entries committed at {}", e.index),
            );
        }
        self.first_index_of.entry(e.data.clone()).or_insert(e.index);
    }

    /// Linearizability of a read: its index covers every entry committed
    /// anywhere before it was asked for, so every write acknowledged by then.
    pub fn saw_read(&mut self, seed: u64, node: NodeId, rs: ReadState) {
        self.reads_answered += 1;
        if self.reads_dropped.contains(&rs.ctx) || self.reads_confirmed.contains_key(&rs.ctx) {
            self.fail(
                seed,
                format!(
                    "read {} on node {node} answered twice or after it was dropped",
                    rs.ctx
                ),
            );
        }
        let floor = self.read_floor.remove(&rs.ctx).unwrap_or(0);
        if rs.index < floor {
            self.fail(
                seed,
                format!(
                    "read {} on node {node} at {} misses commit {floor}",
                    rs.ctx, rs.index
                ),
            );
        }
        self.reads_confirmed.insert(rs.ctx, floor);
    }

    pub fn saw_dropped_read(&mut self, seed: u64, node: NodeId, ctx: u64) {
        if self.reads_confirmed.contains_key(&ctx) || !self.reads_dropped.insert(ctx) {
            self.fail(
                seed,
                format!("read {ctx} on node {node} dropped after it was answered, or twice"),
            );
        }
        self.read_floor.remove(&ctx);
    }

    /// The state a confirmed read is served from (`applied`) includes
    /// everything committed before the read was asked for.
    pub fn saw_read_served(&mut self, seed: u64, node: NodeId, ctx: u64, applied: Index) {
        self.reads_served += 1;
        let floor = self.reads_confirmed.get(&ctx).copied().unwrap_or(0);
        if applied < floor {
            self.fail(
                seed,
                format!("read {ctx} served by node {node} at {applied}, before commit {floor}"),
            );
        }
    }

    /// Election safety, and leader completeness for every newly seen leader.
    pub fn check_leaders(&mut self, seed: u64, nodes: &BTreeMap<NodeId, SimNode>) {
        for n in nodes.values() {
            let Some(r) = n.raft.as_ref() else { continue };
            if r.role != Role::Leader {
                continue;
            }
            let term = r.term;
            match self.leaders.get(&term) {
                Some(l) if *l != n.id => self.fail(
                    seed,
                    format!("election safety: {l} and {} both lead term {term}", n.id),
                ),
                Some(_) => {}
                None => {
                    self.leaders.insert(term, n.id);
                }
            }
            if self.leaders_checked.insert((term, n.id)) {
                for (i, (t, seen_at)) in &self.committed {
                    if *seen_at < term && *i > r.snapshot_index() && r.log.term(*i) != Some(*t) {
                        self.fail(
                            seed,
                            format!("leader completeness: leader {} of term {term} lacks committed ({i}, {t})", n.id),
                        );
                    }
                }
            }
        }
    }
}
