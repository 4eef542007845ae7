//! The write commands that travel through the replicated log.

use super::path::KeyPath;
use serde::{Deserialize, Serialize};

/// One write to the key tree. Applying the same command at the same `now`
/// to the same tree gives the same result on every machine.
///
/// `ttl: None` means "no TTL" (and, for update / compare-and-swap, "remove
/// the TTL"); `Some(n)` expires the node `n` seconds after the entry's time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoreCommand {
    /// PUT without conditions: create or replace a file (or make a dir).
    Set {
        key: KeyPath,
        value: String,
        dir: bool,
        ttl: Option<i64>,
    },
    /// PUT `prevExist=false`, or POST when `in_order` (creates
    /// `key/<new index, 20 digits>`).
    Create {
        key: KeyPath,
        value: String,
        dir: bool,
        ttl: Option<i64>,
        in_order: bool,
    },
    /// PUT `prevExist=true`: change an existing node's value and TTL.
    Update {
        key: KeyPath,
        value: String,
        ttl: Option<i64>,
    },
    /// PUT with `prevValue`/`prevIndex`; `prev_index` 0 means "not checked".
    CompareAndSwap {
        key: KeyPath,
        value: String,
        ttl: Option<i64>,
        prev_value: Option<String>,
        prev_index: u64,
    },
    /// DELETE; `recursive` implies `dir`.
    Delete {
        key: KeyPath,
        dir: bool,
        recursive: bool,
    },
    /// DELETE with `prevValue`/`prevIndex`; `prev_index` 0 means "not checked".
    CompareAndDelete {
        key: KeyPath,
        prev_value: Option<String>,
        prev_index: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_through_serde_json() {
        let commands = vec![
            StoreCommand::Set {
                key: KeyPath::parse("/a"),
                value: "v".to_string(),
                dir: false,
                ttl: Some(5),
            },
            StoreCommand::Create {
                key: KeyPath::parse("/q"),
                value: String::new(),
                dir: true,
                ttl: None,
                in_order: true,
            },
            StoreCommand::CompareAndDelete {
                key: KeyPath::parse("/a"),
                prev_value: Some("v".to_string()),
                prev_index: 3,
            },
        ];
        let bytes = serde_json::to_vec(&commands).unwrap();
        let back: Vec<StoreCommand> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, commands);
    }
}
