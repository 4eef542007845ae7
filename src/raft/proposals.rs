//! What the application asks of a leader: new entries and configuration
//! changes (linearizable reads are in `reads`).

use super::node::Raft;
use super::ready::{ProposeError, Role};
use super::types::{ConfChange, Entry, EntryKind, Index};

impl Raft {
    pub(super) fn not_leader(&self) -> ProposeError {
        ProposeError::NotLeader {
            leader: (self.lead != 0).then_some(self.lead),
        }
    }

    fn append_own(&mut self, kind: EntryKind, data: Vec<u8>) -> Index {
        let index = self.log.last_index() + 1;
        self.log.append(vec![Entry {
            term: self.term,
            index,
            kind,
            data,
        }]);
        self.broadcast_append(false);
        // A single voter commits as soon as its own WAL confirms.
        if self.maybe_commit() {
            self.broadcast_append(true);
        }
        index
    }

    /// Append `data` to the log; returns the index it got. It commits when
    /// a `Ready.committed` carries it (or is lost if leadership changes first).
    pub fn propose(&mut self, data: Vec<u8>) -> Result<Index, ProposeError> {
        if self.role != Role::Leader {
            return Err(self.not_leader());
        }
        Ok(self.append_own(EntryKind::Normal, data))
    }

    /// Propose a single-member change; only one may be pending (unapplied) at a time.
    pub fn propose_conf_change(&mut self, cc: ConfChange) -> Result<Index, ProposeError> {
        self.propose_membership_change(cc, cc.encode())
    }

    /// Propose a single-member change `cc` carried by application `data`
    /// (which names the change in the application's own terms, e.g. a member
    /// with its addresses). The entry is an `EntryKind::ConfChange`: the
    /// application decodes `data` when it applies the entry and calls
    /// `apply_conf_change(cc)` then. Same rule as `propose_conf_change`:
    /// only one change may be pending (unapplied) at a time, so every change
    /// is committed by a majority of the configuration before it.
    pub fn propose_membership_change(
        &mut self,
        cc: ConfChange,
        data: Vec<u8>,
    ) -> Result<Index, ProposeError> {
        if self.role != Role::Leader {
            return Err(self.not_leader());
        }
        if self.membership_change_pending() {
            return Err(ProposeError::ConfChangePending);
        }
        match cc {
            ConfChange::AddNode(0) => return Err(ProposeError::Dropped),
            ConfChange::RemoveNode(id) if self.voters.len() == 1 && self.voters.contains(&id) => {
                // Removing the last voter would leave nobody able to elect anyone.
                return Err(ProposeError::Dropped);
            }
            _ => {}
        }
        let index = self.append_own(EntryKind::ConfChange, data);
        self.pending_conf_index = index;
        Ok(index)
    }

    /// Whether a configuration change in the log is not applied yet (a new
    /// leader counts everything in its log as possibly pending).
    pub fn membership_change_pending(&self) -> bool {
        self.pending_conf_index > self.log.applied
    }
}
