//! etcd 0.4's snapshot files, `snapshot/<term>_<index>.ss`: a line with
//! the CRC-32 (IEEE) of everything after it as eight hex digits, then
//! goraft's JSON `{"lastIndex","lastTerm","peers","state","path"}`, whose
//! `state` is the store's own JSON, base64-encoded (Go's `[]byte`).
//! goraft wrote these files in place without a temp file, so a crash can
//! leave one cut short: the checksum catches it.

use std::path::Path;

use serde::Deserialize;

use super::conf::Peer;
use super::crc32::crc32_ieee;
use super::error::{LegacyError, Problem};

/// The checksum line: `%08x\n`.
const CHECKSUM_LINE: usize = 9;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    pub last_index: u64,
    pub last_term: u64,
    /// The store's JSON (`Root`, `WatcherHub`, `CurrentIndex`, ...).
    pub state: Vec<u8>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "lastIndex")]
    last_index: u64,
    #[serde(rename = "lastTerm")]
    last_term: u64,
    /// Goraft's peers; the registry in the store is what counts.
    #[serde(default)]
    #[allow(dead_code)]
    peers: Option<Vec<Peer>>,
    #[serde(with = "crate::raft::types::base64_bytes")]
    state: Vec<u8>,
}

/// `(term, index)` from a name like `0_90.ss`; None for other files.
pub fn parse_name(name: &str) -> Option<(u64, u64)> {
    let (term, index) = name.strip_suffix(".ss")?.split_once('_')?;
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    Some((number(term)?, number(index)?))
}

/// Reads and checks one snapshot file. `path` names it in errors and its
/// file name must agree with the contents.
pub fn read(path: &Path, bytes: &[u8]) -> Result<SnapshotFile, LegacyError> {
    let fail = |offset: usize, problem| LegacyError {
        file: path.to_path_buf(),
        offset: offset as u64,
        problem,
    };
    let stored = bytes
        .get(..CHECKSUM_LINE)
        .filter(|line| line[8] == b'\n' && line[..8].iter().all(u8::is_ascii_hexdigit))
        .and_then(|line| std::str::from_utf8(&line[..8]).ok())
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .ok_or_else(|| fail(0, Problem::BadChecksumLine))?;
    let body = &bytes[CHECKSUM_LINE..];
    let computed = crc32_ieee(body);
    if computed != stored {
        return Err(fail(
            CHECKSUM_LINE,
            Problem::ChecksumMismatch { stored, computed },
        ));
    }
    let raw: Raw = serde_json::from_slice(body)
        .map_err(|e| LegacyError::json(path, CHECKSUM_LINE as u64, body, &e))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if parse_name(name) != Some((raw.last_term, raw.last_index)) {
        return Err(fail(
            CHECKSUM_LINE,
            Problem::NameMismatch {
                name: name.to_string(),
                term: raw.last_term,
                index: raw.last_index,
            },
        ));
    }
    Ok(SnapshotFile {
        last_index: raw.last_index,
        last_term: raw.last_term,
        state: raw.state,
    })
}

/// Writes a snapshot file as goraft does (for the tests).
#[cfg(test)]
pub fn frame(term: u64, index: u64, state: &[u8]) -> Vec<u8> {
    let json = serde_json::json!({
        "lastIndex": index,
        "lastTerm": term,
        "peers": [{"name": "m1", "connectionString": ""}],
        "state": crate::raft::types::base64_bytes::encode(state),
        "path": format!("snapshot/{term}_{index}.ss"),
    })
    .to_string();
    let mut out = format!("{:08x}\n", crc32_ieee(json.as_bytes())).into_bytes();
    out.extend_from_slice(json.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_term_underscore_index() {
        assert_eq!(parse_name("0_90.ss"), Some((0, 90)));
        assert_eq!(parse_name("12_129.ss"), Some((12, 129)));
        for other in [
            "0_90.ss.tmp",
            "90.ss",
            "a_1.ss",
            "_1.ss",
            "1_.ss",
            "0_+9.ss",
        ] {
            assert_eq!(parse_name(other), None, "{other}");
        }
    }

    #[test]
    fn a_goraft_snapshot_reads_back_its_state() {
        let bytes = frame(3, 90, br#"{"CurrentIndex":65}"#);
        let snap = read(Path::new("snapshot/3_90.ss"), &bytes).unwrap();
        assert_eq!((snap.last_term, snap.last_index), (3, 90));
        assert_eq!(snap.state, br#"{"CurrentIndex":65}"#);
    }

    #[test]
    fn a_flipped_byte_is_a_checksum_mismatch_after_the_first_line() {
        let mut bytes = frame(0, 90, b"{}");
        let last = bytes.len() - 2;
        bytes[last] ^= 0x01;
        let err = read(Path::new("snapshot/0_90.ss"), &bytes).unwrap_err();
        assert_eq!(err.offset, 9);
        assert!(matches!(err.problem, Problem::ChecksumMismatch { .. }));
        assert!(err.to_string().contains("CRC-32 mismatch"));
    }

    #[test]
    fn a_cut_file_or_a_bad_first_line_is_refused() {
        let bytes = frame(0, 90, b"{}");
        for cut in 0..bytes.len() {
            assert!(
                read(Path::new("snapshot/0_90.ss"), &bytes[..cut]).is_err(),
                "cut {cut}"
            );
        }
        let mut upper = bytes.clone();
        upper[0] = b'g';
        let err = read(Path::new("snapshot/0_90.ss"), &upper).unwrap_err();
        assert_eq!((err.offset, err.problem), (0, Problem::BadChecksumLine));
    }

    #[test]
    fn a_snapshot_under_another_name_is_refused() {
        let bytes = frame(0, 90, b"{}");
        let err = read(Path::new("snapshot/0_91.ss"), &bytes).unwrap_err();
        assert!(matches!(
            err.problem,
            Problem::NameMismatch { index: 90, .. }
        ));
    }

    #[test]
    fn json_damage_under_a_matching_checksum_names_its_byte() {
        let json = br#"{"lastIndex":90,"lastTerm":0,"state":"!!"}"#;
        let mut bytes = format!("{:08x}\n", crc32_ieee(json)).into_bytes();
        bytes.extend_from_slice(json);
        let err = read(Path::new("snapshot/0_90.ss"), &bytes).unwrap_err();
        assert!(matches!(err.problem, Problem::BadJson(_)));
        assert!(err.offset >= 9);
    }
}
