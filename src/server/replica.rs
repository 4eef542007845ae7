//! What a committed membership or settings command does to the replicated
//! data: the registry under `/_etcd/machines`, the member table, the
//! cluster settings and `/_etcd/config`.
//!
//! Nothing more: no Raft, no replies, no mode switches, no logging. The
//! state thread applies entries through these functions and then does its
//! own duties; replaying a stopped member's log (`datadir`) uses the same
//! ones, so both reach the same data at the same index.

use crate::membership::{ClusterConfig, Member, Members};
use crate::store::{ErrorCode, EtcdError, KeyPath, Store, StoreCommand, UnixNanos};

/// Where 0.4 keeps the cluster settings in the key space.
pub const CONFIG_KEY: &str = "/_etcd/config";

/// Registers `member`: a new name creates its registry entry (one store
/// index), changed addresses update it, unchanged ones use no index.
/// Returns whether the name is new. Another name holding the same peer URL
/// is refused (109) and nothing changes.
pub fn register(
    store: &mut Store,
    members: &mut Members,
    member: &Member,
    time: UnixNanos,
) -> Result<bool, EtcdError> {
    if let Some(other) = members.by_peer_url(&member.peer_url)
        && other.name != member.name
    {
        return Err(EtcdError::new(
            ErrorCode::ExistingPeerAddr,
            member.client_url.clone(),
            store.index(),
        ));
    }
    let value = member.registry_value();
    let key = member.registry_key();
    let current = store
        .get(&key, false, false, time)
        .ok()
        .and_then(|e| e.node.value);
    let cmd = match current {
        // Compared as addresses, not bytes: an entry taken over from
        // etcd 0.4 is written in 0.4's form and stays as it is.
        Some(v) if member.registered_as(&v) => None,
        Some(_) => Some(StoreCommand::Update {
            key,
            value,
            ttl: None,
        }),
        None => Some(StoreCommand::Create {
            key,
            value,
            dir: false,
            ttl: None,
            in_order: false,
        }),
    };
    if let Some(cmd) = cmd {
        store.apply(&cmd, time)?;
    }
    let is_new = members.get(&member.name).is_none();
    members.upsert(member.clone());
    Ok(is_new)
}

/// Removes the member called `name` and its registry entry (one store
/// index). `None` if there is no such member (nothing changes).
pub fn unregister(
    store: &mut Store,
    members: &mut Members,
    name: &str,
    time: UnixNanos,
) -> Option<(Member, Result<(), EtcdError>)> {
    let member = members.remove(name)?;
    let cmd = StoreCommand::Delete {
        key: member.registry_key(),
        dir: false,
        recursive: false,
    };
    let result = store.apply(&cmd, time).map(|_| ());
    Some((member, result))
}

/// New settings (raised to the minimums); with `record` (an admin `PUT`)
/// also written at `/_etcd/config`, one store index. Returns whether the
/// settings changed.
pub fn set_config(
    store: &mut Store,
    current: &mut ClusterConfig,
    config: ClusterConfig,
    record: bool,
    time: UnixNanos,
) -> (bool, Result<(), EtcdError>) {
    let config = config.raised();
    let changed = config != *current;
    *current = config;
    if !record {
        return (changed, Ok(()));
    }
    let cmd = StoreCommand::Set {
        key: KeyPath::parse(CONFIG_KEY),
        value: config.to_json(),
        dir: false,
        ttl: None,
    };
    (changed, store.apply(&cmd, time).map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, port: u16) -> Member {
        Member::new(
            name,
            &format!("http://127.0.0.1:{port}"),
            &format!("http://127.0.0.1:{}", port + 1000),
        )
    }

    #[test]
    fn registering_uses_an_index_only_for_a_change() {
        let (mut store, mut members) = (Store::new(), Members::default());
        assert_eq!(
            register(&mut store, &mut members, &member("m1", 7001), 0),
            Ok(true)
        );
        assert_eq!(store.index(), 1);
        assert_eq!(
            register(&mut store, &mut members, &member("m1", 7001), 0),
            Ok(false)
        );
        assert_eq!(store.index(), 1);
        assert_eq!(
            register(&mut store, &mut members, &member("m1", 7005), 0),
            Ok(false)
        );
        assert_eq!(store.index(), 2);
        let taken = register(&mut store, &mut members, &member("m2", 7005), 0);
        assert!(matches!(taken, Err(ref e) if e.code == ErrorCode::ExistingPeerAddr));
        assert_eq!((store.index(), members.len()), (2, 1));
    }

    #[test]
    fn unregistering_removes_the_entry_and_the_member() {
        let (mut store, mut members) = (Store::new(), Members::default());
        let _ = register(&mut store, &mut members, &member("m1", 7001), 0);
        assert!(unregister(&mut store, &mut members, "nobody", 0).is_none());
        let (gone, result) = unregister(&mut store, &mut members, "m1", 0).expect("removed");
        assert_eq!((gone.name.as_str(), result), ("m1", Ok(())));
        assert!(members.is_empty());
        assert_eq!(store.index(), 2);
    }

    #[test]
    fn recorded_settings_use_an_index_and_seeded_ones_do_not() {
        let mut store = Store::new();
        let mut config = ClusterConfig::default();
        let smaller = ClusterConfig {
            active_size: 1,
            ..config
        };
        let (changed, result) = set_config(&mut store, &mut config, smaller, false, 0);
        assert!(changed && result.is_ok());
        assert_eq!((config.active_size, store.index()), (3, 0));
        let same = config;
        let (changed, result) = set_config(&mut store, &mut config, same, true, 0);
        assert!(!changed && result.is_ok());
        assert_eq!(store.index(), 1);
    }
}
