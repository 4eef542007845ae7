//! The key tree: path lookup with etcd's error causes, insertion with
//! implicit parents, subtree removal, and the index of pending expirations.

use super::error::{ErrorCode, EtcdError};
use super::node::{Children, Node};
use super::path::KeyPath;
use super::time::UnixNanos;
use std::collections::BTreeSet;

/// The root directory plus every node that has a TTL, ordered by
/// (expiration, path) so expiry order is the same on every machine.
#[derive(Debug, Clone)]
pub struct Tree {
    root: Node,
    expirations: BTreeSet<(UnixNanos, KeyPath)>,
}

impl Default for Tree {
    fn default() -> Self {
        // The root always exists and has no indices (shown without them).
        Tree::from_root(Node::new_dir(0, None))
    }
}

impl Tree {
    /// Adopts a root (from a snapshot) and rebuilds the expiration index.
    pub fn from_root(root: Node) -> Tree {
        let mut expirations = BTreeSet::new();
        collect_expirations(&root, &mut String::new(), &mut expirations);
        Tree { root, expirations }
    }

    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The node at `path`. Errors name the first file met on the way (104)
    /// or the first missing component (100), as 0.4.6 does.
    pub fn find(&self, path: &KeyPath, index: u64) -> Result<&Node, EtcdError> {
        let mut node = &self.root;
        for (depth, segment) in path.segments().enumerate() {
            let Some(children) = node.children() else {
                return Err(not_a_dir(path, depth, index));
            };
            node = children
                .get(segment)
                .ok_or_else(|| not_found(path, depth, index))?;
        }
        Ok(node)
    }

    /// Changes one node in place (value, indices, expiration; callers never
    /// touch a directory's children here); the expiration index follows.
    pub fn modify(
        &mut self,
        path: &KeyPath,
        index: u64,
        change: impl FnOnce(&mut Node),
    ) -> Result<(), EtcdError> {
        let old_expiration = self.find(path, index)?.expiration;
        let node = self.find_mut(path, index)?;
        change(node);
        let new_expiration = node.expiration;
        if old_expiration != new_expiration {
            if let Some(old) = old_expiration {
                self.expirations.remove(&(old, path.clone()));
            }
            if let Some(new) = new_expiration {
                self.expirations.insert((new, path.clone()));
            }
        }
        Ok(())
    }

    fn find_mut(&mut self, path: &KeyPath, index: u64) -> Result<&mut Node, EtcdError> {
        let mut node = &mut self.root;
        for (depth, segment) in path.segments().enumerate() {
            let Some(children) = node.children_mut() else {
                return Err(not_a_dir(path, depth, index));
            };
            node = children
                .get_mut(segment)
                .ok_or_else(|| not_found(path, depth, index))?;
        }
        Ok(node)
    }

    /// Makes sure `dir` exists as a directory, creating missing components
    /// with `new_index` (no TTL, no event of their own). A file on the way
    /// → 104 naming it; nothing is created in that case, because a file can
    /// only be met before the first missing component.
    pub fn ensure_dir(
        &mut self,
        dir: &KeyPath,
        new_index: u64,
        index: u64,
    ) -> Result<&mut Children, EtcdError> {
        let mut node = &mut self.root;
        for (depth, segment) in dir.segments().enumerate() {
            let Some(children) = node.children_mut() else {
                return Err(not_a_dir(dir, depth, index));
            };
            node = children
                .entry(segment.into())
                .or_insert_with(|| Node::new_dir(new_index, None));
        }
        let depth = dir.segments().count();
        node.children_mut()
            .ok_or_else(|| not_a_dir(dir, depth, index))
    }

    /// Puts `node` at `path` (its parent must already be a directory,
    /// see [`Tree::ensure_dir`]), dropping whatever was there.
    pub fn insert(&mut self, path: &KeyPath, node: Node, index: u64) -> Result<(), EtcdError> {
        let Some(parent) = path.parent() else {
            return Err(EtcdError::new(ErrorCode::RootReadOnly, "/", index));
        };
        self.remove(path);
        let expiration = node.expiration;
        self.ensure_dir(&parent, index, index)?
            .insert(path.name().into(), node);
        if let Some(expiration) = expiration {
            self.expirations.insert((expiration, path.clone()));
        }
        Ok(())
    }

    /// Removes the node at `path` with its subtree. Returns it and the paths
    /// of every removed node (hidden ones included) so watchers on any of
    /// them can be told.
    pub fn remove(&mut self, path: &KeyPath) -> Option<(Node, Vec<KeyPath>)> {
        let parent = path.parent()?;
        let children = self.find_mut(&parent, 0).ok()?.children_mut()?;
        let removed = children.remove(path.name())?;
        let mut paths = Vec::new();
        removed.walk(path, &mut |node_path, node| {
            if let Some(expiration) = node.expiration {
                self.expirations.remove(&(expiration, node_path.clone()));
            }
            paths.push(node_path.clone());
        });
        Some((removed, paths))
    }

    /// Drops one entry of the expiration index whose node is gone or
    /// cannot be removed (the root), so expiry can never loop on it.
    pub fn forget_expiration(&mut self, entry: &(UnixNanos, KeyPath)) {
        self.expirations.remove(entry);
    }

    /// The earliest pending expiration and its node.
    pub fn next_expiration(&self) -> Option<&(UnixNanos, KeyPath)> {
        self.expirations.first()
    }

    #[cfg(any(test, feature = "fuzzing"))]
    pub fn expiration_index_is_consistent(&self) -> bool {
        Tree::from_root(self.root.clone()).expirations == self.expirations
    }
}

/// Adds every node with a TTL at or below `node` (whose path is `path`,
/// empty for the root) to `into`. A start walks the whole tree once: the
/// path is grown and cut in one buffer and made a `KeyPath` only for the
/// few nodes that expire.
fn collect_expirations(node: &Node, path: &mut String, into: &mut BTreeSet<(UnixNanos, KeyPath)>) {
    if let Some(expiration) = node.expiration {
        into.insert((expiration, KeyPath::parse(path)));
    }
    if let Some(children) = node.children() {
        for (name, child) in children {
            let len = path.len();
            path.push('/');
            path.push_str(name);
            collect_expirations(child, path, into);
            path.truncate(len);
        }
    }
}

/// 104 naming the file met after `depth` segments of `path`.
fn not_a_dir(path: &KeyPath, depth: usize, index: u64) -> EtcdError {
    EtcdError::new(ErrorCode::NotDir, path.prefix(depth).as_str(), index)
}

/// 100 naming the first missing component, segment number `depth`.
fn not_found(path: &KeyPath, depth: usize, index: u64) -> EtcdError {
    EtcdError::new(
        ErrorCode::KeyNotFound,
        path.prefix(depth + 1).as_str(),
        index,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> KeyPath {
        KeyPath::parse(raw)
    }

    #[test]
    fn missing_component_error_names_first_missing() {
        let tree = Tree::default();
        let error = tree.find(&key("/a/b/c"), 2).unwrap_err();
        assert_eq!(error, EtcdError::new(ErrorCode::KeyNotFound, "/a", 2));
    }

    #[test]
    fn file_on_the_way_error_names_the_file() {
        let mut tree = Tree::default();
        tree.insert(&key("/foo"), Node::new_file("x".into(), 1, None), 0)
            .unwrap();
        let error = tree.find(&key("/foo/bar/baz"), 1).unwrap_err();
        assert_eq!(error, EtcdError::new(ErrorCode::NotDir, "/foo", 1));
        let error = tree.ensure_dir(&key("/foo/bar"), 2, 1).unwrap_err();
        assert_eq!(error, EtcdError::new(ErrorCode::NotDir, "/foo", 1));
    }

    #[test]
    fn removal_reports_every_path_in_the_subtree_and_clears_ttls() {
        let mut tree = Tree::default();
        tree.insert(&key("/d/a"), Node::new_file("1".into(), 1, Some(10)), 1)
            .unwrap();
        tree.insert(&key("/d/_h"), Node::new_file("2".into(), 2, Some(5)), 2)
            .unwrap();
        assert_eq!(tree.next_expiration(), Some(&(5, key("/d/_h"))));
        let (_, paths) = tree.remove(&key("/d")).unwrap();
        assert_eq!(paths, vec![key("/d"), key("/d/_h"), key("/d/a")]);
        assert_eq!(tree.next_expiration(), None);
        assert!(tree.expiration_index_is_consistent());
    }

    #[test]
    fn root_cannot_be_removed_or_replaced() {
        let mut tree = Tree::default();
        assert!(tree.remove(&KeyPath::root()).is_none());
        let error = tree
            .insert(&KeyPath::root(), Node::new_file("x".into(), 1, Some(1)), 0)
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::RootReadOnly);
        assert!(tree.root().is_dir());
        assert!(tree.expiration_index_is_consistent());
    }
}
