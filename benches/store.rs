//! The key store alone (`store::Store`): what applying a write and
//! answering a read cost on the state thread, with 100 000 keys in place.

mod common;

use std::hint::black_box;

use etcd::store::{KeyPath, Store, StoreCommand};

const NOW: i64 = 1_700_000_000_000_000_000;

fn set(key: &str) -> StoreCommand {
    StoreCommand::Set {
        key: KeyPath::parse(key),
        value: "x".repeat(100),
        dir: false,
        ttl: None,
    }
}

fn main() {
    let mut store = Store::new();
    for i in 0..100_000 {
        store.apply(&set(&format!("/bench/{i}")), NOW).expect("set");
    }
    let mut i = 100_000u64;
    common::bench("set a new key (100 000 present)", || {
        i += 1;
        black_box(store.apply(&set(&format!("/bench/{i}")), NOW).expect("set"));
    });
    common::bench("set an existing key", || {
        black_box(store.apply(&set("/bench/500"), NOW).expect("set"));
    });
    let key = KeyPath::parse("/bench/777");
    common::bench("get one key", || {
        black_box(store.get(&key, false, false, NOW).expect("get"));
    });
}
