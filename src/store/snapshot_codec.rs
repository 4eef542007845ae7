//! The store's snapshot bytes: a binary walk of the tree, so that taking a
//! snapshot and starting from one cost little more than copying the bytes.
//! JSON (what snapshots held before) spent 195 bytes and a full parse per
//! key, which made a restart with a million keys take seconds.
//!
//! Layout, every integer little-endian:
//!
//! ```text
//! MAGIC (8 bytes)  index u64
//! stats    u32 length + JSON     (counters: small, and their JSON is stable)
//! history  u32 length + JSON     (the last 1000 events: small)
//! root     node
//! node:    created u64  modified u64  flags u8 (1 dir, 2 has expiration)
//!          [expiration i64]
//!          file: u32 length + value bytes
//!          dir:  u32 count, then count × (u32 length + name bytes, node),
//!                names in strictly increasing byte order
//! ```
//!
//! The first byte of MAGIC is 0, which no JSON document starts with, so
//! `decode` tells this layout from an older JSON snapshot by looking.
//! Decoding checks every length, UTF-8, name order and depth: the bytes may
//! come from a peer.

use super::export::SNAPSHOT_DEPTH_LIMIT;
use super::history::EventHistory;
use super::node::{Children, Node, NodeKind};
use super::stats::StoreStats;
use super::text::Text;

const MAGIC: &[u8; 8] = b"\0etcd-s1";
const DIR: u8 = 1;
const HAS_EXPIRATION: u8 = 2;

/// What a snapshot holds.
#[derive(Debug)]
pub(super) struct Parts {
    pub index: u64,
    pub root: Node,
    pub history: EventHistory,
    pub stats: StoreStats,
}

/// Whether `bytes` are in this layout (rather than an older JSON snapshot).
pub(super) fn is_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Appends the snapshot of the store to `out` (which may already hold a
/// header of the caller's, and should have room reserved for the rest).
pub(super) fn encode(
    mut out: Vec<u8>,
    index: u64,
    root: &Node,
    history: &EventHistory,
    stats: &StoreStats,
) -> Vec<u8> {
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&index.to_le_bytes());
    // Counters and events are plain data: serialising them cannot fail.
    put_bytes(&mut out, &serde_json::to_vec(stats).unwrap_or_default());
    put_bytes(&mut out, &serde_json::to_vec(history).unwrap_or_default());
    put_node(&mut out, root);
    out
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Keys and values arrive in HTTP bodies capped far below 4 GiB.
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn put_node(out: &mut Vec<u8>, node: &Node) {
    out.extend_from_slice(&node.created_index.to_le_bytes());
    out.extend_from_slice(&node.modified_index.to_le_bytes());
    let mut flags = 0;
    if node.is_dir() {
        flags |= DIR;
    }
    if node.expiration.is_some() {
        flags |= HAS_EXPIRATION;
    }
    out.push(flags);
    if let Some(expiration) = node.expiration {
        out.extend_from_slice(&expiration.to_le_bytes());
    }
    match &node.kind {
        NodeKind::File(value) => put_bytes(out, value.as_bytes()),
        NodeKind::Dir(children) => {
            out.extend_from_slice(&(children.len() as u32).to_le_bytes());
            for (name, child) in children.iter() {
                put_bytes(out, name.as_bytes());
                put_node(out, child);
            }
        }
    }
}

pub(super) fn decode(bytes: &[u8]) -> Result<Parts, String> {
    let mut reader = Reader { bytes, at: 0 };
    if reader.take(MAGIC.len())? != MAGIC {
        return Err("not a binary store snapshot".to_string());
    }
    let index = reader.u64()?;
    let stats: StoreStats = serde_json::from_slice(reader.blob()?)
        .map_err(|e| format!("store counters do not parse: {e}"))?;
    let history: EventHistory = serde_json::from_slice(reader.blob()?)
        .map_err(|e| format!("event history does not parse: {e}"))?;
    let root = reader.node(0)?;
    if reader.at != bytes.len() {
        return Err(format!("{} bytes after the tree", bytes.len() - reader.at));
    }
    Ok(Parts {
        index,
        root,
        history,
        stats,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<usize, String> {
        Ok(u32::from_le_bytes(self.array()?) as usize)
    }

    fn blob(&mut self) -> Result<&'a [u8], String> {
        let len = self.u32()?;
        self.take(len)
    }

    fn text(&mut self) -> Result<&'a str, String> {
        let at = self.at;
        std::str::from_utf8(self.blob()?).map_err(|_| format!("invalid UTF-8 at byte {at}"))
    }

    /// A node `depth` levels below the root.
    fn node(&mut self, depth: usize) -> Result<Node, String> {
        if depth > SNAPSHOT_DEPTH_LIMIT {
            return Err(format!(
                "the tree is deeper than {SNAPSHOT_DEPTH_LIMIT} levels"
            ));
        }
        let created_index = self.u64()?;
        let modified_index = self.u64()?;
        let [flags] = self.array()?;
        if flags & !(DIR | HAS_EXPIRATION) != 0 {
            return Err(format!("unknown node flags {flags:#x}"));
        }
        let expiration = if flags & HAS_EXPIRATION != 0 {
            Some(i64::from_le_bytes(self.array()?))
        } else {
            None
        };
        let kind = if flags & DIR != 0 {
            NodeKind::Dir(self.children(depth)?)
        } else {
            NodeKind::File(self.text()?.into())
        };
        Ok(Node {
            created_index,
            modified_index,
            expiration,
            kind,
        })
    }

    fn children(&mut self, depth: usize) -> Result<Children, String> {
        let count = self.u32()?;
        // Straight into the map: a list of the children first would be a
        // second copy of the largest directory while a start reads it.
        let mut children = Children::new();
        let mut last: Option<&str> = None;
        for _ in 0..count {
            let name = self.text()?;
            if last.is_some_and(|last| name <= last) {
                return Err(format!("child {name:?} is out of order"));
            }
            last = Some(name);
            let child = self.node(depth + 1)?;
            children.insert(Text::from(name), child);
        }
        Ok(children)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(value: &str, index: u64, expiration: Option<i64>) -> Node {
        Node::new_file(value.to_string(), index, expiration)
    }

    fn sample() -> Node {
        let mut root = Node::new_dir(0, None);
        let mut dir = Node::new_dir(2, Some(-5));
        let children = dir.children_mut().unwrap();
        children.insert("a".into(), file("", 3, None));
        children.insert("_h".into(), file("é\"\n", 4, Some(i64::MAX)));
        let top = root.children_mut().unwrap();
        top.insert("d".into(), dir);
        top.insert("f".into(), file("v", 1, None));
        root
    }

    #[test]
    fn round_trips_tree_indices_expirations_and_odd_values() {
        let bytes = encode(
            Vec::new(),
            7,
            &sample(),
            &EventHistory::default(),
            &StoreStats::default(),
        );
        assert!(is_binary(&bytes));
        let parts = decode(&bytes).unwrap();
        assert_eq!(parts.index, 7);
        assert_eq!(parts.root, sample());
        assert_eq!(parts.history, EventHistory::default());
    }

    #[test]
    fn a_json_snapshot_from_before_the_binary_layout_still_restores() {
        use super::super::key_store::Store;
        use super::super::path::KeyPath;
        let json = br#"{"index":3,"root":{"created_index":0,"modified_index":0,"expiration":null,"kind":{"Dir":{"k":{"created_index":3,"modified_index":3,"expiration":null,"kind":{"File":"v"}}}}},"history":{"events":[]},"stats":{"getsSuccess":0,"getsFail":0,"setsSuccess":1,"setsFail":0,"deleteSuccess":0,"deleteFail":0,"updateSuccess":0,"updateFail":0,"createSuccess":0,"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0}}"#;
        let mut store = Store::new();
        store.restore(json).unwrap();
        assert_eq!(store.index(), 3);
        let event = store.get(&KeyPath::parse("/k"), false, false, 0).unwrap();
        assert_eq!(event.node.value.as_deref(), Some("v"));
        // Written back in the binary layout, it reads back the same.
        let mut again = Store::new();
        again.restore(&store.snapshot()).unwrap();
        assert_eq!(again.snapshot(), store.snapshot());
        assert_eq!(again.stats(), store.stats());
    }

    #[test]
    fn every_truncation_and_trailing_garbage_is_refused() {
        let bytes = encode(
            Vec::new(),
            7,
            &sample(),
            &EventHistory::default(),
            &StoreStats::default(),
        );
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len]).is_err(), "truncated to {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
    }

    #[test]
    fn names_out_of_order_bad_utf8_and_unknown_flags_are_refused() {
        let bytes = encode(
            Vec::new(),
            7,
            &sample(),
            &EventHistory::default(),
            &StoreStats::default(),
        );
        // The root's children are "d" then "f": make the second one "a".
        let at = bytes.windows(5).position(|w| w == b"\x01\0\0\0f").unwrap() + 4;
        let mut swapped = bytes.clone();
        swapped[at] = b'a';
        assert!(decode(&swapped).unwrap_err().contains("out of order"));
        let mut invalid = bytes.clone();
        invalid[at] = 0xff;
        assert!(decode(&invalid).unwrap_err().contains("UTF-8"));
        // The root's flags byte follows the header and two indices.
        let header = MAGIC.len() + 8;
        let stats_len = u32::from_le_bytes(bytes[header..header + 4].try_into().unwrap()) as usize;
        let history_at = header + 4 + stats_len;
        let history_len =
            u32::from_le_bytes(bytes[history_at..history_at + 4].try_into().unwrap()) as usize;
        let flags_at = history_at + 4 + history_len + 16;
        let mut flagged = bytes;
        flagged[flags_at] |= 0x80;
        assert!(decode(&flagged).unwrap_err().contains("flags"));
    }
}
