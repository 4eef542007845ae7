//! One node of the key tree (file or directory) and how it is shown.

use super::event::NodeView;
use super::path::KeyPath;
use super::text::Text;
use super::time::{UnixNanos, seconds_left};
use serde::{Deserialize, Serialize};

/// A directory's children by their last path segment, sorted so listings
/// and snapshots come out in byte order of the names on every machine.
///
/// A persistent B-tree: cloning a directory is O(1) and shares every node
/// until one side changes it, when only the path to the change is copied.
/// That is what lets a snapshot take the whole tree on the state thread in
/// no time and leave its encoding to the snapshot thread while writes go on
/// (encoding 200 000 keys in place stalled every request for 12-37 ms). It
/// costs about 33 bytes more per key than `std::collections::BTreeMap`
/// (`cargo bench --bench store`: 275 against 242).
pub type Children = imbl::OrdMap<Text, Node>;

/// A file holds a value; a directory holds children by name. Both are kept
/// small (see `text.rs`): a map is two words, and names and short values
/// live inside their `Text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeKind {
    File(Text),
    Dir(Children),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub created_index: u64,
    pub modified_index: u64,
    pub expiration: Option<UnixNanos>,
    pub kind: NodeKind,
}

/// How much of a directory's subtree a view includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// The node alone (prevNode, write results).
    Bare,
    /// Direct children, child directories without their own children.
    Children,
    /// The whole visible subtree.
    Recursive,
}

impl Node {
    pub fn new_file(value: String, index: u64, expiration: Option<UnixNanos>) -> Node {
        Node {
            created_index: index,
            modified_index: index,
            expiration,
            kind: NodeKind::File(value.into()),
        }
    }

    pub fn new_dir(index: u64, expiration: Option<UnixNanos>) -> Node {
        Node {
            created_index: index,
            modified_index: index,
            expiration,
            kind: NodeKind::Dir(Children::new()),
        }
    }

    pub fn is_dir(&self) -> bool {
        matches!(self.kind, NodeKind::Dir(_))
    }

    pub fn value(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::File(value) => Some(value),
            NodeKind::Dir(_) => None,
        }
    }

    pub fn children(&self) -> Option<&Children> {
        match &self.kind {
            NodeKind::Dir(children) => Some(children),
            NodeKind::File(_) => None,
        }
    }

    pub fn children_mut(&mut self) -> Option<&mut Children> {
        match &mut self.kind {
            NodeKind::Dir(children) => Some(children),
            NodeKind::File(_) => None,
        }
    }

    /// The node as clients see it at `now`. Hidden children (name starting
    /// with `_`) are skipped, and so is everything under them.
    pub fn view(&self, path: &KeyPath, now: UnixNanos, listing: Listing) -> NodeView {
        let ttl = self
            .expiration
            .map(|expiration| seconds_left(expiration, now))
            .filter(|ttl| *ttl != 0);
        let nodes = match (&self.kind, listing) {
            (NodeKind::Dir(children), Listing::Children | Listing::Recursive) => {
                let child_listing = if listing == Listing::Recursive {
                    Listing::Recursive
                } else {
                    Listing::Bare
                };
                let listed: Vec<NodeView> = children
                    .iter()
                    .filter(|(name, _)| !name.starts_with('_'))
                    .map(|(name, child)| child.view(&path.child(name), now, child_listing))
                    .collect();
                // An empty or all-hidden directory has no `nodes` at all.
                (!listed.is_empty()).then_some(listed)
            }
            _ => None,
        };
        NodeView {
            key: path.as_str().to_string(),
            value: self.value().map(str::to_string),
            dir: self.is_dir(),
            expiration: self.expiration,
            ttl,
            nodes,
            modified_index: self.modified_index,
            created_index: self.created_index,
        }
    }

    /// Calls `visit` for this node and every descendant (hidden ones too),
    /// parents before children, in name order.
    pub fn walk(&self, path: &KeyPath, visit: &mut dyn FnMut(&KeyPath, &Node)) {
        visit(path, self);
        if let Some(children) = self.children() {
            for (name, child) in children {
                child.walk(&path.child(name), visit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(children: Vec<(&str, Node)>) -> Node {
        let mut dir = Node::new_dir(1, None);
        if let Some(map) = dir.children_mut() {
            for (name, child) in children {
                map.insert(name.into(), child);
            }
        }
        dir
    }

    #[test]
    fn bare_view_of_dir_has_no_children() {
        let dir = dir_with(vec![("a", Node::new_file("x".into(), 2, None))]);
        let view = dir.view(&KeyPath::parse("/d"), 0, Listing::Bare);
        assert!(view.dir);
        assert_eq!(view.nodes, None);
        assert_eq!(view.value, None);
    }

    #[test]
    fn children_listing_skips_grandchildren_and_hidden() {
        let sub = dir_with(vec![("deep", Node::new_file("1".into(), 3, None))]);
        let dir = dir_with(vec![
            ("_hidden", Node::new_file("h".into(), 2, None)),
            ("sub", sub),
        ]);
        let view = dir.view(&KeyPath::parse("/d"), 0, Listing::Children);
        let nodes = view.nodes.unwrap();
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].key, "/d/sub");
        assert_eq!(nodes[0].nodes, None);
    }

    #[test]
    fn ttl_is_seconds_left_and_omitted_at_zero() {
        let file = Node::new_file("v".into(), 1, Some(5_000_000_000));
        assert_eq!(
            file.view(&KeyPath::parse("/t"), 0, Listing::Bare).ttl,
            Some(5)
        );
        assert_eq!(
            file.view(&KeyPath::parse("/t"), 5_000_000_000, Listing::Bare)
                .ttl,
            None
        );
    }
}
