//! Building a store from state kept elsewhere (an etcd 0.4 data dir taken
//! over at start-up): nodes with the indices and expirations they already
//! have, the event history as it was, and the counters.
//!
//! Nothing here is computed from a clock or an index counter: the caller
//! says what each node is. It never parses a foreign format; the caller
//! decodes that and hands over plain values.

use std::fmt;

use super::event::Event;
use super::key_store::Store;
use super::node::Node;
use super::path::KeyPath;
use super::stats::StoreStats;
use super::time::UnixNanos;

/// Adds nodes parents first, then events oldest first; `finish` sets the
/// store index.
#[derive(Debug, Default)]
pub struct StoreBuilder {
    store: Store,
}

/// Why a node cannot be placed where the caller asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// The root always exists and has no indices of its own.
    Root,
    /// Parents must be added before their children.
    ParentMissing(KeyPath),
    /// The parent is a file.
    ParentIsFile(KeyPath),
    /// Something was already added at this path.
    Exists(KeyPath),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Root => write!(f, "the root directory cannot be added"),
            ImportError::ParentMissing(path) => {
                write!(f, "{path}: its parent directory was not added first")
            }
            ImportError::ParentIsFile(path) => write!(f, "{path}: its parent is a file"),
            ImportError::Exists(path) => write!(f, "{path}: added twice"),
        }
    }
}

impl StoreBuilder {
    pub fn new() -> StoreBuilder {
        StoreBuilder::default()
    }

    /// A directory (empty until children are added under it).
    pub fn dir(
        &mut self,
        path: &KeyPath,
        created_index: u64,
        modified_index: u64,
        expiration: Option<UnixNanos>,
    ) -> Result<(), ImportError> {
        let mut node = Node::new_dir(created_index, expiration);
        node.modified_index = modified_index;
        self.place(path, node)
    }

    /// A file.
    pub fn file(
        &mut self,
        path: &KeyPath,
        value: String,
        created_index: u64,
        modified_index: u64,
        expiration: Option<UnixNanos>,
    ) -> Result<(), ImportError> {
        let mut node = Node::new_file(value, created_index, expiration);
        node.modified_index = modified_index;
        self.place(path, node)
    }

    /// The next event of the history, oldest first (the newest 1000 stay).
    pub fn event(&mut self, event: Event) {
        self.store.history.push(event);
    }

    /// The counters of `/v2/stats/store` (`watchers` is never kept).
    pub fn stats(&mut self, stats: StoreStats) {
        self.store.stats = StoreStats {
            watchers: 0,
            ..stats
        };
    }

    pub fn finish(mut self, index: u64) -> Store {
        self.store.index = index;
        self.store
    }

    fn place(&mut self, path: &KeyPath, node: Node) -> Result<(), ImportError> {
        let parent = path.parent().ok_or(ImportError::Root)?;
        let tree = &mut self.store.tree;
        match tree.find(&parent, 0) {
            Err(_) => return Err(ImportError::ParentMissing(path.clone())),
            Ok(p) if !p.is_dir() => return Err(ImportError::ParentIsFile(path.clone())),
            Ok(_) => {}
        }
        if tree.find(path, 0).is_ok() {
            return Err(ImportError::Exists(path.clone()));
        }
        // The parent exists as a directory, so this only links the node in
        // (and indexes its expiration); it cannot fail.
        tree.insert(path, node, 0)
            .map_err(|_| ImportError::ParentMissing(path.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Action, NodeView};

    fn key(raw: &str) -> KeyPath {
        KeyPath::parse(raw)
    }

    #[test]
    fn nodes_keep_the_indices_and_expirations_given() {
        let mut b = StoreBuilder::new();
        b.dir(&key("/d"), 3, 7, Some(9_000)).unwrap();
        b.file(&key("/d/f"), "v".into(), 4, 4, None).unwrap();
        b.file(&key("/foo"), "baz".into(), 6, 6, None).unwrap();
        let mut store = b.finish(96);
        assert_eq!(store.index(), 96);
        assert_eq!(store.next_expiration(), Some(9_000));
        let root = store.get(&key("/"), true, true, 0).unwrap();
        let nodes = root.node.nodes.unwrap();
        assert_eq!(
            (
                nodes[0].created_index,
                nodes[0].modified_index,
                nodes[0].expiration
            ),
            (3, 7, Some(9_000))
        );
        assert_eq!(
            nodes[1].to_json(),
            r#"{"key":"/foo","value":"baz","modifiedIndex":6,"createdIndex":6}"#
        );
    }

    #[test]
    fn children_need_a_directory_added_first() {
        let mut b = StoreBuilder::new();
        assert_eq!(
            b.file(&key("/a/b"), "x".into(), 1, 1, None),
            Err(ImportError::ParentMissing(key("/a/b")))
        );
        b.file(&key("/a"), "x".into(), 1, 1, None).unwrap();
        assert_eq!(
            b.file(&key("/a/b"), "x".into(), 2, 2, None),
            Err(ImportError::ParentIsFile(key("/a/b")))
        );
        assert_eq!(
            b.dir(&key("/a"), 3, 3, None),
            Err(ImportError::Exists(key("/a")))
        );
        assert_eq!(b.dir(&key("/"), 0, 0, None), Err(ImportError::Root));
    }

    #[test]
    fn history_and_counters_are_taken_as_given() {
        let mut b = StoreBuilder::new();
        b.file(&key("/k"), "1".into(), 1, 1, None).unwrap();
        let node = NodeView {
            key: "/k".into(),
            value: Some("1".into()),
            dir: false,
            expiration: None,
            ttl: None,
            nodes: None,
            modified_index: 1,
            created_index: 1,
        };
        b.event(Event {
            action: Action::Set,
            node,
            prev_node: None,
            index: 1,
        });
        b.stats(StoreStats {
            sets_success: 5,
            watchers: 3,
            ..StoreStats::default()
        });
        let mut store = b.finish(1);
        assert_eq!(store.stats().sets_success, 5);
        assert_eq!(store.stats().watchers, 0);
        match store.watch(&key("/k"), false, false, Some(1)).unwrap() {
            crate::store::WatchOutcome::Ready(e) => assert_eq!(e.index, 1),
            other => panic!("expected the event from history, got {other:?}"),
        }
    }
}
