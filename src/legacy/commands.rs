//! etcd 0.4's log commands, known by name (`etcd:set`, `raft:nop`, ...)
//! with a JSON body, turned into the entries our apply path expects:
//!
//! | 0.4 | ours |
//! |---|---|
//! | `etcd:set` `create` `update` `compareAndSwap` `delete` `compareAndDelete` | `Command::Store` |
//! | `etcd:sync` (the leader's clock) | `Command::ExpireDue` at that time |
//! | `etcd:join` / `etcd:remove` | a membership entry carrying `Command::Join` / `Remove` |
//! | `etcd:setClusterConfig` | `Command::SetConfig`, recorded at `/_etcd/config` as 0.4 did |
//! | `raft:join` / `raft:leave` (goraft's own, no registry entry) | a bare `ConfChange` |
//! | `raft:nop`, `etcd:get` (a read through the log) | an empty entry |
//!
//! Any other name is an error: the log came from something else.
//!
//! Time: 0.4's store commands carry absolute expirations, not the time
//! they were proposed; ours carry a time and TTL seconds. The time used is
//! the leader's clock as the log last told it (the newest `etcd:sync`
//! before the entry), and the TTL is chosen so that time + TTL is exactly
//! 0.4's expiration. The time only decides the `ttl` shown in that
//! entry's event, which 0.4 computed from each machine's own clock.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::Problem;
use super::go_time;
use crate::membership::{ClusterConfig, Member, Members, node_id_for};
use crate::raft::types::{ConfChange, EntryKind};
use crate::server::command::Command;
use crate::store::{KeyPath, StoreCommand, UnixNanos};

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// A decoded 0.4 command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command04 {
    Store {
        cmd: StoreWrite,
        /// 0.4's absolute expiration (None: permanent).
        expires: Option<UnixNanos>,
    },
    Sync {
        time: UnixNanos,
    },
    Join(Member),
    Remove {
        name: String,
    },
    SetClusterConfig(ClusterConfig),
    RaftJoin {
        name: String,
    },
    RaftLeave {
        name: String,
    },
    /// `raft:nop` and `etcd:get`: nothing to apply.
    Nothing,
}

/// A store write without its TTL (decided when it is mapped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreWrite {
    Set {
        key: KeyPath,
        value: String,
        dir: bool,
    },
    Create {
        key: KeyPath,
        value: String,
        dir: bool,
        unique: bool,
    },
    Update {
        key: KeyPath,
        value: String,
    },
    CompareAndSwap {
        key: KeyPath,
        value: String,
        prev_value: String,
        prev_index: u64,
    },
    Delete {
        key: KeyPath,
        dir: bool,
        recursive: bool,
    },
    CompareAndDelete {
        key: KeyPath,
        prev_value: String,
        prev_index: u64,
    },
}

/// Fields as Go's `encoding/json` wrote them; a missing one is its zero value.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Fields {
    key: String,
    value: String,
    expire_time: Option<String>,
    dir: bool,
    unique: bool,
    recursive: bool,
    prev_value: String,
    prev_index: u64,
    time: Option<String>,
    name: String,
    #[serde(rename = "raftURL")]
    raft_url: String,
    #[serde(rename = "etcdURL")]
    etcd_url: String,
    config: Option<ClusterConfig>,
}

/// Decodes the command `name` with body `json`.
pub fn parse(name: &str, json: &[u8]) -> Result<Command04, Problem> {
    let bad = |reason: String| Problem::BadCommand {
        name: name.to_string(),
        reason,
    };
    let known = matches!(
        name,
        "etcd:set"
            | "etcd:create"
            | "etcd:update"
            | "etcd:compareAndSwap"
            | "etcd:delete"
            | "etcd:compareAndDelete"
            | "etcd:sync"
            | "etcd:get"
            | "etcd:join"
            | "etcd:remove"
            | "etcd:setClusterConfig"
            | "raft:join"
            | "raft:leave"
            | "raft:nop"
    );
    if !known {
        return Err(Problem::UnknownCommand(name.to_string()));
    }
    // A nop has no body at all; a read leaves nothing to apply.
    if matches!(name, "raft:nop" | "etcd:get") {
        return Ok(Command04::Nothing);
    }
    let f: Fields = serde_json::from_slice(json).map_err(|e| bad(e.to_string()))?;
    let key = KeyPath::parse(&f.key);
    let expires = match &f.expire_time {
        Some(text) => go_time::parse(text).map_err(bad)?,
        None => None,
    };
    let store = |cmd| Ok(Command04::Store { cmd, expires });
    match name {
        "etcd:set" => store(StoreWrite::Set {
            key,
            value: f.value,
            dir: f.dir,
        }),
        "etcd:create" => store(StoreWrite::Create {
            key,
            value: f.value,
            dir: f.dir,
            unique: f.unique,
        }),
        "etcd:update" => store(StoreWrite::Update {
            key,
            value: f.value,
        }),
        "etcd:compareAndSwap" => store(StoreWrite::CompareAndSwap {
            key,
            value: f.value,
            prev_value: f.prev_value,
            prev_index: f.prev_index,
        }),
        "etcd:delete" => store(StoreWrite::Delete {
            key,
            dir: f.dir,
            recursive: f.recursive,
        }),
        "etcd:compareAndDelete" => store(StoreWrite::CompareAndDelete {
            key,
            prev_value: f.prev_value,
            prev_index: f.prev_index,
        }),
        "etcd:sync" => {
            let text = f.time.ok_or_else(|| bad("no time".into()))?;
            // Go's zero time is as old as a clock can be.
            let time = go_time::parse(&text).map_err(bad)?.unwrap_or(i64::MIN);
            Ok(Command04::Sync { time })
        }
        "etcd:join" => Ok(Command04::Join(Member::new(
            &f.name,
            &f.raft_url,
            &f.etcd_url,
        ))),
        "etcd:remove" => Ok(Command04::Remove { name: f.name }),
        "etcd:setClusterConfig" => {
            let config = f.config.ok_or_else(|| bad("no config".into()))?;
            Ok(Command04::SetClusterConfig(config))
        }
        "raft:join" => Ok(Command04::RaftJoin { name: f.name }),
        _ => Ok(Command04::RaftLeave { name: f.name }),
    }
}

/// Maps the entries after the snapshot, in log order. It follows the
/// registry as 0.4 did, to refuse what 0.4 refused: a join of a new
/// machine while `activeSize` members were registered left no trace.
pub struct Mapper {
    registered: BTreeMap<String, ()>,
    active_size: u32,
}

impl Mapper {
    /// The registry and settings as the snapshot leaves them.
    pub fn new(members: &Members, config: ClusterConfig) -> Mapper {
        Mapper {
            registered: members.iter().map(|m| (m.name.clone(), ())).collect(),
            active_size: config.raised().active_size,
        }
    }

    /// The entry kind and data for `cmd`; `clock` is the leader's time as
    /// the log last carried it (None before any `etcd:sync`).
    pub fn map(&mut self, cmd: Command04, clock: Option<UnixNanos>) -> (EntryKind, Vec<u8>) {
        let time = clock.unwrap_or(0);
        let normal = |cmd: Command| (EntryKind::Normal, cmd.encode());
        let membership = |cmd: Command| (EntryKind::ConfChange, cmd.encode());
        match cmd {
            Command04::Store { cmd, expires } => {
                let (time, ttl) = stamp(expires, clock);
                let cmd = store_command(cmd, ttl);
                normal(Command::Store { time, cmd })
            }
            Command04::Sync { time } => normal(Command::ExpireDue { time }),
            Command04::Join(member) => {
                let count = self.registered.len();
                let known = self.registered.contains_key(&member.name);
                if !known && count > 0 && count >= self.active_size as usize {
                    // 0.4 answered "no more peers" and changed nothing.
                    return (EntryKind::Normal, Vec::new());
                }
                self.registered.insert(member.name.clone(), ());
                membership(Command::Join { time, member })
            }
            Command04::Remove { name } => {
                self.registered.remove(&name);
                membership(Command::Remove { time, name })
            }
            Command04::SetClusterConfig(config) => {
                self.active_size = config.raised().active_size;
                normal(Command::SetConfig {
                    time,
                    config,
                    record: true,
                })
            }
            Command04::RaftJoin { name } => (
                EntryKind::ConfChange,
                ConfChange::AddNode(node_id_for(&name)).encode(),
            ),
            Command04::RaftLeave { name } => (
                EntryKind::ConfChange,
                ConfChange::RemoveNode(node_id_for(&name)).encode(),
            ),
            Command04::Nothing => (EntryKind::Normal, Vec::new()),
        }
    }
}

/// Our (time, TTL seconds) for 0.4's absolute expiration: the TTL counted
/// in whole seconds from the leader's clock (at least one), the time moved
/// back so that time + TTL is exactly the expiration.
fn stamp(expires: Option<UnixNanos>, clock: Option<UnixNanos>) -> (UnixNanos, Option<i64>) {
    let Some(expires) = expires else {
        return (clock.unwrap_or(0), None);
    };
    let expires = i128::from(expires);
    let ahead = clock.map_or(NANOS_PER_SECOND, |c| expires - i128::from(c));
    let seconds = (ahead + NANOS_PER_SECOND - 1).div_euclid(NANOS_PER_SECOND);
    let seconds = seconds.clamp(1, i128::from(i64::MAX / 1_000_000_000));
    let time = expires - seconds * NANOS_PER_SECOND;
    let time = time.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    (time, Some(seconds as i64))
}

fn store_command(write: StoreWrite, ttl: Option<i64>) -> StoreCommand {
    // An empty prevValue was 0.4's "not compared".
    let compared = |v: String| (!v.is_empty()).then_some(v);
    match write {
        StoreWrite::Set { key, value, dir } => StoreCommand::Set {
            key,
            value,
            dir,
            ttl,
        },
        StoreWrite::Create {
            key,
            value,
            dir,
            unique,
        } => StoreCommand::Create {
            key,
            value,
            dir,
            ttl,
            in_order: unique,
        },
        StoreWrite::Update { key, value } => StoreCommand::Update { key, value, ttl },
        StoreWrite::CompareAndSwap {
            key,
            value,
            prev_value,
            prev_index,
        } => StoreCommand::CompareAndSwap {
            key,
            value,
            ttl,
            prev_value: compared(prev_value),
            prev_index,
        },
        StoreWrite::Delete {
            key,
            dir,
            recursive,
        } => StoreCommand::Delete {
            key,
            dir: dir || recursive,
            recursive,
        },
        StoreWrite::CompareAndDelete {
            key,
            prev_value,
            prev_index,
        } => StoreCommand::CompareAndDelete {
            key,
            prev_value: compared(prev_value),
            prev_index,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    const T: &str = "2026-11-30T10:25:20.761420327Z";

    fn clock() -> Option<UnixNanos> {
        go_time::parse(T).unwrap()
    }

    fn mapped(name: &str, json: &str) -> (EntryKind, Option<Command>) {
        let mut mapper = Mapper::new(&Members::default(), ClusterConfig::default());
        let (kind, data) = mapper.map(parse(name, json.as_bytes()).unwrap(), clock());
        let cmd = (!data.is_empty()).then(|| Command::decode(&data).unwrap());
        (kind, cmd)
    }

    fn store_cmd(name: &str, json: &str) -> StoreCommand {
        match mapped(name, json) {
            (EntryKind::Normal, Some(Command::Store { cmd, .. })) => cmd,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn the_fixture_store_commands_map_to_ours() {
        let set = store_cmd(
            "etcd:set",
            "{\"key\":\"/message\",\"value\":\"Hello world\",\"expireTime\":\"0001-01-01T00:00:00Z\",\"dir\":false}\n",
        );
        assert_eq!(
            set,
            StoreCommand::Set {
                key: KeyPath::parse("/message"),
                value: "Hello world".into(),
                dir: false,
                ttl: None
            }
        );
        let queue = store_cmd(
            "etcd:create",
            r#"{"key":"/queue","value":"job1","expireTime":"0001-01-01T00:00:00Z","unique":true,"dir":false}"#,
        );
        assert!(matches!(
            queue,
            StoreCommand::Create {
                in_order: true,
                ttl: None,
                ..
            }
        ));
        let cas = store_cmd(
            "etcd:compareAndSwap",
            r#"{"key":"/counter","value":"nope","expireTime":"0001-01-01T00:00:00Z","prevValue":"","prevIndex":999}"#,
        );
        assert_eq!(
            cas,
            StoreCommand::CompareAndSwap {
                key: KeyPath::parse("/counter"),
                value: "nope".into(),
                ttl: None,
                prev_value: None,
                prev_index: 999
            }
        );
        let del = store_cmd(
            "etcd:delete",
            r#"{"key":"/dir","recursive":true,"dir":false}"#,
        );
        assert_eq!(
            del,
            StoreCommand::Delete {
                key: KeyPath::parse("/dir"),
                dir: true,
                recursive: true
            }
        );
        let cad = store_cmd(
            "etcd:compareAndDelete",
            r#"{"key":"/a","prevValue":"x","prevIndex":0}"#,
        );
        assert!(matches!(
            cad,
            StoreCommand::CompareAndDelete {
                prev_value: Some(_),
                prev_index: 0,
                ..
            }
        ));
        let update = store_cmd(
            "etcd:update",
            r#"{"key":"/a","value":"","expireTime":"0001-01-01T00:00:00Z"}"#,
        );
        assert!(matches!(update, StoreCommand::Update { ttl: None, .. }));
    }

    #[test]
    fn a_ttl_lands_exactly_on_the_expiration_0_4_stored() {
        let json = r#"{"key":"/longttl","value":"lives","expireTime":"2027-11-30T10:25:12.059613357Z","dir":false}"#;
        let (_, Some(Command::Store { time, cmd })) = mapped("etcd:set", json) else {
            panic!("not a store command");
        };
        let StoreCommand::Set { ttl: Some(ttl), .. } = cmd else {
            panic!("no ttl: {cmd:?}");
        };
        let want = go_time::parse("2027-11-30T10:25:12.059613357Z")
            .unwrap()
            .unwrap();
        assert_eq!(time + ttl * 1_000_000_000, want);
        assert_eq!(ttl, 31_535_992); // whole seconds from the log's clock, rounded up
        assert!(time <= clock().unwrap());
        let mut store = Store::new();
        store.apply(&cmd, time).unwrap();
        assert_eq!(store.next_expiration(), Some(want));
        // Without a clock, and for an expiration already past the clock.
        assert_eq!(stamp(Some(5_000_000_000), None), (4_000_000_000, Some(1)));
        assert_eq!(
            stamp(Some(5), Some(9_000_000_000)),
            (5 - 1_000_000_000, Some(1))
        );
        assert_eq!(stamp(None, Some(7)), (7, None));
    }

    #[test]
    fn sync_carries_the_leaders_clock_into_expiry() {
        let (kind, cmd) = mapped("etcd:sync", &format!("{{\"time\":\"{T}\"}}\n"));
        assert_eq!(kind, EntryKind::Normal);
        assert_eq!(
            cmd,
            Some(Command::ExpireDue {
                time: clock().unwrap()
            })
        );
    }

    #[test]
    fn membership_commands_become_membership_entries() {
        let join = r#"{"minVersion":2,"maxVersion":2,"name":"m2","raftURL":"http://127.0.0.1:7102","etcdURL":"http://127.0.0.1:4102"}"#;
        let (kind, cmd) = mapped("etcd:join", join);
        assert_eq!(kind, EntryKind::ConfChange);
        let Some(Command::Join { member, .. }) = cmd else {
            panic!("not a join: {cmd:?}");
        };
        assert_eq!(
            member,
            Member::new("m2", "http://127.0.0.1:7102", "http://127.0.0.1:4102")
        );
        assert!(matches!(
            mapped("etcd:remove", r#"{"name":"m2"}"#),
            (EntryKind::ConfChange, Some(Command::Remove { .. }))
        ));
        let config = r#"{"config":{"activeSize":9,"removeDelay":1800,"syncInterval":5}}"#;
        assert!(matches!(
            mapped("etcd:setClusterConfig", config),
            (
                EntryKind::Normal,
                Some(Command::SetConfig { record: true, .. })
            )
        ));
        let mut mapper = Mapper::new(&Members::default(), ClusterConfig::default());
        let (kind, data) = mapper.map(
            parse(
                "raft:join",
                br#"{"name":"m4","connectionString":"http://x"}"#,
            )
            .unwrap(),
            None,
        );
        assert_eq!(kind, EntryKind::ConfChange);
        assert_eq!(
            ConfChange::decode(&data),
            Some(ConfChange::AddNode(node_id_for("m4")))
        );
        let (_, data) = mapper.map(parse("raft:leave", br#"{"name":"m4"}"#).unwrap(), None);
        assert_eq!(
            ConfChange::decode(&data),
            Some(ConfChange::RemoveNode(node_id_for("m4")))
        );
    }

    #[test]
    fn nops_and_reads_apply_nothing() {
        assert_eq!(mapped("raft:nop", ""), (EntryKind::Normal, None));
        assert_eq!(
            mapped(
                "etcd:get",
                r#"{"key":"/a","recursive":false,"Sorted":false}"#
            ),
            (EntryKind::Normal, None)
        );
    }

    #[test]
    fn a_join_0_4_refused_for_active_size_leaves_no_trace() {
        let mut members = Members::default();
        for i in 1..=3 {
            members.upsert(Member::new(
                &format!("m{i}"),
                &format!("http://p{i}"),
                &format!("http://c{i}"),
            ));
        }
        let full = ClusterConfig {
            active_size: 3,
            ..ClusterConfig::default()
        };
        let mut mapper = Mapper::new(&members, full);
        let join = |name: &str| Command04::Join(Member::new(name, "http://p", "http://c"));
        assert_eq!(
            mapper.map(join("m4"), None),
            (EntryKind::Normal, Vec::new())
        );
        // A known member's rejoin still counts.
        assert_eq!(mapper.map(join("m2"), None).0, EntryKind::ConfChange);
        mapper.map(Command04::Remove { name: "m1".into() }, None);
        assert_eq!(mapper.map(join("m4"), None).0, EntryKind::ConfChange);
    }

    #[test]
    fn unknown_names_and_bad_bodies_are_errors() {
        assert_eq!(
            parse("etcd:frobnicate", b"{}"),
            Err(Problem::UnknownCommand("etcd:frobnicate".into()))
        );
        assert_eq!(parse("", b""), Err(Problem::UnknownCommand(String::new())));
        for (name, json) in [
            ("etcd:set", "{not json"),
            ("etcd:set", r#"{"key":"/a","expireTime":"soon"}"#),
            ("etcd:sync", "{}"),
            ("etcd:setClusterConfig", r#"{"config":null}"#),
            ("etcd:join", r#"{"name":7}"#),
        ] {
            let err = parse(name, json.as_bytes()).unwrap_err();
            assert!(
                matches!(err, Problem::BadCommand { .. }),
                "{name} {json}: {err:?}"
            );
        }
    }
}
