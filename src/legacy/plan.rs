//! Everything an etcd 0.4 data dir holds, checked as a whole and turned
//! into what our own data dir would hold at the same point: a snapshot at
//! 0.4's snapshot (index, term, voters = the registered members), the log
//! after it with its Raft indices and terms, and the hard state.
//!
//! Pure: the caller reads the files and writes the result.

use std::path::PathBuf;

use super::commands::{self, Command04, Mapper};
use super::conf::{self, Conf};
use super::error::{LegacyError, Problem};
use super::log_file::{self, TornTail};
use super::snapshot;
use super::store_state::{self, TakenStore};
use crate::membership::{ClusterConfig, Members};
use crate::raft::types::{ConfState, Entry, HardState, Index, Snapshot, SnapshotMeta, Term};
use crate::server::snapshot_data::SnapshotData;
use crate::store::{Store, UnixNanos};

/// The first term our Raft may use on data taken over from 0.4.
///
/// goraft never wrote its current term or its vote down: a 0.4 machine
/// restarted at its log's last term, and may have voted in a later one that
/// some other machine's log holds entries of. Had we restarted at our log's
/// last term too, our first election could reuse such a term, and two
/// different entries with the same index and term would break Raft's log
/// matching. No 0.4 cluster got near 2^32 elections, so campaigns above
/// this term never meet one of 0.4's.
pub const TERM_FLOOR: Term = 1 << 32;

/// The files as read from the data dir (path, bytes); `snapshots` holds
/// every file of `snapshot/`.
#[derive(Debug, Default)]
pub struct Files {
    pub conf: Option<(PathBuf, Vec<u8>)>,
    pub log: Option<(PathBuf, Vec<u8>)>,
    pub snapshots: Vec<(PathBuf, Vec<u8>)>,
}

#[derive(Debug)]
pub struct Plan {
    /// Ours, at the 0.4 snapshot's index and term.
    pub snapshot: Option<Snapshot>,
    /// The log after the snapshot, contiguous.
    pub entries: Vec<Entry>,
    /// The default (a new machine) when there was nothing to take over.
    pub hard_state: HardState,
    pub report: Report,
}

/// What was found, for the one line the takeover logs.
#[derive(Debug, Default)]
pub struct Report {
    /// The snapshot used: file, index, term.
    pub snapshot: Option<(PathBuf, Index, Term)>,
    /// Newer snapshots that did not read, with why.
    pub skipped: Vec<LegacyError>,
    /// Entries in the 0.4 log (torn tail not counted).
    pub log_entries: usize,
    pub torn: Option<(PathBuf, TornTail)>,
    pub keys: usize,
    pub members: Vec<String>,
}

impl Plan {
    /// Nothing was ever written by 0.4: we start as a new machine.
    pub fn is_empty(&self) -> bool {
        self.snapshot.is_none() && self.entries.is_empty()
    }
}

/// A decoded log entry and where it starts in the file.
struct Decoded {
    offset: u64,
    index: Index,
    term: Term,
    cmd: Command04,
}

/// Checks every file and builds the plan for the machine called `name`.
pub fn plan(files: Files, name: &str) -> Result<Plan, LegacyError> {
    let conf = match &files.conf {
        Some((path, bytes)) => conf::read(path, bytes)?,
        None => Conf::default(),
    };
    let log_path = files
        .log
        .as_ref()
        .map(|(p, _)| p.clone())
        .unwrap_or_default();
    let (decoded, torn) = match &files.log {
        Some((path, bytes)) => decode_log(path, bytes)?,
        None => (Vec::new(), None),
    };
    let mut report = Report {
        log_entries: decoded.len(),
        torn: torn.map(|t| (log_path.clone(), t)),
        ..Report::default()
    };
    let chosen = choose_snapshot(&files.snapshots, &mut report)?;
    let base = chosen
        .as_ref()
        .map_or((0, 0), |(_, index, term, _)| (*index, *term));
    connect(&log_path, &decoded, base)?;

    let (taken, snapshot_path) = match chosen {
        Some((path, index, term, taken)) => {
            report.snapshot = Some((path.clone(), index, term));
            (Some(taken), Some(path))
        }
        None => (None, None),
    };
    let (members, config) = taken
        .as_ref()
        .map(|t| (t.members.clone(), t.config))
        .unwrap_or_else(|| (Members::default(), ClusterConfig::default()));
    check_identity(name, &conf, &files, &members, &decoded, snapshot_path)?;

    let clocks = clocks(&decoded);
    let mut mapper = Mapper::new(&members, config);
    let mut entries = Vec::new();
    for (d, clock) in decoded.into_iter().zip(clocks) {
        if d.index <= base.0 {
            continue;
        }
        let (kind, data) = mapper.map(d.cmd, clock);
        entries.push(Entry {
            term: d.term,
            index: d.index,
            kind,
            data,
        });
    }

    let last = entries.last().map_or(base, |e| (e.index, e.term));
    // Committed is what 0.4 itself had shown to be: its snapshot (goraft
    // only snapshots committed state) or the commit index its conf file
    // last recorded, whichever is further, and never past the log we
    // hold. Entries after it were perhaps never committed; they stay in
    // our log as uncommitted, and our Raft's first leader decides them as
    // it decides any uncommitted tail (0.4 did the same on restart).
    let commit = base.0.max(conf.commit_index).min(last.0);
    let hard_state = if taken.is_none() && entries.is_empty() {
        HardState::default()
    } else {
        HardState {
            term: TERM_FLOOR.max(last.1),
            // goraft kept no vote; none is cast in TERM_FLOOR.
            vote: 0,
            commit,
        }
    };
    let snapshot = taken.map(|t| {
        report.keys = t.keys;
        report.members = t.members.iter().map(|m| m.name.clone()).collect();
        our_snapshot(base, t)
    });
    Ok(Plan {
        snapshot,
        entries,
        hard_state,
        report,
    })
}

fn decode_log(
    path: &std::path::Path,
    bytes: &[u8],
) -> Result<(Vec<Decoded>, Option<TornTail>), LegacyError> {
    let log = log_file::read(path, bytes)?;
    let mut decoded = Vec::with_capacity(log.entries.len());
    for raw in log.entries {
        let e = raw.entry;
        let cmd = commands::parse(&e.command_name, &e.command).map_err(|problem| LegacyError {
            file: path.to_path_buf(),
            offset: raw.offset,
            problem,
        })?;
        decoded.push(Decoded {
            offset: raw.offset,
            index: e.index,
            term: e.term,
            cmd,
        });
    }
    Ok((decoded, log.torn))
}

/// The newest snapshot that reads whole, with its store converted. Newer
/// ones that do not read are skipped (and reported); if there are snapshot
/// files and none reads, the newest one's problem stops the takeover.
fn choose_snapshot(
    files: &[(PathBuf, Vec<u8>)],
    report: &mut Report,
) -> Result<Option<(PathBuf, Index, Term, TakenStore)>, LegacyError> {
    let mut named: Vec<(u64, u64, &PathBuf, &Vec<u8>)> = files
        .iter()
        .filter_map(|(path, bytes)| {
            let name = path.file_name()?.to_str()?;
            let (term, index) = snapshot::parse_name(name)?;
            Some((index, term, path, bytes))
        })
        .collect();
    named.sort_by_key(|(index, term, _, _)| std::cmp::Reverse((*index, *term)));
    for (_, _, path, bytes) in named {
        let read = snapshot::read(path, bytes).and_then(|file| {
            let taken = store_state::convert(path, 9, &file.state)?;
            if taken.members.is_empty() {
                return Err(LegacyError {
                    file: path.clone(),
                    offset: 9,
                    problem: Problem::BadState(
                        "the registry /_etcd/machines lists no member".into(),
                    ),
                });
            }
            Ok((path.clone(), file.last_index, file.last_term, taken))
        });
        match read {
            Ok(found) => return Ok(Some(found)),
            Err(e) => report.skipped.push(e),
        }
    }
    match report.skipped.first() {
        Some(newest) => Err(newest.clone()),
        None => Ok(None),
    }
}

/// The log must go on where the snapshot ends, and agree with it there.
fn connect(
    log_path: &std::path::Path,
    decoded: &[Decoded],
    (index, term): (Index, Term),
) -> Result<(), LegacyError> {
    let at = |offset, problem| LegacyError {
        file: log_path.to_path_buf(),
        offset,
        problem,
    };
    let Some(first) = decoded.first() else {
        return Ok(());
    };
    let last = decoded.last().map_or(0, |d| d.index);
    if first.index > index + 1 && last > index {
        let problem = Problem::LogGap {
            first: first.index,
            covered: index,
        };
        return Err(at(0, problem));
    }
    if index > 0
        && let Some(d) = decoded.iter().find(|d| d.index == index)
        && d.term != term
    {
        let problem = Problem::SnapshotTermMismatch {
            index,
            log_term: d.term,
            snapshot_term: term,
        };
        return Err(at(d.offset, problem));
    }
    Ok(())
}

/// Refuses another machine's data dir: goraft's `conf` lists the *other*
/// members, and the registry lists every member (or the log joins it).
fn check_identity(
    name: &str,
    conf: &Conf,
    files: &Files,
    members: &Members,
    decoded: &[Decoded],
    snapshot_path: Option<PathBuf>,
) -> Result<(), LegacyError> {
    let mut known: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
    for d in decoded {
        if let Command04::Join(m) = &d.cmd
            && !known.contains(&m.name)
        {
            known.push(m.name.clone());
        }
    }
    let owner: Vec<&String> = known
        .iter()
        .filter(|k| !conf.peer_names().any(|p| p == k.as_str()))
        .collect();
    let hint = match owner.as_slice() {
        [one] => format!("it is {one}'s: start with -name {one}"),
        _ => "start with the -name this machine had under etcd 0.4".to_string(),
    };
    if conf.peer_names().any(|p| p == name)
        && let Some((path, _)) = &files.conf
    {
        return Err(LegacyError {
            file: path.clone(),
            offset: 0,
            problem: Problem::NotThisMachine {
                name: name.to_string(),
                reason: format!("its conf lists {name} as another member; {hint}"),
            },
        });
    }
    if !known.is_empty() && !known.iter().any(|k| k == name) {
        let file = snapshot_path
            .or_else(|| files.log.as_ref().map(|(p, _)| p.clone()))
            .unwrap_or_default();
        return Err(LegacyError {
            file,
            offset: 0,
            problem: Problem::NotThisMachine {
                name: name.to_string(),
                reason: format!(
                    "the registry lists {} but not {name}; {hint}",
                    known.join(", ")
                ),
            },
        });
    }
    Ok(())
}

/// For each entry, the leader's clock as the log last carried it: the
/// newest `etcd:sync` before it, or (before the first) the first one.
fn clocks(decoded: &[Decoded]) -> Vec<Option<UnixNanos>> {
    let sync_time = |d: &Decoded| match d.cmd {
        Command04::Sync { time } => Some(time),
        _ => None,
    };
    let first = decoded.iter().find_map(sync_time);
    let mut last = None;
    decoded
        .iter()
        .map(|d| {
            let clock = last.or(first);
            last = sync_time(d).or(last);
            clock
        })
        .collect()
}

fn our_snapshot((index, term): (Index, Term), taken: TakenStore) -> Snapshot {
    let mut voters: Vec<_> = taken.members.iter().map(|m| m.id).collect();
    voters.sort_unstable();
    let store: Store = taken.store;
    let data = SnapshotData {
        store: store.snapshot(),
        members: taken.members,
        config: taken.config,
        // etcd 0.4 had no users or roles.
        auth: Default::default(),
    };
    Snapshot {
        meta: SnapshotMeta {
            index,
            term,
            conf: ConfState { voters },
        },
        data: data.encode(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legacy::log_file::frame;
    use crate::legacy::protobuf::LogEntry;
    use crate::legacy::snapshot::frame as snapshot_frame;
    use crate::legacy::store_state::tests::sample;
    use crate::membership::node_id_for;
    use crate::raft::types::EntryKind;
    use crate::server::command::Command;
    use crate::store::{KeyPath, StoreCommand};

    const SYNC: &str = r#"{"time":"2026-11-30T10:25:20.761420327Z"}"#;

    fn e(index: u64, term: u64, name: &str, json: &str) -> LogEntry {
        LogEntry {
            index,
            term,
            command_name: name.into(),
            command: json.as_bytes().to_vec(),
        }
    }

    /// A machine `m1` of 0.4: its join, the settings and writes up to a
    /// snapshot at 5, then a sync, a TTL write and a second machine's join.
    fn log() -> Vec<LogEntry> {
        vec![
            e(
                1,
                0,
                "etcd:join",
                r#"{"name":"m1","raftURL":"http://127.0.0.1:7101","etcdURL":"http://127.0.0.1:4101"}"#,
            ),
            e(2, 0, "raft:nop", ""),
            e(
                3,
                0,
                "etcd:setClusterConfig",
                r#"{"config":{"activeSize":5,"removeDelay":1800,"syncInterval":5}}"#,
            ),
            e(
                4,
                0,
                "etcd:set",
                r#"{"key":"/foo","value":"bar","expireTime":"0001-01-01T00:00:00Z"}"#,
            ),
            e(
                5,
                0,
                "etcd:compareAndSwap",
                r#"{"key":"/foo","value":"baz","prevValue":"bar"}"#,
            ),
            e(6, 1, "etcd:sync", SYNC),
            e(
                7,
                1,
                "etcd:set",
                r#"{"key":"/later","value":"x","expireTime":"2026-11-30T10:25:30.761420327Z"}"#,
            ),
            e(
                8,
                1,
                "etcd:join",
                r#"{"name":"m2","raftURL":"http://127.0.0.1:7102","etcdURL":"http://127.0.0.1:4102"}"#,
            ),
        ]
    }

    fn log_bytes(entries: &[LogEntry]) -> Vec<u8> {
        entries.iter().flat_map(frame).collect()
    }

    fn files(commit: u64) -> Files {
        Files {
            conf: Some((
                PathBuf::from("m1/conf"),
                format!(r#"{{"commitIndex":{commit},"peers":[]}}"#).into_bytes(),
            )),
            log: Some((PathBuf::from("m1/log"), log_bytes(&log()))),
            snapshots: vec![(
                PathBuf::from("m1/snapshot/0_5.ss"),
                snapshot_frame(0, 5, sample().as_bytes()),
            )],
        }
    }

    #[test]
    fn a_data_dir_becomes_our_snapshot_log_and_hard_state() {
        let plan = plan(files(7), "m1").unwrap();
        let snap = plan.snapshot.as_ref().unwrap();
        assert_eq!((snap.meta.index, snap.meta.term), (5, 0));
        assert_eq!(snap.meta.conf.voters, vec![node_id_for("m1")]);
        let data = SnapshotData::decode(&snap.data).unwrap();
        let mut store = Store::new();
        store.restore(&data.store).unwrap();
        assert_eq!(store.index(), 5);
        assert_eq!(data.config.active_size, 5);
        assert!(data.members.get("m1").is_some());

        let positions: Vec<_> = plan
            .entries
            .iter()
            .map(|e| (e.index, e.term, e.kind))
            .collect();
        assert_eq!(
            positions,
            [
                (6, 1, EntryKind::Normal),
                (7, 1, EntryKind::Normal),
                (8, 1, EntryKind::ConfChange)
            ]
        );
        let Command::Store {
            time,
            cmd:
                StoreCommand::Set {
                    key,
                    ttl: Some(ttl),
                    ..
                },
        } = Command::decode(&plan.entries[1].data).unwrap()
        else {
            panic!("entry 7 is not a set with a TTL");
        };
        assert_eq!(key, KeyPath::parse("/later"));
        assert_eq!(ttl, 10);
        let sync = crate::legacy::go_time::parse("2026-11-30T10:25:20.761420327Z").unwrap();
        assert_eq!(Some(time), sync);

        assert_eq!(
            plan.hard_state,
            HardState {
                term: TERM_FLOOR,
                vote: 0,
                commit: 7
            }
        );
        assert_eq!(plan.report.log_entries, 8);
        assert_eq!(plan.report.members, ["m1"]);
        assert_eq!(plan.report.keys, 7);
        assert!(plan.report.torn.is_none());
    }

    #[test]
    fn only_what_0_4_committed_is_committed() {
        // conf behind the snapshot: the snapshot is the proof.
        assert_eq!(plan(files(2), "m1").unwrap().hard_state.commit, 5);
        // conf past the log's end: only what we hold.
        assert_eq!(plan(files(99), "m1").unwrap().hard_state.commit, 8);
    }

    #[test]
    fn a_torn_last_entry_is_left_out_and_reported() {
        let mut f = files(7);
        let bytes = &mut f.log.as_mut().unwrap().1;
        bytes.truncate(bytes.len() - 3);
        let plan = plan(f, "m1").unwrap();
        assert_eq!(plan.entries.last().map(|e| e.index), Some(7));
        let (path, tail) = plan.report.torn.unwrap();
        assert_eq!(path, PathBuf::from("m1/log"));
        assert_eq!(tail.offset as usize, log_bytes(&log()[..7]).len());
        assert_eq!(plan.hard_state.commit, 7);
    }

    #[test]
    fn a_broken_newest_snapshot_falls_back_to_an_older_one() {
        let mut f = files(0);
        let mut broken = snapshot_frame(0, 7, sample().as_bytes());
        let at = broken.len() / 2;
        broken[at] ^= 0x20;
        f.snapshots
            .push((PathBuf::from("m1/snapshot/0_7.ss"), broken));
        let plan = plan(f, "m1").unwrap();
        assert_eq!(plan.report.snapshot.as_ref().map(|s| s.1), Some(5));
        assert_eq!(plan.report.skipped.len(), 1);
        assert_eq!(
            plan.report.skipped[0].file,
            PathBuf::from("m1/snapshot/0_7.ss")
        );
        assert_eq!(plan.entries.first().map(|e| e.index), Some(6));
    }

    #[test]
    fn with_no_snapshot_that_reads_the_takeover_stops_naming_it() {
        let mut f = files(0);
        f.snapshots[0].1[20] ^= 0x01;
        let err = plan(f, "m1").unwrap_err();
        assert_eq!(err.file, PathBuf::from("m1/snapshot/0_5.ss"));
        assert_eq!(err.offset, 9);
        assert!(matches!(err.problem, Problem::ChecksumMismatch { .. }));
    }

    #[test]
    fn a_log_with_a_hole_after_the_snapshot_is_refused() {
        let mut f = files(0);
        f.log = Some((PathBuf::from("m1/log"), log_bytes(&log()[6..])));
        let err = plan(f, "m1").unwrap_err();
        assert_eq!(
            err.problem,
            Problem::LogGap {
                first: 7,
                covered: 5
            }
        );
        // A compacted log that still reaches the snapshot is fine.
        let mut f = files(0);
        f.log = Some((PathBuf::from("m1/log"), log_bytes(&log()[3..])));
        assert_eq!(plan(f, "m1").unwrap().entries.len(), 3);
    }

    #[test]
    fn a_log_from_another_history_than_the_snapshot_is_refused() {
        let mut entries = log();
        for entry in &mut entries {
            entry.term += 1;
        }
        let mut f = files(0);
        f.log = Some((PathBuf::from("m1/log"), log_bytes(&entries)));
        let err = plan(f, "m1").unwrap_err();
        assert!(matches!(
            err.problem,
            Problem::SnapshotTermMismatch { index: 5, .. }
        ));
    }

    #[test]
    fn an_unknown_command_anywhere_stops_the_takeover_at_its_entry() {
        let mut entries = log();
        entries[1].command_name = "raft:frob".into();
        let mut f = files(0);
        f.log = Some((PathBuf::from("m1/log"), log_bytes(&entries)));
        let err = plan(f, "m1").unwrap_err();
        assert_eq!(err.offset as usize, log_bytes(&log()[..1]).len());
        assert_eq!(err.problem, Problem::UnknownCommand("raft:frob".into()));
    }

    #[test]
    fn another_machines_data_dir_is_refused() {
        let mut f = files(0);
        f.conf = Some((
            PathBuf::from("m2/conf"),
            br#"{"commitIndex":3,"peers":[{"name":"m2"}]}"#.to_vec(),
        ));
        let err = plan(f, "m2").unwrap_err();
        assert!(err.to_string().contains("start with -name m1"), "{err}");
        let err = plan(files(0), "laptop").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("lists m1, m2 but not laptop"), "{text}");
        // m2 joins in the log's tail: its own dir is fine.
        assert!(plan(files(0), "m2").is_ok());
    }

    #[test]
    fn nothing_to_take_over_is_a_new_machine() {
        let f = Files {
            conf: None,
            log: Some((PathBuf::from("log"), Vec::new())),
            snapshots: Vec::new(),
        };
        let plan = plan(f, "m1").unwrap();
        assert!(plan.is_empty());
        assert_eq!(plan.hard_state, HardState::default());
    }

    #[test]
    fn a_log_without_a_snapshot_is_taken_from_its_first_entry() {
        let f = Files {
            conf: Some((PathBuf::from("conf"), br#"{"commitIndex":4}"#.to_vec())),
            log: Some((PathBuf::from("log"), log_bytes(&log()))),
            snapshots: Vec::new(),
        };
        let plan = plan(f, "m1").unwrap();
        assert!(plan.snapshot.is_none());
        assert_eq!(plan.entries.len(), 8);
        assert_eq!(plan.entries[0].kind, EntryKind::ConfChange);
        assert_eq!(plan.hard_state.commit, 4);
        // Without a snapshot, entries before the first sync take its clock.
        let Command::Store { time, .. } = Command::decode(&plan.entries[3].data).unwrap() else {
            panic!("entry 4 is not a store command");
        };
        let sync = crate::legacy::go_time::parse("2026-11-30T10:25:20.761420327Z").unwrap();
        assert_eq!(Some(time), sync);
        let f = Files {
            log: Some((PathBuf::from("log"), log_bytes(&log()[2..]))),
            ..Files::default()
        };
        assert!(matches!(
            plan_err(f),
            Problem::LogGap {
                first: 3,
                covered: 0
            }
        ));
    }

    /// The fixture's three dirs, read as the takeover reads them.
    fn fixture_plan(machine: &str) -> Plan {
        let dir = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/etcd-0.4.6-cluster"
        ))
        .join(machine);
        let read = |name: &str| Some((dir.join(name), std::fs::read(dir.join(name)).unwrap()));
        let snapshots = std::fs::read_dir(dir.join("snapshot"))
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                (path, bytes)
            })
            .collect();
        let files = Files {
            conf: read("conf"),
            log: read("log"),
            snapshots,
        };
        plan(files, machine).unwrap()
    }

    fn tree_json(store: &mut Store) -> (u64, String, String) {
        let now = 0;
        let root = store.get(&KeyPath::root(), true, true, now).unwrap();
        let etcd = store
            .get(&KeyPath::parse("/_etcd"), true, true, now)
            .unwrap();
        (store.index(), root.node.to_json(), etcd.node.to_json())
    }

    #[test]
    fn the_fixture_machines_get_logs_that_agree_and_reach_the_same_tree() {
        let plans: Vec<Plan> = ["m1", "m2", "m3"].iter().map(|m| fixture_plan(m)).collect();
        // The same (index, term) carries the same bytes on every machine.
        for a in &plans {
            for b in &plans {
                for x in &a.entries {
                    if let Some(y) = b.entries.iter().find(|y| y.index == x.index) {
                        assert_eq!(x, y, "entry {}", x.index);
                    }
                }
            }
        }
        let heads: Vec<_> = plans
            .iter()
            .map(|p| (p.snapshot.as_ref().unwrap().meta.index, p.hard_state.commit))
            .collect();
        assert_eq!(heads, [(90, 90), (129, 129), (90, 90)]);
        // m1's snapshot with the entries up to 129 applied is m2's snapshot.
        let restore = |p: &Plan| {
            let data = SnapshotData::decode(&p.snapshot.as_ref().unwrap().data).unwrap();
            let mut store = Store::new();
            store.restore(&data.store).unwrap();
            store
        };
        let mut m1 = restore(&plans[0]);
        for entry in plans[0].entries.iter().filter(|e| e.index <= 129) {
            if entry.data.is_empty() {
                continue;
            }
            match Command::decode(&entry.data).unwrap() {
                Command::Store { time, cmd } => {
                    let _ = m1.apply(&cmd, time);
                }
                Command::ExpireDue { time } => {
                    m1.expire_due(time);
                }
                other => panic!("entry {}: {other:?}", entry.index),
            }
        }
        let mut m2 = restore(&plans[1]);
        assert_eq!(tree_json(&mut m1), tree_json(&mut m2));
        assert_eq!(m2.index(), 96);
    }

    fn plan_err(f: Files) -> Problem {
        plan(f, "m1").unwrap_err().problem
    }
}
