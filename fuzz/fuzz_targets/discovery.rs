//! `discovery`: see `etcd::fuzzing` (src/fuzzing/) for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| etcd::fuzzing::discovery(data));
