//! How a `ConfChange` is carried in a log entry's `data`, so that the
//! proposer and every applier agree on the bytes.

use super::types::ConfChange;

impl ConfChange {
    /// The bytes stored in an `EntryKind::ConfChange` entry.
    pub fn encode(&self) -> Vec<u8> {
        // Serializing a plain enum of integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Decodes an entry's `data`; None when it is not a ConfChange.
    pub fn decode(data: &[u8]) -> Option<ConfChange> {
        serde_json::from_slice(data).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_change_round_trips_through_entry_data() {
        for cc in [ConfChange::AddNode(3), ConfChange::RemoveNode(u64::MAX)] {
            assert_eq!(ConfChange::decode(&cc.encode()), Some(cc));
        }
        assert_eq!(ConfChange::decode(b"garbage"), None);
    }
}
