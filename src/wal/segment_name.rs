//! Segment file names: `<seq:016x>-<first index:016x>.wal`.
//!
//! `seq` counts segments from 1 with no gaps among those present (old ones
//! are only ever removed from the front); the first index is the index the
//! writer expected next when it created the file, kept for people reading a
//! directory listing. Fixed-width hex makes name order equal number order.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::raft::types::Index;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentName {
    pub seq: u64,
    pub first_index: Index,
}

const SUFFIX: &str = ".wal";

impl SegmentName {
    pub fn file_name(&self) -> String {
        format!("{:016x}-{:016x}{SUFFIX}", self.seq, self.first_index)
    }

    pub fn parse(name: &str) -> Option<SegmentName> {
        let stem = name.strip_suffix(SUFFIX)?;
        let (seq, first) = stem.split_once('-')?;
        Some(SegmentName {
            seq: parse_hex16(seq)?,
            first_index: parse_hex16(first)?,
        })
    }
}

fn parse_hex16(s: &str) -> Option<u64> {
    let well_formed = s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if well_formed {
        u64::from_str_radix(s, 16).ok()
    } else {
        None
    }
}

/// The segment files in `dir`, oldest first. Other files are ignored.
pub fn list_segments(dir: &Path) -> io::Result<Vec<(SegmentName, PathBuf)>> {
    let mut found = Vec::new();
    for item in fs::read_dir(dir)? {
        let item = item?;
        if let Some(name) = item.file_name().to_str().and_then(SegmentName::parse) {
            found.push((name, item.path()));
        }
    }
    found.sort_by_key(|(name, _)| name.seq);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_fixed_width_hex_and_parse_back() {
        let name = SegmentName {
            seq: 1,
            first_index: 0xabc,
        };
        assert_eq!(name.file_name(), "0000000000000001-0000000000000abc.wal");
        assert_eq!(SegmentName::parse(&name.file_name()), Some(name));
    }

    #[test]
    fn other_names_are_not_segments() {
        for name in [
            "0000000000000001-0000000000000abc.snap",
            "0000000000000001-0000000000000ABC.wal",
            "1-2.wal",
            "0000000000000001_0000000000000abc.wal",
            "x000000000000001-0000000000000abc.wal",
            "",
        ] {
            assert_eq!(SegmentName::parse(name), None, "{name}");
        }
    }

    #[test]
    fn listing_is_ordered_by_sequence_and_skips_other_files() {
        let dir = tempfile::tempdir().unwrap();
        for seq in [3u64, 1, 2] {
            let name = SegmentName {
                seq,
                first_index: 1,
            };
            fs::write(dir.path().join(name.file_name()), b"").unwrap();
        }
        fs::write(dir.path().join("notes.txt"), b"").unwrap();
        let seqs: Vec<u64> = list_segments(dir.path())
            .unwrap()
            .iter()
            .map(|(n, _)| n.seq)
            .collect();
        assert_eq!(seqs, vec![1, 2, 3]);
    }
}
