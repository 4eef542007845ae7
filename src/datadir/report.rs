//! `etcd -inspect DIR`: what a data dir holds, as text for people and as
//! JSON (`-json`) for scripts. Built from a read-only [`DataDir`] and its
//! replay; it never writes anything but the text it returns.

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use super::open::{DataDir, LockState};
use super::replay::{Replayed, replay};
use crate::membership::ClusterConfig;
use crate::raft::types::NodeId;
use crate::wal::read_only::Problem;

/// Everything `-inspect` prints. The JSON members are these fields in
/// camelCase; ids are 16 hex digits, as in the report text.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub data_dir: String,
    /// "free", "in use", "no lock file", or why it could not be probed.
    pub lock: String,
    pub name: Option<String>,
    pub member_id: Option<String>,
    pub standby: bool,
    pub term: u64,
    pub vote: Option<String>,
    pub vote_name: Option<String>,
    pub commit_index: u64,
    /// What the newest snapshot covers: applied for sure before the stop.
    pub snapshot_index: u64,
    /// The last committed entry read (a restart applies up to it).
    pub applied_index: u64,
    /// The store index at `applied_index`; absent when the data could not
    /// be rebuilt.
    pub store_index: Option<u64>,
    pub keys: Option<u64>,
    pub files: Option<u64>,
    pub directories: Option<u64>,
    pub members: Vec<MemberLine>,
    pub config: Option<ClusterConfig>,
    pub snapshots: Vec<SnapshotLine>,
    pub wal_segments: Vec<SegmentLine>,
    pub problems: Vec<ProblemLine>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberLine {
    pub name: String,
    pub id: String,
    #[serde(rename = "peerURL")]
    pub peer_url: String,
    #[serde(rename = "clientURL")]
    pub client_url: String,
    pub voter: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotLine {
    pub file: String,
    pub term: u64,
    pub index: u64,
    pub bytes: u64,
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentLine {
    pub file: String,
    pub bytes: u64,
    /// Where the intact records end; the rest of a healthy segment is
    /// space reserved for later records.
    pub used_bytes: u64,
    pub records: u64,
    pub entries: u64,
    pub first_index: Option<u64>,
    pub last_index: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProblemLine {
    pub file: String,
    pub offset: u64,
    /// "torn tail", "corrupt", "unreadable", "missing", or "data" (the
    /// snapshot's contents do not decode).
    pub kind: String,
    pub reason: String,
    /// False only for a torn tail, which a restart cuts off by itself.
    pub damage: bool,
}

fn hex(id: NodeId) -> String {
    format!("{id:016x}")
}

/// Files are named in full, as the machine's own start-up errors name them.
fn file_name(path: &Path) -> String {
    path.display().to_string()
}

impl Report {
    /// Reads everything `dir` says about itself.
    pub fn of(dd: &DataDir) -> Report {
        let hs = dd.log.hard_state;
        let mut problems: Vec<ProblemLine> = dd.log.problems.iter().map(problem_line).collect();
        let replayed = match replay(&dd.log, &mut |_, _| {}) {
            Ok(state) => Some(state),
            Err(reason) => {
                let file = dd
                    .log
                    .snapshots
                    .iter()
                    .rev()
                    .find(|s| s.ok)
                    .map(|s| file_name(&s.path))
                    .unwrap_or_default();
                problems.push(ProblemLine {
                    file,
                    offset: 0,
                    kind: "data".into(),
                    reason,
                    damage: true,
                });
                None
            }
        };
        let counts = replayed.as_ref().map(|r| r.store.key_space().counts());
        let name_of = |id: NodeId| {
            replayed
                .as_ref()
                .and_then(|r| r.members.by_id(id))
                .map(|m| m.name.clone())
        };
        Report {
            data_dir: dd.path.display().to_string(),
            lock: match &dd.lock {
                LockState::Free => "free".into(),
                LockState::InUse => "in use".into(),
                LockState::NoLockFile => "no lock file".into(),
                LockState::Unknown(why) => format!("unknown ({why})"),
            },
            name: dd.name.clone(),
            member_id: dd.member_id().map(hex),
            standby: dd.standby,
            term: hs.term,
            vote: (hs.vote != 0).then(|| hex(hs.vote)),
            vote_name: (hs.vote != 0).then(|| name_of(hs.vote)).flatten(),
            commit_index: hs.commit,
            snapshot_index: dd.log.snapshot.as_ref().map_or(0, |s| s.meta.index),
            applied_index: replayed.as_ref().map_or(0, |r| r.applied.0),
            store_index: replayed.as_ref().map(|r| r.store.index()),
            keys: counts.map(|c| c.total()),
            files: counts.map(|c| c.files),
            directories: counts.map(|c| c.dirs),
            members: replayed.as_ref().map(member_lines).unwrap_or_default(),
            config: replayed.as_ref().map(|r| r.config),
            snapshots: dd
                .log
                .snapshots
                .iter()
                .map(|s| SnapshotLine {
                    file: file_name(&s.path),
                    term: s.term,
                    index: s.index,
                    bytes: s.bytes,
                    ok: s.ok,
                })
                .collect(),
            wal_segments: dd
                .log
                .segments
                .iter()
                .map(|s| SegmentLine {
                    file: file_name(&s.path),
                    bytes: s.bytes,
                    used_bytes: s.used,
                    records: s.records,
                    entries: s.entries,
                    first_index: s.entry_range.map(|r| r.0),
                    last_index: s.entry_range.map(|r| r.1),
                })
                .collect(),
            problems,
        }
    }

    /// Something is wrong beyond a torn tail.
    pub fn damaged(&self) -> bool {
        self.problems.iter().any(|p| p.damage)
    }

    pub fn to_json(&self) -> String {
        // Strings and numbers only: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = self.write_text(&mut out);
        out
    }

    fn write_text(&self, out: &mut String) -> std::fmt::Result {
        let unknown = || "unknown".to_string();
        writeln!(out, "data dir      {} (lock: {})", self.data_dir, self.lock)?;
        writeln!(
            out,
            "name          {} (member id {}){}",
            self.name.clone().unwrap_or_else(unknown),
            self.member_id.clone().unwrap_or_else(unknown),
            if self.standby {
                ", waiting as a standby when it stopped"
            } else {
                ""
            }
        )?;
        let vote = match (&self.vote, &self.vote_name) {
            (Some(id), Some(name)) => format!("{name} ({id})"),
            (Some(id), None) => id.clone(),
            (None, _) => "none".into(),
        };
        writeln!(
            out,
            "raft          term {}, vote {vote}, commit {}",
            self.term, self.commit_index
        )?;
        writeln!(
            out,
            "applied       {} in the newest snapshot; {} after replaying the committed log \
             (what a restart applies)",
            self.snapshot_index, self.applied_index
        )?;
        match (self.store_index, self.keys, self.files, self.directories) {
            (Some(index), Some(keys), Some(files), Some(dirs)) => writeln!(
                out,
                "store         index {index}: {keys} keys ({files} files, {dirs} directories, \
                 hidden ones included)"
            )?,
            _ => writeln!(out, "store         cannot be rebuilt (see problems)")?,
        }
        writeln!(out, "members       {}", self.members.len())?;
        for m in &self.members {
            writeln!(
                out,
                "  {:<12} id {}  peer {}  client {}{}",
                m.name,
                m.id,
                m.peer_url,
                m.client_url,
                if m.voter { "  voter" } else { "" }
            )?;
        }
        if let Some(config) = &self.config {
            writeln!(out, "settings      {}", config.to_json())?;
        }
        writeln!(out, "snapshots     {}", self.snapshots.len())?;
        for s in &self.snapshots {
            writeln!(
                out,
                "  {}  term {}  index {}  {} bytes  {}",
                s.file,
                s.term,
                s.index,
                s.bytes,
                if s.ok { "ok" } else { "UNUSABLE" }
            )?;
        }
        writeln!(out, "wal segments  {}", self.wal_segments.len())?;
        for s in &self.wal_segments {
            let range = match (s.first_index, s.last_index) {
                (Some(first), Some(last)) => format!("entries {first}-{last} ({})", s.entries),
                _ => "no entries".into(),
            };
            writeln!(
                out,
                "  {}  {range}  {} records  {} of {} bytes used",
                s.file, s.records, s.used_bytes, s.bytes
            )?;
        }
        writeln!(out, "problems      {}", self.problems.len())?;
        for p in &self.problems {
            writeln!(
                out,
                "  {} at offset {}: {}: {}{}",
                p.file,
                p.offset,
                p.kind,
                p.reason,
                if p.damage {
                    ""
                } else {
                    " (cut off at the next start)"
                }
            )?;
        }
        Ok(())
    }
}

fn member_lines(state: &Replayed) -> Vec<MemberLine> {
    state
        .members
        .iter()
        .map(|m| MemberLine {
            name: m.name.clone(),
            id: hex(m.id),
            peer_url: m.peer_url.clone(),
            client_url: m.client_url.clone(),
            voter: state.voters.contains(&m.id),
        })
        .collect()
}

fn problem_line(p: &Problem) -> ProblemLine {
    ProblemLine {
        file: file_name(&p.file),
        offset: p.offset,
        kind: p.kind.as_str().into(),
        reason: p.reason.clone(),
        damage: p.is_damage(),
    }
}
