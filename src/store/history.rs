//! The window of the last 1000 events that `waitIndex` watches read from.

use super::error::{ErrorCode, EtcdError};
use super::event::Event;
use super::path::KeyPath;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How many past events are kept (0.4.6: 1000).
pub const HISTORY_CAPACITY: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventHistory {
    events: VecDeque<Event>,
    /// No event below this index is known, kept or not: a store restored
    /// from a backup starts its history here (the index after the
    /// backup's), so an older `waitIndex` gets 401 and the client re-reads,
    /// instead of silently waiting past events it never saw. 0 for a store
    /// that began empty (left out of snapshots then, which keeps their
    /// bytes as they were).
    #[serde(default, skip_serializing_if = "is_zero")]
    first_index: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl EventHistory {
    /// An empty history that knows no event below `first_index`.
    pub fn starting_at(first_index: u64) -> EventHistory {
        EventHistory {
            events: VecDeque::new(),
            first_index,
        }
    }

    pub fn push(&mut self, event: Event) {
        if self.events.len() == HISTORY_CAPACITY {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// The first kept event with index ≥ `since` that `matches`, oldest first.
    /// A `since` older than the oldest kept event → 401 with the
    /// `[oldest/asked]` cause; `current_index` becomes the error's index.
    pub fn scan(
        &self,
        since: u64,
        current_index: u64,
        matches: impl Fn(&KeyPath) -> bool,
    ) -> Result<Option<&Event>, EtcdError> {
        let oldest = self
            .events
            .front()
            .map_or(self.first_index, |event| event.index);
        if since < oldest {
            return Err(EtcdError::new(
                ErrorCode::EventIndexCleared,
                format!("the requested history has been cleared [{oldest}/{since}]"),
                current_index,
            ));
        }
        Ok(self
            .events
            .iter()
            .filter(|event| event.index >= since)
            .find(|event| matches(&KeyPath::parse(&event.node.key))))
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.events.len()
    }
}
