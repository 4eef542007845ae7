//! The in-memory Raft log: a snapshot position followed by contiguous
//! entries, plus the watermarks that say how far the log is committed,
//! handed to the application, handed to the WAL, and known durable.
//! It never decides what to commit; it only keeps the numbers consistent.

use super::types::{Entry, Index, Snapshot, SnapshotMeta, Term};

#[derive(Debug, Clone)]
pub struct RaftLog {
    /// Position of the last entry folded into a snapshot (0/0 if none).
    snap_index: Index,
    snap_term: Term,
    /// `entries[i].index == snap_index + 1 + i`.
    entries: Vec<Entry>,
    pub committed: Index,
    /// Last index handed to the application (entries or a snapshot).
    pub applied: Index,
    /// Last index the WAL reported durable (and still in this log).
    pub persisted: Index,
    /// First index not yet handed to the WAL in a Ready.
    unsent: Index,
    /// A snapshot received from the leader, not yet handed out in a Ready.
    pub pending_snapshot: Option<Snapshot>,
    /// The newest full snapshot, to send to lagging followers.
    pub latest_snapshot: Option<Snapshot>,
}

impl RaftLog {
    /// A log restored from what the WAL holds: everything given is durable.
    /// `entries` that do not follow the snapshot contiguously are cut at the
    /// first gap rather than trusted.
    pub fn restore(snapshot: Option<&SnapshotMeta>, entries: Vec<Entry>, commit: Index) -> RaftLog {
        let (snap_index, snap_term) = snapshot.map(|s| (s.index, s.term)).unwrap_or((0, 0));
        let mut kept = Vec::with_capacity(entries.len());
        for e in entries {
            if e.index <= snap_index {
                continue;
            }
            if e.index != snap_index + 1 + kept.len() as u64 {
                break;
            }
            kept.push(e);
        }
        let mut log = RaftLog {
            snap_index,
            snap_term,
            entries: kept,
            committed: 0,
            applied: snap_index,
            persisted: 0,
            unsent: 0,
            pending_snapshot: None,
            latest_snapshot: None,
        };
        let last = log.last_index();
        log.committed = commit.clamp(snap_index, last);
        log.persisted = last;
        log.unsent = last + 1;
        log
    }

    /// For entries that exist only in memory so far (a brand-new
    /// machine's bootstrap entries): they must go to the WAL first.
    pub fn mark_all_unpersisted(&mut self) {
        self.persisted = self.snap_index;
        self.unsent = self.snap_index + 1;
    }

    #[cfg(test)]
    pub fn first_index(&self) -> Index {
        self.snap_index + 1
    }

    #[cfg(test)]
    pub fn snapshot_index(&self) -> Index {
        self.snap_index
    }

    pub fn last_index(&self) -> Index {
        self.snap_index + self.entries.len() as u64
    }

    pub fn last_term(&self) -> Term {
        self.entries
            .last()
            .map(|e| e.term)
            .unwrap_or(self.snap_term)
    }

    /// The term of the entry at `i`, if this log still knows it.
    pub fn term(&self, i: Index) -> Option<Term> {
        if i == self.snap_index {
            return Some(self.snap_term);
        }
        if i < self.snap_index || i > self.last_index() {
            return None;
        }
        Some(self.entries[(i - self.snap_index - 1) as usize].term)
    }

    pub fn matches(&self, i: Index, term: Term) -> bool {
        self.term(i) == Some(term)
    }

    /// Raft §5.4.1: a candidate's log is at least as up-to-date as ours.
    pub fn is_up_to_date(&self, last_index: Index, last_term: Term) -> bool {
        last_term > self.last_term()
            || (last_term == self.last_term() && last_index >= self.last_index())
    }

    /// Entries `[lo, hi]` (inclusive), or None if some were compacted.
    pub fn slice(&self, lo: Index, hi: Index) -> Option<&[Entry]> {
        if lo <= self.snap_index {
            return None;
        }
        let hi = hi.min(self.last_index());
        if lo > hi {
            return Some(&[]);
        }
        let s = (lo - self.snap_index - 1) as usize;
        let e = (hi - self.snap_index) as usize;
        Some(&self.entries[s..e])
    }

    /// Entries from `lo` whose total data size stays within `max_bytes`
    /// (at least one entry if any exist). None if `lo` was compacted.
    pub fn entries_from(&self, lo: Index, max_bytes: u64) -> Option<Vec<Entry>> {
        let all = self.slice(lo, self.last_index())?;
        let mut size = 0u64;
        let mut out = Vec::new();
        for e in all {
            size += e.data.len() as u64 + 24;
            if !out.is_empty() && size > max_bytes {
                break;
            }
            out.push(e.clone());
        }
        Some(out)
    }

    /// Leader path: append new entries at the end.
    pub fn append(&mut self, entries: Vec<Entry>) {
        self.entries.extend(entries);
    }

    /// Follower path (Raft §5.3): append after (`prev_index`, `prev_term`),
    /// dropping our conflicting suffix. Returns the last index now known to
    /// match the leader, or None if we do not hold `prev_index`/`prev_term`.
    pub fn maybe_append(
        &mut self,
        prev_index: Index,
        prev_term: Term,
        entries: Vec<Entry>,
    ) -> Option<Index> {
        if !self.matches(prev_index, prev_term) {
            return None;
        }
        let last_new = prev_index + entries.len() as u64;
        let mut conflict = None;
        for (k, e) in entries.iter().enumerate() {
            if e.index != prev_index + 1 + k as u64 {
                // A malformed message: trust nothing of it.
                return None;
            }
            if conflict.is_none() && !self.matches(e.index, e.term) {
                conflict = Some(k);
            }
        }
        if let Some(k) = conflict {
            let from = entries[k].index;
            if from <= self.committed {
                // Committed entries never change; a leader asking for it is
                // either stale or broken. Refuse without touching the log.
                return None;
            }
            self.truncate_from(from);
            self.entries.extend(entries.into_iter().skip(k));
        }
        Some(last_new)
    }

    fn truncate_from(&mut self, from: Index) {
        let keep = (from - self.snap_index - 1) as usize;
        self.entries.truncate(keep);
        self.unsent = self.unsent.min(from);
        self.persisted = self.persisted.min(from - 1);
    }

    /// Reject-hint: the index the leader should retry after, skipping our
    /// whole run of entries in the conflicting term.
    pub fn reject_hint(&self, prev_index: Index) -> Index {
        let last = self.last_index();
        if prev_index > last {
            return last;
        }
        let Some(t) = self.term(prev_index) else {
            return self.committed;
        };
        let mut i = prev_index;
        while i > self.committed && i > self.snap_index && self.term(i - 1) == Some(t) {
            i -= 1;
        }
        i.saturating_sub(1).max(self.committed)
    }

    pub fn commit_to(&mut self, index: Index) -> bool {
        let index = index.min(self.last_index());
        if index > self.committed {
            self.committed = index;
            true
        } else {
            false
        }
    }

    /// Replace the whole log by a snapshot received from the leader.
    pub fn restore_snapshot(&mut self, snapshot: Snapshot) {
        self.snap_index = snapshot.meta.index;
        self.snap_term = snapshot.meta.term;
        self.entries.clear();
        self.committed = snapshot.meta.index;
        // The snapshot is persisted before anything after it (Ready order),
        // and the application installs it instead of applying entries.
        self.persisted = snapshot.meta.index;
        self.unsent = snapshot.meta.index + 1;
        self.latest_snapshot = Some(snapshot.clone());
        self.pending_snapshot = Some(snapshot);
    }

    /// The application took `snapshot` at an index it applied: forget the
    /// entries it covers. Returns false (and changes nothing) if the
    /// snapshot is not usable here.
    pub fn compact(&mut self, snapshot: Snapshot) -> bool {
        let i = snapshot.meta.index;
        if i > self.applied || i < self.snap_index || self.term(i) != Some(snapshot.meta.term) {
            return false;
        }
        let drop = (i - self.snap_index) as usize;
        self.entries.drain(..drop);
        self.snap_index = i;
        self.snap_term = snapshot.meta.term;
        self.latest_snapshot = Some(snapshot);
        true
    }

    /// The WAL made everything up to (`index`, `term`) durable. Ignored when
    /// the log no longer holds that entry (it was replaced meanwhile).
    pub fn on_persisted(&mut self, index: Index, term: Term) {
        if index > self.persisted && index < self.unsent && self.matches(index, term) {
            self.persisted = index;
        }
    }

    /// Entries not yet handed to the WAL; marks them handed.
    pub fn take_unsent(&mut self) -> Vec<Entry> {
        let out = self
            .slice(self.unsent, self.last_index())
            .map(|s| s.to_vec())
            .unwrap_or_default();
        self.unsent = self.last_index() + 1;
        out
    }

    pub fn has_unsent(&self) -> bool {
        self.unsent <= self.last_index()
    }

    /// The last index that is both committed and durable here.
    fn applicable(&self) -> Index {
        self.committed.min(self.persisted)
    }

    pub fn has_committed_to_apply(&self) -> bool {
        self.applicable() > self.applied
    }

    /// Committed, durable entries not yet handed to the application; marks them handed.
    pub fn take_committed(&mut self) -> Vec<Entry> {
        let hi = self.applicable();
        if hi <= self.applied {
            return Vec::new();
        }
        let out = self
            .slice(self.applied + 1, hi)
            .map(|s| s.to_vec())
            .unwrap_or_default();
        self.applied = hi;
        out
    }

    #[cfg(test)]
    pub fn all_entries(&self) -> &[Entry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::super::types::EntryKind;
    use super::*;

    fn ent(index: Index, term: Term) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: vec![index as u8],
        }
    }

    fn log_with(terms: &[Term]) -> RaftLog {
        let entries = terms
            .iter()
            .enumerate()
            .map(|(k, t)| ent(k as u64 + 1, *t))
            .collect();
        RaftLog::restore(None, entries, 0)
    }

    #[test]
    fn restore_treats_given_entries_as_durable_and_clamps_commit() {
        let log = RaftLog::restore(None, vec![ent(1, 1), ent(2, 1)], 9);
        assert_eq!(log.last_index(), 2);
        assert_eq!(log.persisted, 2);
        assert_eq!(log.committed, 2);
        assert!(!log.has_unsent());
    }

    #[test]
    fn restore_cuts_entries_at_a_gap() {
        let log = RaftLog::restore(None, vec![ent(1, 1), ent(3, 1)], 0);
        assert_eq!(log.last_index(), 1);
    }

    #[test]
    fn term_is_known_from_snapshot_to_last() {
        let meta = SnapshotMeta {
            index: 5,
            term: 2,
            conf: Default::default(),
        };
        let log = RaftLog::restore(Some(&meta), vec![ent(6, 3)], 0);
        assert_eq!(log.term(4), None);
        assert_eq!(log.term(5), Some(2));
        assert_eq!(log.term(6), Some(3));
        assert_eq!(log.term(7), None);
        assert_eq!(log.applied, 5);
        assert_eq!(log.committed, 5);
    }

    #[test]
    fn append_after_mismatching_prev_is_refused() {
        let mut log = log_with(&[1, 1, 2]);
        assert_eq!(log.maybe_append(3, 1, vec![ent(4, 3)]), None);
        assert_eq!(log.maybe_append(5, 2, vec![ent(6, 3)]), None);
        assert_eq!(log.last_index(), 3);
    }

    #[test]
    fn conflicting_suffix_is_replaced_and_must_be_persisted_again() {
        let mut log = log_with(&[1, 1, 2, 2]);
        assert_eq!(log.persisted, 4);
        assert_eq!(log.maybe_append(2, 1, vec![ent(3, 3)]), Some(3));
        assert_eq!(log.last_index(), 3);
        assert_eq!(log.term(3), Some(3));
        assert_eq!(log.persisted, 2);
        assert_eq!(log.take_unsent(), vec![ent(3, 3)]);
    }

    #[test]
    fn matching_entries_are_not_truncated_by_a_stale_shorter_append() {
        let mut log = log_with(&[1, 1, 1, 1]);
        assert_eq!(log.maybe_append(1, 1, vec![ent(2, 1)]), Some(2));
        assert_eq!(log.last_index(), 4);
    }

    #[test]
    fn committed_entries_are_never_overwritten() {
        let mut log = log_with(&[1, 1, 1]);
        log.commit_to(3);
        assert_eq!(log.maybe_append(1, 1, vec![ent(2, 5)]), None);
        assert_eq!(log.term(2), Some(1));
    }

    #[test]
    fn only_committed_and_durable_entries_are_handed_to_apply() {
        let mut log = log_with(&[1]);
        log.append(vec![ent(2, 1), ent(3, 1)]);
        log.commit_to(3);
        assert_eq!(log.take_committed(), vec![ent(1, 1)]);
        assert_eq!(log.take_unsent().len(), 2);
        log.on_persisted(3, 1);
        assert_eq!(log.take_committed(), vec![ent(2, 1), ent(3, 1)]);
        assert!(!log.has_committed_to_apply());
    }

    #[test]
    fn persisted_report_for_a_replaced_entry_is_ignored() {
        let mut log = log_with(&[1]);
        log.append(vec![ent(2, 1), ent(3, 1)]);
        log.take_unsent();
        assert_eq!(log.maybe_append(1, 1, vec![ent(2, 2)]), Some(2));
        log.on_persisted(3, 1);
        assert_eq!(log.persisted, 1);
        log.on_persisted(2, 1);
        assert_eq!(log.persisted, 1);
    }

    #[test]
    fn persisted_report_for_unsent_entries_is_ignored() {
        let mut log = log_with(&[1]);
        log.append(vec![ent(2, 1)]);
        log.on_persisted(2, 1);
        assert_eq!(log.persisted, 1);
    }

    #[test]
    fn compaction_keeps_terms_of_the_snapshot_point() {
        let mut log = log_with(&[1, 1, 2, 2]);
        log.commit_to(4);
        log.take_committed();
        let snap = Snapshot {
            meta: SnapshotMeta {
                index: 3,
                term: 2,
                conf: Default::default(),
            },
            data: vec![],
        };
        assert!(log.compact(snap));
        assert_eq!(log.first_index(), 4);
        assert_eq!(log.term(3), Some(2));
        assert_eq!(log.slice(3, 4), None);
        assert_eq!(log.slice(4, 4).map(|s| s.len()), Some(1));
    }

    #[test]
    fn compaction_beyond_applied_is_refused() {
        let mut log = log_with(&[1, 1]);
        let snap = Snapshot {
            meta: SnapshotMeta {
                index: 2,
                term: 1,
                conf: Default::default(),
            },
            data: vec![],
        };
        assert!(!log.compact(snap));
        assert_eq!(log.first_index(), 1);
    }

    #[test]
    fn entries_from_respects_the_byte_budget_but_sends_at_least_one() {
        let log = log_with(&[1, 1, 1, 1]);
        assert_eq!(log.entries_from(1, 0).map(|v| v.len()), Some(1));
        assert_eq!(log.entries_from(1, 50).map(|v| v.len()), Some(2));
        assert_eq!(log.entries_from(1, 1 << 20).map(|v| v.len()), Some(4));
        assert_eq!(log.entries_from(5, 100).map(|v| v.len()), Some(0));
    }

    #[test]
    fn reject_hint_skips_the_conflicting_term() {
        let log = log_with(&[1, 1, 2, 2, 2]);
        assert_eq!(log.reject_hint(9), 5);
        assert_eq!(log.reject_hint(5), 2);
    }

    #[test]
    fn up_to_date_compares_last_term_then_length() {
        let log = log_with(&[1, 2]);
        assert!(log.is_up_to_date(1, 3));
        assert!(log.is_up_to_date(2, 2));
        assert!(!log.is_up_to_date(1, 2));
        assert!(!log.is_up_to_date(9, 1));
    }
}
