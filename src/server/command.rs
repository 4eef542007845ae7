//! What a Normal Raft log entry carries: one typed command, stamped with the
//! proposing leader's wall-clock time so every replica applies it the same way.

use serde::{Deserialize, Serialize};

use crate::store::{StoreCommand, UnixNanos};

use super::members::Member;

/// A command in the replicated log. Decoding happens once, at apply time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// A client write to the key tree.
    Store { time: UnixNanos, cmd: StoreCommand },
    /// Remove every node whose expiration is at or before `time`.
    /// Proposed by the leader when its clock passes the earliest expiration.
    ExpireDue { time: UnixNanos },
    /// Register a machine (or refresh its URLs) and make it a voter.
    Join { time: UnixNanos, member: Member },
    /// Remove a machine from the registry and from the voters.
    Remove { time: UnixNanos, name: String },
}

impl Command {
    pub fn encode(&self) -> Vec<u8> {
        // Serialising plain enums of strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(data: &[u8]) -> Result<Command, String> {
        serde_json::from_slice(data).map_err(|e| format!("undecodable log entry: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::KeyPath;

    #[test]
    fn a_command_survives_encoding() {
        let cmd = Command::Store {
            time: 1_700_000_000_000_000_000,
            cmd: StoreCommand::Set {
                key: KeyPath::parse("/foo"),
                value: "bar".into(),
                dir: false,
                ttl: Some(5),
            },
        };
        assert_eq!(Command::decode(&cmd.encode()), Ok(cmd));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Command::decode(b"\xff\x00nonsense").is_err());
    }
}
