//! `cargo bench --bench store`: the key store's set and get rates, its heap
//! bytes per key, and the size and cost of its snapshot, on the shape
//! `scripts/bench-memory` writes (one directory of numbered keys with
//! 100-byte values). Hand-rolled timing (the standard `#[bench]` harness
//! needs nightly): each figure is the median of several rounds.
//!
//! A counting global allocator measures live heap bytes, so "bytes per key"
//! is what the tree itself holds, without allocator slack or fragmentation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use etcd::store::{KeyPath, Store, StoreCommand};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now =
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed) + layout.size() as isize;
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Live bytes now, and resets the peak to it.
fn reset_peak() -> isize {
    let now = live();
    PEAK.store(now, Ordering::Relaxed);
    now
}

fn peak() -> isize {
    PEAK.load(Ordering::Relaxed)
}

const KEYS: u64 = 200_000;
const ROUNDS: usize = 5;

fn set_command(n: u64) -> StoreCommand {
    StoreCommand::Set {
        key: KeyPath::parse(&format!("/bench/{n}")),
        value: "x".repeat(100),
        dir: false,
        ttl: None,
    }
}

fn filled(keys: u64) -> Store {
    let mut store = Store::new();
    for n in 0..keys {
        store.apply(&set_command(n), 0).expect("set applies");
    }
    store
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn mib(bytes: isize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: stay quick.
    let quick = !std::env::args().any(|arg| arg == "--bench");
    let keys = if quick { 2_000 } else { KEYS };
    let rounds = if quick { 1 } else { ROUNDS };

    // Commands are built outside the timed loop: only `apply` is timed.
    let commands: Vec<StoreCommand> = (0..keys).map(set_command).collect();
    let mut set_rates = Vec::new();
    for _ in 0..rounds {
        let mut store = Store::new();
        let started = Instant::now();
        for command in &commands {
            black_box(store.apply(command, 0).expect("set applies"));
        }
        set_rates.push(keys as f64 / started.elapsed().as_secs_f64());
    }
    drop(commands);

    let before = reset_peak();
    let mut store = filled(keys);
    let tree_bytes = live() - before;

    // The same writes as a server makes them: an image every 10 000 writes,
    // held (as the snapshot thread holds it) for the next 1 000.
    let before = reset_peak();
    let mut imaged = Store::new();
    let mut held = None;
    for n in 0..keys {
        imaged.apply(&set_command(n), 0).expect("set applies");
        if n % 10_000 == 0 {
            held = Some(imaged.image());
        } else if n % 10_000 == 1_000 {
            held = None;
        }
    }
    drop(held);
    let imaged_bytes = live() - before;
    let imaged_peak = peak() - before;
    drop(imaged);

    let paths: Vec<KeyPath> = (0..keys)
        .map(|n| KeyPath::parse(&format!("/bench/{}", (n * 7919) % keys)))
        .collect();
    let mut get_rates = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        for path in &paths {
            black_box(store.get(path, false, false, 0).expect("key exists"));
        }
        get_rates.push(keys as f64 / started.elapsed().as_secs_f64());
    }

    // The first snapshot of a store, then the ones a server takes after it
    // (sized up front from the one before): median of five.
    let before = reset_peak();
    let started = Instant::now();
    let mut snapshot = store.snapshot();
    let first_snapshot_s = started.elapsed().as_secs_f64();
    let first_snapshot_peak = peak() - before;
    let mut later = Vec::new();
    let mut snapshot_peak = 0;
    for _ in 0..5 {
        drop(snapshot);
        let before = reset_peak();
        let started = Instant::now();
        snapshot = store.snapshot();
        later.push(started.elapsed().as_secs_f64());
        snapshot_peak = peak() - before;
    }
    let snapshot_s = median(later);

    drop(store);
    let before = reset_peak();
    let started = Instant::now();
    let mut restored = Store::new();
    restored.restore(&snapshot).expect("restores");
    let restore_s = started.elapsed().as_secs_f64();
    let restore_peak = peak() - before;
    let restored_bytes = live() - before;
    black_box(&restored);

    println!("store, {keys} keys of 100 B in one directory, medians of {rounds} rounds:");
    println!("  set            {:>10.0} /s", median(set_rates));
    println!("  get            {:>10.0} /s", median(get_rates));
    println!(
        "  tree + history {:>10.1} MiB live, {:.0} B per key",
        mib(tree_bytes),
        tree_bytes as f64 / keys as f64
    );
    println!(
        "  with images    {:>10.1} MiB live, {:.1} MiB peak (an image every 10 000 writes)",
        mib(imaged_bytes),
        mib(imaged_peak)
    );
    println!(
        "  snapshot       {:>10.1} MiB, {:.0} B per key, {:.3} s to encode, {:.1} MiB peak extra",
        mib(snapshot.len() as isize),
        snapshot.len() as f64 / keys as f64,
        snapshot_s,
        mib(snapshot_peak)
    );
    println!(
        "  first snapshot {:>10.3} s to encode, {:.1} MiB peak extra (no size hint yet)",
        first_snapshot_s,
        mib(first_snapshot_peak)
    );
    println!(
        "  restore        {:>10.3} s, {:.1} MiB peak extra, {:.1} MiB live after",
        restore_s,
        mib(restore_peak),
        mib(restored_bytes)
    );
}
