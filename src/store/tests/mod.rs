//! Rule-by-rule tests of the store against keys-api.md and the rulings.
//! Each file covers one area; each test is named after the rule it checks.

mod bodies;
mod compare;
mod delete;
mod determinism;
mod history;
mod reads;
mod set_create;
mod ttl;
mod update;
mod watch;

use super::{ErrorCode, EtcdError, Event, KeyPath, Store, StoreCommand, UnixNanos};

/// 2026-11-24T04:09:21.105715347Z, the instant of the spec's TTL example.
pub const T0: UnixNanos = 1_795_493_361 * SECOND + 105_715_347;
pub const SECOND: UnixNanos = 1_000_000_000;

pub fn key(raw: &str) -> KeyPath {
    KeyPath::parse(raw)
}

pub fn set_cmd(raw: &str, value: &str) -> StoreCommand {
    StoreCommand::Set {
        key: key(raw),
        value: value.to_string(),
        dir: false,
        ttl: None,
    }
}

pub fn set_ttl_cmd(raw: &str, value: &str, ttl: i64) -> StoreCommand {
    StoreCommand::Set {
        key: key(raw),
        value: value.to_string(),
        dir: false,
        ttl: Some(ttl),
    }
}

pub fn mkdir_cmd(raw: &str) -> StoreCommand {
    StoreCommand::Set {
        key: key(raw),
        value: String::new(),
        dir: true,
        ttl: None,
    }
}

pub fn create_cmd(raw: &str, value: &str) -> StoreCommand {
    StoreCommand::Create {
        key: key(raw),
        value: value.to_string(),
        dir: false,
        ttl: None,
        in_order: false,
    }
}

pub fn post_cmd(raw: &str, value: &str, dir: bool) -> StoreCommand {
    StoreCommand::Create {
        key: key(raw),
        value: value.to_string(),
        dir,
        ttl: None,
        in_order: true,
    }
}

pub fn update_cmd(raw: &str, value: &str, ttl: Option<i64>) -> StoreCommand {
    StoreCommand::Update {
        key: key(raw),
        value: value.to_string(),
        ttl,
    }
}

pub fn cas_cmd(raw: &str, value: &str, prev_value: Option<&str>, prev_index: u64) -> StoreCommand {
    StoreCommand::CompareAndSwap {
        key: key(raw),
        value: value.to_string(),
        ttl: None,
        prev_value: prev_value.map(str::to_string),
        prev_index,
    }
}

pub fn delete_cmd(raw: &str, dir: bool, recursive: bool) -> StoreCommand {
    StoreCommand::Delete {
        key: key(raw),
        dir,
        recursive,
    }
}

pub fn cad_cmd(raw: &str, prev_value: Option<&str>, prev_index: u64) -> StoreCommand {
    StoreCommand::CompareAndDelete {
        key: key(raw),
        prev_value: prev_value.map(str::to_string),
        prev_index,
    }
}

/// Applies a command that must succeed.
pub fn ok(store: &mut Store, command: StoreCommand) -> Event {
    match store.apply(&command, T0) {
        Ok(event) => event,
        Err(error) => panic!("{command:?} failed: {error}"),
    }
}

/// Applies a command that must fail, checking the index did not move.
pub fn fails(store: &mut Store, command: StoreCommand) -> EtcdError {
    let before = store.index();
    match store.apply(&command, T0) {
        Ok(event) => panic!("{command:?} succeeded: {}", event.to_json()),
        Err(error) => {
            assert_eq!(store.index(), before, "a failure moved the index");
            assert_eq!(error.index, before, "error index is the store index");
            error
        }
    }
}

pub fn get(store: &mut Store, raw: &str) -> Result<Event, EtcdError> {
    store.get(&key(raw), false, false, T0)
}

pub fn error(code: ErrorCode, cause: &str, index: u64) -> EtcdError {
    EtcdError::new(code, cause, index)
}

/// A store whose index is `n` after `n` throwaway writes (to line indices
/// up with the spec's observed bodies).
pub fn store_at_index(n: u64) -> Store {
    let mut store = Store::new();
    for i in 0..n {
        ok(&mut store, set_cmd(&format!("/_filler/{i}"), "x"));
    }
    store
}
