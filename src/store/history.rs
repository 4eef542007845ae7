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
}

impl EventHistory {
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
        let Some(oldest) = self.events.front() else {
            return Ok(None);
        };
        if since < oldest.index {
            return Err(EtcdError::new(
                ErrorCode::EventIndexCleared,
                format!(
                    "the requested history has been cleared [{}/{}]",
                    oldest.index, since
                ),
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
