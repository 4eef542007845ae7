//! etcd 0.4's `log` file: entries one after another, each a line with its
//! length (`%8x\n`: hex, right-aligned in eight columns) and then that many
//! bytes of protobuf `LogEntry`. There is no checksum, and goraft did not
//! fsync every append, so a crash can leave the last entry cut short.
//!
//! A torn tail is told from damage this way: the bytes left at the end are
//! fewer than the entry they start says it has (or than a length line), and
//! no complete entry can be found after it; or they are all zeros (a power
//! loss after the file grew but before its data reached the disk).
//! Anything else that does not read is damage and an error. Damage inside
//! a value that still decodes (a changed letter) cannot be seen: the format
//! has no checksum.

use std::path::Path;

use super::error::{LegacyError, Problem};
use super::protobuf::{self, LogEntry};

/// `%8x` plus the newline.
const LENGTH_LINE: usize = 9;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    /// Where the entry's length line starts.
    pub offset: u64,
    pub entry: LogEntry,
}

/// What was left off the end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    pub offset: u64,
    /// Bytes from `offset` to the end of the file.
    pub present: usize,
    /// What the entry's length line asked for, if it was whole.
    pub declared: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFile {
    /// In file order; indices count up by one, terms never go down.
    pub entries: Vec<RawEntry>,
    pub torn: Option<TornTail>,
}

/// Reads the whole file. `path` only names it in errors.
pub fn read(path: &Path, bytes: &[u8]) -> Result<LogFile, LegacyError> {
    let fail = |offset: usize, problem| LegacyError {
        file: path.to_path_buf(),
        offset: offset as u64,
        problem,
    };
    let mut log = LogFile::default();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let previous = log.entries.last().map(|e| &e.entry);
        if rest.iter().all(|b| *b == 0) {
            log.torn = Some(torn(at, rest.len(), None));
            break;
        }
        let Some(len) = length_line(rest) else {
            if rest.len() < LENGTH_LINE && could_start_a_length_line(rest) {
                log.torn = Some(torn(at, rest.len(), None));
                break;
            }
            return Err(fail(at, Problem::BadLengthLine));
        };
        let Some(data) = rest.get(LENGTH_LINE..LENGTH_LINE + len) else {
            let present = rest.len() - LENGTH_LINE;
            if complete_entry_follows(rest, previous.map(|p| p.index + 2)) {
                return Err(fail(
                    at,
                    Problem::LengthPastEnd {
                        declared: len,
                        present,
                    },
                ));
            }
            log.torn = Some(torn(at, rest.len(), Some(len)));
            break;
        };
        let entry = protobuf::decode(data)
            .map_err(|(offset, problem)| fail(at + LENGTH_LINE + offset, problem))?;
        if let Some(prev) = previous {
            if entry.index != prev.index + 1 {
                let problem = Problem::IndexOrder {
                    previous: prev.index,
                    found: entry.index,
                };
                return Err(fail(at, problem));
            }
            if entry.term < prev.term {
                let problem = Problem::TermOrder {
                    previous: prev.term,
                    found: entry.term,
                };
                return Err(fail(at, problem));
            }
        }
        log.entries.push(RawEntry {
            offset: at as u64,
            entry,
        });
        at += LENGTH_LINE + len;
    }
    Ok(log)
}

fn torn(offset: usize, present: usize, declared: Option<usize>) -> TornTail {
    TornTail {
        offset: offset as u64,
        present,
        declared,
    }
}

/// The length a `%8x\n` line at the start of `bytes` gives: spaces, then
/// at least one hex digit, eight columns in all, then a newline.
fn length_line(bytes: &[u8]) -> Option<usize> {
    let line = bytes.get(..LENGTH_LINE)?;
    if line[8] != b'\n' {
        return None;
    }
    let digits = without_leading_spaces(&line[..8]);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let text = std::str::from_utf8(digits).ok()?;
    usize::from_str_radix(text, 16).ok()
}

/// Whether `bytes` (shorter than a length line) could be the start of one.
fn could_start_a_length_line(bytes: &[u8]) -> bool {
    without_leading_spaces(bytes)
        .iter()
        .all(u8::is_ascii_hexdigit)
}

fn without_leading_spaces(bytes: &[u8]) -> &[u8] {
    let spaces = bytes.iter().take_while(|b| **b == b' ').count();
    &bytes[spaces..]
}

/// Whether a whole, decodable entry (with index `want`, if known) starts
/// somewhere after the first byte of `rest`: then an entry running past the
/// end of the file is damage, not a torn write.
fn complete_entry_follows(rest: &[u8], want: Option<u64>) -> bool {
    (1..rest.len()).any(|p| {
        let Some(len) = length_line(&rest[p..]) else {
            return false;
        };
        rest.get(p + LENGTH_LINE..p + LENGTH_LINE + len)
            .and_then(|data| protobuf::decode(data).ok())
            .is_some_and(|e| want.is_none_or(|w| e.index == w))
    })
}

/// Frames entries as goraft writes them (for the tests).
#[cfg(test)]
pub fn frame(entry: &LogEntry) -> Vec<u8> {
    let data = protobuf::encode(entry);
    let mut out = format!("{:8x}\n", data.len()).into_bytes();
    out.extend_from_slice(&data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, term: u64, name: &str, json: &str) -> LogEntry {
        LogEntry {
            index,
            term,
            command_name: name.into(),
            command: json.as_bytes().to_vec(),
        }
    }

    fn three() -> (Vec<u8>, Vec<usize>) {
        let mut bytes = Vec::new();
        let mut starts = Vec::new();
        for e in [
            entry(1, 0, "etcd:set", r#"{"key":"/a","value":"1"}"#),
            entry(2, 0, "raft:nop", ""),
            entry(3, 1, "etcd:sync", r#"{"time":"2026-11-30T10:25:20Z"}"#),
        ] {
            starts.push(bytes.len());
            bytes.extend_from_slice(&frame(&e));
        }
        (bytes, starts)
    }

    fn path() -> &'static Path {
        Path::new("m1/log")
    }

    #[test]
    fn goraft_framing_is_read_byte_for_byte() {
        // The fixture's second entry, exactly as 0.4.6 wrote it.
        let bytes = b"       e\n\x08\x02\x10\x00\x1a\x08raft:nop";
        let log = read(path(), bytes).unwrap();
        assert_eq!(log.torn, None);
        assert_eq!(log.entries.len(), 1);
        assert_eq!(log.entries[0].entry, entry(2, 0, "raft:nop", ""));
        let (bytes, starts) = three();
        let log = read(path(), &bytes).unwrap();
        let offsets: Vec<u64> = log.entries.iter().map(|e| e.offset).collect();
        assert_eq!(
            offsets,
            starts.iter().map(|s| *s as u64).collect::<Vec<_>>()
        );
        assert_eq!(read(path(), b"").unwrap(), LogFile::default());
    }

    #[test]
    fn every_cut_inside_the_last_entry_is_a_torn_tail() {
        let (bytes, starts) = three();
        for cut in starts[2] + 1..bytes.len() {
            let log = read(path(), &bytes[..cut]).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
            assert_eq!(log.entries.len(), 2, "cut {cut}");
            let tail = log.torn.unwrap();
            assert_eq!(tail.offset, starts[2] as u64);
            assert_eq!(tail.present, cut - starts[2]);
        }
    }

    #[test]
    fn a_zero_filled_tail_is_torn() {
        let (mut bytes, starts) = three();
        bytes.truncate(starts[2]);
        bytes.extend_from_slice(&[0u8; 40]);
        let log = read(path(), &bytes).unwrap();
        assert_eq!(log.entries.len(), 2);
        assert_eq!(log.torn.unwrap().offset, starts[2] as u64);
    }

    #[test]
    fn a_damaged_length_line_in_the_middle_is_an_error_at_its_offset() {
        let (bytes, starts) = three();
        let mut bad = bytes.clone();
        bad[starts[1] + 7] = b'z';
        let err = read(path(), &bad).unwrap_err();
        assert_eq!(
            (err.offset, err.problem),
            (starts[1] as u64, Problem::BadLengthLine)
        );
        // A length grown past the end while entries follow is damage too.
        let mut grown = bytes.clone();
        grown[starts[1]..starts[1] + 8].copy_from_slice(b"     fff");
        let err = read(path(), &grown).unwrap_err();
        assert!(matches!(
            err.problem,
            Problem::LengthPastEnd {
                declared: 0xfff,
                ..
            }
        ));
        assert_eq!(err.offset, starts[1] as u64);
    }

    #[test]
    fn a_damaged_entry_in_the_middle_is_an_error_inside_it() {
        let (bytes, starts) = three();
        let mut bad = bytes;
        bad[starts[1] + LENGTH_LINE] = 0xff; // the Index tag
        let err = read(path(), &bad).unwrap_err();
        assert_eq!(err.offset, (starts[1] + LENGTH_LINE) as u64);
        assert!(matches!(err.problem, Problem::Protobuf(_)));
        assert!(err.to_string().starts_with("m1/log at byte "));
    }

    #[test]
    fn indices_must_count_up_and_terms_never_fall() {
        let mut bytes = frame(&entry(5, 2, "raft:nop", ""));
        bytes.extend_from_slice(&frame(&entry(7, 2, "raft:nop", "")));
        let err = read(path(), &bytes).unwrap_err();
        assert_eq!(
            err.problem,
            Problem::IndexOrder {
                previous: 5,
                found: 7
            }
        );
        let mut bytes = frame(&entry(5, 2, "raft:nop", ""));
        bytes.extend_from_slice(&frame(&entry(6, 1, "raft:nop", "")));
        let err = read(path(), &bytes).unwrap_err();
        assert_eq!(
            err.problem,
            Problem::TermOrder {
                previous: 2,
                found: 1
            }
        );
    }

    #[test]
    fn garbage_never_panics() {
        let (bytes, _) = three();
        for i in 0..bytes.len() {
            for value in [0u8, b' ', b'\n', 0xff, b'9'] {
                let mut b = bytes.clone();
                b[i] = value;
                let _ = read(path(), &b);
            }
        }
    }
}
