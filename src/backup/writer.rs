//! Writing a backup file from a copy of the data, in pieces of about
//! 256 KiB, so a large key space streams out as it is encoded (over HTTP,
//! or into a file). It runs on whatever thread calls it, never on the
//! state thread: that thread only takes the copy.

use std::io::{self, Write};

use super::format::{
    BackupMember, Header, Origin, RecordType, append_frame, encode_end, encode_node, preamble,
};
use crate::auth::AuthState;
use crate::membership::{ClusterConfig, Members};
use crate::raft::types::{Index, Term};
use crate::store::{KeySpace, UnixNanos, format_rfc3339};
use crate::wal::Crc32c;

/// Bytes gathered before they are handed to the output.
const PIECE: usize = 256 * 1024;
/// Progress is reported every this many nodes.
const PROGRESS_EVERY: u64 = 4096;

/// Everything a backup holds, copied at one applied index.
#[derive(Debug, Clone)]
pub struct Source {
    pub key_space: KeySpace,
    pub members: Members,
    pub config: ClusterConfig,
    /// Users, roles and the auth flag.
    pub auth: AuthState,
    /// The Raft index and term the copying machine had applied.
    pub raft_index: Index,
    pub raft_term: Term,
    /// The member whose copy this is.
    pub taken_by: String,
    pub taken_at: UnixNanos,
    pub origin: Origin,
}

impl Source {
    /// The header record this source is written with.
    pub fn header(&self) -> Header {
        Header {
            store_index: self.key_space.index(),
            raft_index: self.raft_index,
            raft_term: self.raft_term,
            taken_by: self.taken_by.clone(),
            taken_at: format_rfc3339(self.taken_at),
            origin: self.origin,
            nodes: self.key_space.counts().total(),
            members: self.members.iter().map(BackupMember::from).collect(),
            config: self.config,
            auth: self.auth.clone(),
            etcd_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub bytes: u64,
    pub nodes: u64,
    pub store_index: u64,
}

/// Writes the whole file to `out` (and flushes it). `progress` hears
/// `(nodes written, nodes in all)` every few thousand nodes.
pub fn write(
    out: &mut dyn Write,
    source: &Source,
    progress: &mut dyn FnMut(u64, u64),
) -> io::Result<Written> {
    let header = source.header();
    let total = header.nodes;
    let header_json = serde_json::to_vec(&header).map_err(io::Error::other)?;
    let mut file = Pieces {
        out,
        buf: Vec::with_capacity(PIECE + 4096),
        crc: Crc32c::new(),
        bytes: 0,
    };
    file.buf.extend_from_slice(&preamble());
    append_frame(&mut file.buf, RecordType::Header, |b| {
        b.extend_from_slice(&header_json)
    });
    let mut nodes = 0u64;
    source.key_space.try_for_each(|node| {
        append_frame(&mut file.buf, RecordType::Node, |b| encode_node(b, &node));
        nodes += 1;
        if nodes.is_multiple_of(PROGRESS_EVERY) {
            progress(nodes, total);
        }
        file.hand_over_if_full()
    })?;
    file.hand_over()?;
    // Not covered by the file checksum: the record carries it.
    let crc = file.crc.finish();
    append_frame(&mut file.buf, RecordType::End, |b| {
        encode_end(b, nodes, crc)
    });
    let end = std::mem::take(&mut file.buf);
    file.out.write_all(&end)?;
    file.out.flush()?;
    progress(nodes, total);
    Ok(Written {
        bytes: file.bytes + end.len() as u64,
        nodes,
        store_index: header.store_index,
    })
}

/// The output with a checksum running over everything handed to it.
struct Pieces<'a> {
    out: &'a mut dyn Write,
    buf: Vec<u8>,
    crc: Crc32c,
    bytes: u64,
}

impl Pieces<'_> {
    fn hand_over_if_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= PIECE {
            self.hand_over()?;
        }
        Ok(())
    }

    fn hand_over(&mut self) -> io::Result<()> {
        self.crc.update(&self.buf);
        self.out.write_all(&self.buf)?;
        self.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}
