//! Applying committed entries on the state thread: each is decoded into a
//! `Command` and handed to the store, membership or auth, and whoever waits
//! for its index is answered (or told its proposal was lost to another
//! leader's entry).

use log::{debug, warn};

use crate::raft::Entry;
use crate::raft::types::{ConfChange, EntryKind};

use super::super::command::Command;
use super::super::requests::{Position, Reply};
use super::{PendingWrite, StateThread, Waiter};

impl StateThread {
    pub(super) fn apply(&mut self, entry: Entry) {
        if entry.index <= self.applied {
            return;
        }
        self.applied = entry.index;
        self.applied_term = entry.term;
        let pending = match self.writes.remove(&entry.index) {
            // Another leader's entry took this index: our proposal was lost.
            Some(w) if w.term != entry.term => {
                crate::metrics::global().proposals_failed.inc();
                self.fail_waiter(w.waiter);
                None
            }
            other => other,
        };
        if entry.kind == EntryKind::ConfChange
            && let Some(cc) = ConfChange::decode(&entry.data)
        {
            // Raft writes a new cluster's founders as bare conf changes;
            // joins and removals carry a `Command` instead.
            self.raft.apply_conf_change(cc);
            return;
        }
        if entry.data.is_empty() {
            return;
        }
        let cmd = match Command::decode(&entry.data) {
            Ok(cmd) => cmd,
            Err(e) => {
                warn!("skipping log entry {}: {e}", entry.index);
                return;
            }
        };
        match cmd {
            Command::Store { time, cmd } => {
                let result = self.store.apply(&cmd, time);
                if let Some(PendingWrite {
                    waiter: Waiter::Client(reply),
                    ..
                }) = pending
                {
                    let reply_msg = match result {
                        Ok(event) => Reply::Done {
                            at: Position {
                                etcd_index: event.index,
                                ..self.position()
                            },
                            event,
                        },
                        Err(e) => Reply::Failed(e),
                    };
                    let _ = reply.send(reply_msg);
                }
            }
            Command::ExpireDue { time } => {
                let expired = self.store.expire_due(time);
                if !expired.is_empty() {
                    debug!("expired {} node(s)", expired.len());
                }
                if self.expiry_in_flight == Some(entry.index) {
                    self.expiry_in_flight = None;
                }
            }
            Command::Join { time, member } => {
                let result = self.apply_join(entry.index, &member, time, true);
                self.answer_membership(pending, result);
            }
            Command::Move { time, member } => {
                let result = self.apply_join(entry.index, &member, time, false);
                self.answer_membership(pending, result);
            }
            Command::Remove { time, name } => {
                let result = self.apply_remove(entry.index, &name, time);
                self.answer_membership(pending, result);
            }
            Command::SetConfig {
                time,
                config,
                record,
            } => {
                let result = self.apply_set_config(entry.index, config, record, time);
                self.answer_config(pending, result);
            }
            Command::Auth { cmd } => self.apply_auth(entry.index, &cmd, pending),
        }
    }
}
