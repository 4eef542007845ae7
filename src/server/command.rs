//! What a Raft log entry carries for the application: one typed command,
//! stamped with the proposing leader's wall-clock time so every replica
//! applies it the same way.

use serde::{Deserialize, Serialize};

use crate::auth::AuthCommand;
use crate::membership::{ClusterConfig, Member, node_id_for};
use crate::raft::types::ConfChange;
use crate::store::{StoreCommand, UnixNanos};

/// A command in the replicated log. Decoding happens once, at apply time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// A client write to the key tree.
    Store { time: UnixNanos, cmd: StoreCommand },
    /// Remove every node whose expiration is at or before `time`.
    /// Proposed by the leader when its clock passes the earliest expiration.
    ExpireDue { time: UnixNanos },
    /// Register a machine and make it a voter. Carried by a membership
    /// (conf-change) entry, one at a time; logs written before that carry
    /// it in a normal entry, applied the same way.
    Join { time: UnixNanos, member: Member },
    /// Remove a machine from the registry and from the voters (a
    /// membership entry, like `Join`).
    Remove { time: UnixNanos, name: String },
    /// A member restarted at new addresses: rewrite its registry entry.
    /// The voters do not change.
    Move { time: UnixNanos, member: Member },
    /// The cluster-wide settings. `record` also writes them at
    /// `/_etcd/config` (an admin `PUT`, as in 0.4); the seed a new cluster
    /// takes from its founder's flags is not recorded there, so a new
    /// cluster's store indices stay the seed's (members 1, 2, 3, ...).
    SetConfig {
        time: UnixNanos,
        config: ClusterConfig,
        record: bool,
    },
    /// A change of users, roles or the auth flag (`/v2/auth`). Kept out of
    /// the key space; a new password is in it already hashed.
    Auth { cmd: AuthCommand },
}

impl Command {
    pub fn encode(&self) -> Vec<u8> {
        // Serialising plain enums of strings and numbers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(data: &[u8]) -> Result<Command, String> {
        serde_json::from_slice(data).map_err(|e| format!("undecodable log entry: {e}"))
    }

    /// The change of voters this command makes when applied.
    pub fn conf_change(&self) -> Option<ConfChange> {
        match self {
            Command::Join { member, .. } => Some(ConfChange::AddNode(member.id)),
            Command::Remove { name, .. } => Some(ConfChange::RemoveNode(node_id_for(name))),
            _ => None,
        }
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
    fn membership_commands_name_their_voter_change() {
        let m = Member::new("m2", "http://127.0.0.1:7002", "http://127.0.0.1:4002");
        let join = Command::Join {
            time: 1,
            member: m.clone(),
        };
        assert_eq!(join.conf_change(), Some(ConfChange::AddNode(m.id)));
        let remove = Command::Remove {
            time: 1,
            name: "m2".into(),
        };
        assert_eq!(remove.conf_change(), Some(ConfChange::RemoveNode(m.id)));
        let config = Command::SetConfig {
            time: 1,
            config: ClusterConfig::default(),
            record: true,
        };
        assert_eq!(config.conf_change(), None);
        assert_eq!(Command::decode(&config.encode()), Ok(config));
    }

    #[test]
    fn auth_commands_survive_encoding_with_their_hash_only() {
        use crate::auth::{PasswordHash, Patterns, Permissions, RoleChange, UserChange};
        let hash = PasswordHash::with_iterations("s3cret", 10).unwrap();
        let cmds = [
            AuthCommand::PutUser(UserChange {
                name: "bob".into(),
                password: Some(hash.clone()),
                roles: None,
                grant: vec!["app".into()],
                revoke: vec![],
            }),
            AuthCommand::DeleteUser { name: "bob".into() },
            AuthCommand::PutRole(RoleChange {
                name: "app".into(),
                permissions: Permissions {
                    read: Patterns::of(&["/app/*"]),
                    write: Patterns::default(),
                },
                grant: None,
                revoke: Some(Permissions::full()),
            }),
            AuthCommand::DeleteRole { name: "app".into() },
            AuthCommand::Enable,
            AuthCommand::Disable,
        ];
        for cmd in cmds {
            let entry = Command::Auth { cmd };
            let bytes = entry.encode();
            assert!(!String::from_utf8_lossy(&bytes).contains("s3cret"));
            assert_eq!(Command::decode(&bytes), Ok(entry.clone()));
            assert_eq!(entry.conf_change(), None);
        }
        let text = String::from_utf8(
            Command::Auth {
                cmd: AuthCommand::Enable,
            }
            .encode(),
        )
        .unwrap();
        assert_eq!(text, r#"{"Auth":{"cmd":"Enable"}}"#);
        let with_hash = Command::Auth {
            cmd: AuthCommand::PutUser(UserChange {
                name: "u".into(),
                password: Some(hash.clone()),
                roles: None,
                grant: vec![],
                revoke: vec![],
            }),
        };
        let text = String::from_utf8(with_hash.encode()).unwrap();
        assert!(text.contains(&hash.to_string()), "{text}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Command::decode(b"\xff\x00nonsense").is_err());
    }
}
