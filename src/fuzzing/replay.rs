//! Replays every file of `testdata/fuzz/<target>/` through its target, on
//! stable, as part of `cargo test`: the seeds, what the fuzzer kept, and
//! every input that once crashed (named `crash-*` by libFuzzer).

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use super::TARGETS;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn corpus_files(target: &str) -> Vec<PathBuf> {
    let dir = root().join("testdata/fuzz").join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|item| item.map(|i| i.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    files.sort();
    files
}

#[test]
fn every_corpus_file_passes_its_target() {
    let mut failed = Vec::new();
    for (name, target) in TARGETS {
        let files = corpus_files(name);
        assert!(!files.is_empty(), "testdata/fuzz/{name} holds no seed");
        for file in files {
            let data = fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
                failed.push(file.display().to_string());
            }
        }
    }
    assert!(failed.is_empty(), "fuzz inputs that fail: {failed:#?}");
}

#[test]
fn every_target_has_a_fuzz_binary_and_a_corpus_and_nothing_else_does() {
    let manifest = fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap_or_default();
    for (name, _) in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name} is not in fuzz/Cargo.toml"
        );
        let source = root().join("fuzz/fuzz_targets").join(format!("{name}.rs"));
        assert!(source.is_file(), "{} is missing", source.display());
    }
    for dir in fs::read_dir(root().join("testdata/fuzz"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = dir.file_name().to_string_lossy().into_owned();
        assert!(
            TARGETS.iter().any(|(t, _)| *t == name),
            "testdata/fuzz/{name} has no target"
        );
    }
}

#[test]
fn an_unknown_target_is_not_run() {
    assert!(!super::run("no_such_target", b""));
    assert!(super::run("key_path", b"/a"));
}
