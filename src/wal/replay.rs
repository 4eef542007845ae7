//! Turning the records of all segments, in order, into the log Raft
//! restarts from. Pure: no files here.
//!
//! Rules, in record order:
//! - an entry whose index is at or below the last one kept truncates the
//!   log from that index first (a Raft conflict overwrote the suffix);
//! - an entry that leaves a gap starts the log over from itself (the only
//!   writer that skips indices is one that installed a snapshot);
//! - a snapshot marker drops every entry before it;
//! - the last hard state wins.
//!
//! Then, against the snapshot actually loaded: entries at or below its index
//! are dropped, and what remains must start right after it (or at 1 without
//! a snapshot); otherwise it is dropped with a warning, since Raft cannot use
//! a log with a hole.

use super::payload::Record;
use crate::raft::types::{Entry, HardState, Index, SnapshotMeta};

#[derive(Debug, Default)]
pub struct Replay {
    entries: Vec<Entry>,
    hard_state: HardState,
}

impl Replay {
    pub fn new() -> Self {
        Replay::default()
    }

    pub fn apply(&mut self, record: Record) {
        match record {
            Record::Entry(entry) => self.push_entry(entry),
            Record::HardState(hs) => self.hard_state = hs,
            Record::SnapshotMarker { .. } => self.entries.clear(),
        }
    }

    fn push_entry(&mut self, entry: Entry) {
        let (Some(first), Some(last)) = (self.entries.first(), self.entries.last()) else {
            self.entries.push(entry);
            return;
        };
        let (first, last) = (first.index, last.index);
        if entry.index <= last {
            let keep = entry.index.saturating_sub(first);
            self.entries
                .truncate(usize::try_from(keep).unwrap_or(usize::MAX));
        } else if entry.index != last + 1 {
            log::warn!(
                "write-ahead log jumps from index {last} to {}; earlier entries dropped",
                entry.index
            );
            self.entries.clear();
        }
        self.entries.push(entry);
    }

    /// The hard state and the usable log, given the snapshot that was loaded.
    pub fn finish(self, snapshot: Option<&SnapshotMeta>) -> (HardState, Vec<Entry>) {
        let Replay {
            mut entries,
            hard_state,
        } = self;
        let base: Index = snapshot.map_or(0, |m| m.index);
        if let Some(meta) = snapshot
            && let Some(at_base) = entries.iter().find(|e| e.index == meta.index)
            && at_base.term != meta.term
        {
            // The log diverged from the snapshot's history at or before its
            // index (the leader's snapshot arrived but the crash came before
            // its marker was written): nothing after it can be trusted.
            log::warn!(
                "log entry {} has term {} but the snapshot says {}; dropping the log after it",
                meta.index,
                at_base.term,
                meta.term
            );
            entries.clear();
        }
        entries.retain(|e| e.index > base);
        if let Some(first) = entries.first()
            && first.index != base + 1
        {
            log::warn!(
                "log resumes at index {} but the snapshot ends at {base}; dropping {} entries",
                first.index,
                entries.len()
            );
            entries.clear();
        }
        (hard_state, entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::types::{ConfState, EntryKind};

    fn e(term: u64, index: u64) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: Vec::new(),
        }
    }

    fn replay(
        records: Vec<Record>,
        snapshot: Option<SnapshotMeta>,
    ) -> (HardState, Vec<(u64, u64)>) {
        let mut r = Replay::new();
        for rec in records {
            r.apply(rec);
        }
        let (hs, entries) = r.finish(snapshot.as_ref());
        (hs, entries.iter().map(|e| (e.term, e.index)).collect())
    }

    fn meta(term: u64, index: u64) -> SnapshotMeta {
        SnapshotMeta {
            index,
            term,
            conf: ConfState::default(),
        }
    }

    #[test]
    fn a_rewritten_index_truncates_the_log_from_there() {
        let records = vec![
            Record::Entry(e(1, 1)),
            Record::Entry(e(1, 2)),
            Record::Entry(e(1, 3)),
            Record::Entry(e(2, 2)),
        ];
        assert_eq!(replay(records, None).1, vec![(1, 1), (2, 2)]);
    }

    #[test]
    fn a_rewrite_of_the_first_index_replaces_everything() {
        let records = vec![
            Record::Entry(e(1, 1)),
            Record::Entry(e(1, 2)),
            Record::Entry(e(3, 1)),
        ];
        assert_eq!(replay(records, None).1, vec![(3, 1)]);
    }

    #[test]
    fn a_gap_starts_the_log_over() {
        let records = vec![
            Record::Entry(e(1, 1)),
            Record::Entry(e(1, 5)),
            Record::Entry(e(1, 6)),
        ];
        assert_eq!(replay(records, Some(meta(1, 4))).1, vec![(1, 5), (1, 6)]);
    }

    #[test]
    fn the_last_hard_state_wins() {
        let hs = |term| HardState {
            term,
            vote: 1,
            commit: 0,
        };
        let records = vec![
            Record::HardState(hs(1)),
            Record::Entry(e(1, 1)),
            Record::HardState(hs(2)),
        ];
        assert_eq!(replay(records, None).0, hs(2));
    }

    #[test]
    fn a_snapshot_marker_drops_every_earlier_entry() {
        let records = vec![
            Record::Entry(e(1, 1)),
            Record::Entry(e(1, 2)),
            Record::SnapshotMarker { index: 10, term: 2 },
            Record::Entry(e(2, 11)),
        ];
        assert_eq!(replay(records, Some(meta(2, 10))).1, vec![(2, 11)]);
    }

    #[test]
    fn entries_covered_by_the_snapshot_are_dropped() {
        let records = (1..=5).map(|i| Record::Entry(e(1, i))).collect();
        assert_eq!(replay(records, Some(meta(1, 3))).1, vec![(1, 4), (1, 5)]);
    }

    #[test]
    fn entries_that_do_not_connect_to_the_snapshot_are_dropped() {
        let records = (7..=9).map(|i| Record::Entry(e(1, i))).collect();
        assert_eq!(replay(records, Some(meta(1, 3))).1, vec![]);
    }

    #[test]
    fn entries_that_do_not_start_at_one_without_a_snapshot_are_dropped() {
        let records = (2..=3).map(|i| Record::Entry(e(1, i))).collect();
        assert_eq!(replay(records, None).1, vec![]);
    }

    #[test]
    fn a_log_that_disagrees_with_the_snapshot_at_its_index_is_dropped() {
        let records = (1..=5).map(|i| Record::Entry(e(1, i))).collect();
        assert_eq!(replay(records, Some(meta(2, 3))).1, vec![]);
    }
}
