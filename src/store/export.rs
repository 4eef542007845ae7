//! The key space as flat records, for backups: a copy of the tree taken on
//! the state thread (in O(1): it shares the tree's nodes) and walked on another
//! thread, parents before children; and a store built back from such
//! records.
//!
//! It holds no bytes and does no IO: the backup file format is `backup`'s.
//! The copy leaves out the event history, the counters and the watchers,
//! which belong to one machine's past rather than to the data; a store
//! built from a [`KeySpace`] starts its history after the copy's index.
//! Walking is iterative, so no depth of the tree can exhaust a small stack.

use std::fmt;

use super::history::EventHistory;
use super::key_store::Store;
use super::node::Node;
use super::path::KeyPath;
use super::time::UnixNanos;
use super::tree::Tree;

/// The deepest tree a store snapshot can be read back with: JSON snapshots
/// are nested, and serde_json refuses more than 128 levels of nesting
/// (three per level of the tree); the binary layout keeps the same limit so
/// both read back the same trees. A deeper tree is written fine but cannot
/// be restored, so `-restore` refuses it before writing a data dir.
pub const SNAPSHOT_DEPTH_LIMIT: usize = 41;

/// Every node of the tree (hidden ones included) at one store index.
#[derive(Debug, Clone)]
pub struct KeySpace {
    index: u64,
    root: Node,
}

/// One node as [`KeySpace::try_for_each`] shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRef<'a> {
    pub key: &'a str,
    /// `None` for a directory.
    pub value: Option<&'a str>,
    pub created_index: u64,
    pub modified_index: u64,
    pub expiration: Option<UnixNanos>,
}

/// One node for [`KeySpace::insert`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    pub key: KeyPath,
    /// `None` for a directory.
    pub value: Option<String>,
    pub created_index: u64,
    pub modified_index: u64,
    pub expiration: Option<UnixNanos>,
}

/// How many nodes a key space holds, the root not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeCounts {
    pub files: u64,
    pub dirs: u64,
}

impl NodeCounts {
    pub fn total(&self) -> u64 {
        self.files + self.dirs
    }
}

/// Why a record does not fit the key space built so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertError {
    /// The root exists already and has no record of its own.
    Root,
    /// Records come parents first; this one's parent was not seen.
    ParentMissing {
        key: String,
    },
    ParentNotADir {
        key: String,
    },
    Duplicate {
        key: String,
    },
    /// A node changed after the index the key space claims to be at.
    IndexAbove {
        key: String,
        index: u64,
        store_index: u64,
    },
}

impl fmt::Display for InsertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InsertError::Root => f.write_str("a record for the root directory"),
            InsertError::ParentMissing { key } => {
                write!(f, "{key} comes before its parent directory")
            }
            InsertError::ParentNotADir { key } => write!(f, "{key} is below a file"),
            InsertError::Duplicate { key } => write!(f, "{key} appears twice"),
            InsertError::IndexAbove {
                key,
                index,
                store_index,
            } => write!(
                f,
                "{key} has index {index}, above the store index {store_index}"
            ),
        }
    }
}

impl Store {
    /// A copy of the tree at the current index, to be walked elsewhere.
    pub fn key_space(&self) -> KeySpace {
        KeySpace {
            index: self.index,
            root: self.tree.root().clone(),
        }
    }
}

impl KeySpace {
    /// Nothing but the root, at `index`.
    pub fn empty(index: u64) -> KeySpace {
        KeySpace {
            index,
            root: Node::new_dir(0, None),
        }
    }

    /// The store index the copy was taken at.
    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn counts(&self) -> NodeCounts {
        let mut counts = NodeCounts::default();
        let mut stack: Vec<&Node> = vec![&self.root];
        while let Some(node) = stack.pop() {
            if let Some(children) = node.children() {
                for child in children.values() {
                    if child.is_dir() {
                        counts.dirs += 1;
                    } else {
                        counts.files += 1;
                    }
                    stack.push(child);
                }
            }
        }
        counts
    }

    /// The number of levels below the root (0 for an empty tree).
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack: Vec<(usize, &Node)> = vec![(0, &self.root)];
        while let Some((depth, node)) = stack.pop() {
            deepest = deepest.max(depth);
            if let Some(children) = node.children() {
                stack.extend(children.values().map(|child| (depth + 1, child)));
            }
        }
        deepest
    }

    /// Calls `visit` for every node but the root, each parent before its
    /// children and siblings in name order, until it fails.
    pub fn try_for_each<E>(
        &self,
        mut visit: impl FnMut(NodeRef<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut stack: Vec<(KeyPath, &Node)> = Vec::new();
        push_children(&mut stack, &KeyPath::root(), &self.root);
        while let Some((path, node)) = stack.pop() {
            visit(NodeRef {
                key: path.as_str(),
                value: node.value(),
                created_index: node.created_index,
                modified_index: node.modified_index,
                expiration: node.expiration,
            })?;
            push_children(&mut stack, &path, node);
        }
        Ok(())
    }

    /// The node at `key`, if any.
    pub fn find<'a>(&'a self, key: &'a KeyPath) -> Option<NodeRef<'a>> {
        let mut node = &self.root;
        for segment in key.segments() {
            node = node.children()?.get(segment)?;
        }
        Some(NodeRef {
            key: key.as_str(),
            value: node.value(),
            created_index: node.created_index,
            modified_index: node.modified_index,
            expiration: node.expiration,
        })
    }

    /// Adds one node below an existing directory.
    pub fn insert(&mut self, record: NodeRecord) -> Result<(), InsertError> {
        let key = || record.key.as_str().to_string();
        let Some(parent) = record.key.parent() else {
            return Err(InsertError::Root);
        };
        let highest = record.created_index.max(record.modified_index);
        if highest > self.index {
            return Err(InsertError::IndexAbove {
                key: key(),
                index: highest,
                store_index: self.index,
            });
        }
        let mut dir = &mut self.root;
        for segment in parent.segments() {
            let Some(children) = dir.children_mut() else {
                return Err(InsertError::ParentNotADir { key: key() });
            };
            dir = children
                .get_mut(segment)
                .ok_or_else(|| InsertError::ParentMissing { key: key() })?;
        }
        let Some(children) = dir.children_mut() else {
            return Err(InsertError::ParentNotADir { key: key() });
        };
        let name = record.key.name();
        if children.contains_key(name) {
            return Err(InsertError::Duplicate { key: key() });
        }
        let mut node = match record.value {
            Some(value) => Node::new_file(value, record.created_index, record.expiration),
            None => Node::new_dir(record.created_index, record.expiration),
        };
        node.modified_index = record.modified_index;
        children.insert(name.into(), node);
        Ok(())
    }

    /// Makes `dir` a directory holding exactly `files` (name, value), each
    /// carrying the key space's index and no TTL; missing parents are
    /// created the same way. Uses no index of its own: a restore rewrites
    /// `/_etcd/machines` with it, so the next write still gets the index
    /// after the backup's.
    pub fn replace_files_in(&mut self, dir: &KeyPath, files: &[(String, String)]) {
        let index = self.index;
        let mut node = &mut self.root;
        for segment in dir.segments() {
            if !node.is_dir() {
                *node = Node::new_dir(index, None);
            }
            let Some(children) = node.children_mut() else {
                return;
            };
            node = children
                .entry(segment.into())
                .or_insert_with(|| Node::new_dir(index, None));
        }
        if !node.is_dir() {
            *node = Node::new_dir(index, None);
        }
        if let Some(children) = node.children_mut() {
            children.clear();
            for (name, value) in files {
                children.insert(
                    name.as_str().into(),
                    Node::new_file(value.clone(), index, None),
                );
            }
        }
    }

    /// A store holding this tree at this index, with an empty history that
    /// starts at the next index and zeroed counters.
    pub fn into_store(self) -> Store {
        Store {
            tree: Tree::from_root(self.root),
            index: self.index,
            history: EventHistory::starting_at(self.index + 1),
            ..Store::default()
        }
    }
}

/// Pushed in reverse so that popping yields name order.
fn push_children<'a>(stack: &mut Vec<(KeyPath, &'a Node)>, path: &KeyPath, node: &'a Node) {
    if let Some(children) = node.children() {
        for (name, child) in children.iter().rev() {
            stack.push((path.child(name), child));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ErrorCode, StoreCommand, WatchOutcome};

    fn set(store: &mut Store, key: &str, value: &str, ttl: Option<i64>) {
        let cmd = StoreCommand::Set {
            key: KeyPath::parse(key),
            value: value.into(),
            dir: false,
            ttl,
        };
        store.apply(&cmd, 1_000_000_000).expect("set");
    }

    fn records(space: &KeySpace) -> Vec<NodeRecord> {
        let mut out = Vec::new();
        let walked: Result<(), ()> = space.try_for_each(|node| {
            out.push(NodeRecord {
                key: KeyPath::parse(node.key),
                value: node.value.map(str::to_string),
                created_index: node.created_index,
                modified_index: node.modified_index,
                expiration: node.expiration,
            });
            Ok(())
        });
        assert!(walked.is_ok());
        out
    }

    fn sample() -> Store {
        let mut store = Store::new();
        set(&mut store, "/b/x", "1", None);
        set(&mut store, "/a/_hidden", "2", None);
        set(&mut store, "/a/t", "3", Some(60));
        set(&mut store, "/b/x", "4", None);
        store
    }

    #[test]
    fn the_walk_is_parents_first_in_name_order_with_hidden_nodes() {
        let keys: Vec<String> = records(&sample().key_space())
            .into_iter()
            .map(|r| r.key.as_str().to_string())
            .collect();
        assert_eq!(keys, ["/a", "/a/_hidden", "/a/t", "/b", "/b/x"]);
    }

    #[test]
    fn records_rebuild_the_same_tree_with_indices_and_expirations() {
        let mut original = sample();
        let space = original.key_space();
        assert_eq!(space.counts(), NodeCounts { files: 3, dirs: 2 });
        let mut copy = KeySpace::empty(space.index());
        for record in records(&space) {
            copy.insert(record).expect("insert");
        }
        let mut restored = copy.into_store();
        assert_eq!(restored.index(), original.index());
        for key in ["/a/t", "/b/x", "/a/_hidden", "/a"] {
            let key = KeyPath::parse(key);
            let want = original.get(&key, true, true, 0).expect("original");
            let got = restored.get(&key, true, true, 0).expect("restored");
            assert_eq!(got.node, want.node, "{key:?}");
        }
        assert_eq!(restored.next_expiration(), original.next_expiration());
    }

    #[test]
    fn a_rebuilt_store_sends_older_watches_back_to_read_again() {
        let space = sample().key_space();
        let index = space.index();
        let mut store = space.into_store();
        let error = store.watch(&KeyPath::parse("/a"), true, false, Some(index));
        assert!(matches!(error, Err(ref e) if e.code == ErrorCode::EventIndexCleared));
        let next = store.watch(&KeyPath::parse("/a"), true, false, Some(index + 1));
        assert!(matches!(next, Ok(WatchOutcome::Waiting(_))));
        set(&mut store, "/a/new", "v", None);
        assert_eq!(store.index(), index + 1);
    }

    #[test]
    fn records_out_of_order_or_past_the_index_are_refused() {
        let mut space = KeySpace::empty(5);
        let file = |key: &str, index| NodeRecord {
            key: KeyPath::parse(key),
            value: Some("v".into()),
            created_index: index,
            modified_index: index,
            expiration: None,
        };
        assert!(matches!(
            space.insert(file("/a/b", 1)),
            Err(InsertError::ParentMissing { .. })
        ));
        assert_eq!(space.insert(file("/a", 1)), Ok(()));
        assert!(matches!(
            space.insert(file("/a", 2)),
            Err(InsertError::Duplicate { .. })
        ));
        assert!(matches!(
            space.insert(file("/a/b", 2)),
            Err(InsertError::ParentNotADir { .. })
        ));
        assert!(matches!(
            space.insert(file("/c", 6)),
            Err(InsertError::IndexAbove { .. })
        ));
        assert_eq!(space.insert(file("/", 1)), Err(InsertError::Root));
    }

    #[test]
    fn replacing_a_directory_uses_no_index() {
        let mut store = sample();
        set(&mut store, "/_etcd/machines/old1", "raft=a", None);
        set(&mut store, "/_etcd/machines/old2", "raft=b", None);
        let mut space = store.key_space();
        let index = space.index();
        let machines = KeyPath::parse("/_etcd/machines");
        space.replace_files_in(&machines, &[("new".into(), "raft=c".into())]);
        let key = KeyPath::parse("/_etcd/machines/new");
        let node = space.find(&key).expect("new entry");
        assert_eq!(node.value, Some("raft=c"));
        assert_eq!((node.created_index, node.modified_index), (index, index));
        assert!(
            space
                .find(&KeyPath::parse("/_etcd/machines/old1"))
                .is_none()
        );
        assert_eq!(space.into_store().index(), index);

        let mut empty = KeySpace::empty(9);
        empty.replace_files_in(&machines, &[("m".into(), "v".into())]);
        assert_eq!(empty.counts(), NodeCounts { files: 1, dirs: 2 });
    }

    fn chain(depth: usize) -> KeySpace {
        let mut space = KeySpace::empty(1);
        let mut key = String::new();
        for level in 1..=depth {
            key.push_str("/d");
            let value = (level == depth).then(|| "leaf".to_string());
            let record = NodeRecord {
                key: KeyPath::parse(&key),
                value,
                created_index: 1,
                modified_index: 1,
                expiration: Some(5),
            };
            space.insert(record).expect("insert");
        }
        space
    }

    #[test]
    fn the_depth_limit_is_where_snapshots_stop_reading_back() {
        assert_eq!(KeySpace::empty(0).depth(), 0);
        assert_eq!(sample().key_space().depth(), 2);
        let fits = chain(SNAPSHOT_DEPTH_LIMIT);
        assert_eq!(fits.depth(), SNAPSHOT_DEPTH_LIMIT);
        let bytes = fits.into_store().snapshot();
        assert!(Store::new().restore(&bytes).is_ok());
        // If this starts to pass, the snapshot encoding lost its limit:
        // raise the constant (or drop the check in `backup::restore`).
        let bytes = chain(SNAPSHOT_DEPTH_LIMIT + 1).into_store().snapshot();
        assert!(Store::new().restore(&bytes).is_err());
    }

    #[test]
    fn a_deep_tree_is_walked_without_recursion() {
        let mut space = KeySpace::empty(1);
        let mut key = String::new();
        for _ in 0..5000 {
            key.push_str("/d");
            space
                .insert(NodeRecord {
                    key: KeyPath::parse(&key),
                    value: None,
                    created_index: 1,
                    modified_index: 1,
                    expiration: None,
                })
                .expect("insert");
        }
        let mut seen = 0;
        let walked: Result<(), ()> = space.try_for_each(|_| {
            seen += 1;
            Ok(())
        });
        assert!(walked.is_ok());
        assert_eq!(seen, 5000);
        assert_eq!(space.counts().dirs, 5000);
        // Dropping a tree this deep recurses; a thread with room does it.
        std::mem::forget(space);
    }
}
