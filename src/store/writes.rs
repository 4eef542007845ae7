//! Applying the replicated write commands to the tree, with 0.4.6's rules
//! for indices, TTLs, errors and result shapes.

use super::command::StoreCommand;
use super::error::{ErrorCode, EtcdError};
use super::event::{Action, Event};
use super::key_store::{Store, removed_node_view};
use super::node::{Listing, Node, NodeKind};
use super::path::KeyPath;
use super::time::{UnixNanos, expiry_after};

/// A successful write: its event and the paths of the nodes it removed.
type Written = (Event, Vec<KeyPath>);

/// Which counter pair a command feeds.
#[derive(Clone, Copy)]
enum Counter {
    Set,
    Create,
    Update,
    CompareAndSwap,
    Delete,
    CompareAndDelete,
}

impl Store {
    /// Applies one committed command at the leader's time `now`. On success
    /// the index moves by exactly one, the event enters the history and the
    /// watchers; on failure nothing changes but the failure counter.
    pub fn apply(&mut self, command: &StoreCommand, now: UnixNanos) -> Result<Event, EtcdError> {
        let (counter, outcome) = match command {
            StoreCommand::Set {
                key,
                value,
                dir,
                ttl,
            } => (
                Counter::Set,
                self.put_node(key, value, *dir, *ttl, now, Action::Set),
            ),
            StoreCommand::Create {
                key,
                value,
                dir,
                ttl,
                in_order,
            } => {
                let target = if *in_order {
                    // Zero-padded so that byte order is numeric order.
                    key.join(&format!("{:020}", self.index + 1))
                } else {
                    key.clone()
                };
                (
                    Counter::Create,
                    self.put_node(&target, value, *dir, *ttl, now, Action::Create),
                )
            }
            StoreCommand::Update { key, value, ttl } => {
                (Counter::Update, self.update(key, value, *ttl, now))
            }
            StoreCommand::CompareAndSwap {
                key,
                value,
                ttl,
                prev_value,
                prev_index,
            } => (
                Counter::CompareAndSwap,
                self.compare_and_swap(key, value, *ttl, prev_value.as_deref(), *prev_index, now),
            ),
            StoreCommand::Delete {
                key,
                dir,
                recursive,
            } => (Counter::Delete, self.delete(key, *dir, *recursive, now)),
            StoreCommand::CompareAndDelete {
                key,
                prev_value,
                prev_index,
            } => (
                Counter::CompareAndDelete,
                self.compare_and_delete(key, prev_value.as_deref(), *prev_index, now),
            ),
        };
        self.count(counter, outcome.is_ok());
        let (event, removed) = outcome?;
        self.index = event.index;
        self.record(&event, &removed);
        Ok(event)
    }

    fn count(&mut self, counter: Counter, success: bool) {
        let stats = &mut self.stats;
        let slot = match (counter, success) {
            (Counter::Set, true) => &mut stats.sets_success,
            (Counter::Set, false) => &mut stats.sets_fail,
            (Counter::Create, true) => &mut stats.create_success,
            (Counter::Create, false) => &mut stats.create_fail,
            (Counter::Update, true) => &mut stats.update_success,
            (Counter::Update, false) => &mut stats.update_fail,
            (Counter::CompareAndSwap, true) => &mut stats.compare_and_swap_success,
            (Counter::CompareAndSwap, false) => &mut stats.compare_and_swap_fail,
            (Counter::Delete, true) => &mut stats.delete_success,
            (Counter::Delete, false) => &mut stats.delete_fail,
            (Counter::CompareAndDelete, true) => &mut stats.compare_and_delete_success,
            (Counter::CompareAndDelete, false) => &mut stats.compare_and_delete_fail,
        };
        *slot += 1;
    }

    /// set and create: a brand-new node at `key` (missing parents become
    /// directories with the same index). set may replace a file (never a
    /// directory, 102); create refuses anything existing (105).
    fn put_node(
        &mut self,
        key: &KeyPath,
        value: &str,
        dir: bool,
        ttl: Option<i64>,
        now: UnixNanos,
        action: Action,
    ) -> Result<Written, EtcdError> {
        if key.is_root() {
            return Err(self.root_read_only());
        }
        let current = self.index;
        let next = current + 1;
        let parent = key.parent().unwrap_or_else(KeyPath::root);
        // Parents are created first; the checks below can only fail when the
        // parents already existed, so a failed write never leaves new dirs.
        self.tree.ensure_dir(&parent, next, current)?;
        let prev_node = match self.tree.find(key, current) {
            Ok(_) if action == Action::Create => {
                return Err(EtcdError::new(ErrorCode::NodeExist, key.as_str(), current));
            }
            Ok(existing) if existing.is_dir() => {
                return Err(EtcdError::new(ErrorCode::NotFile, key.as_str(), current));
            }
            Ok(existing) => Some(existing.view(key, now, Listing::Bare)),
            Err(_) => None,
        };
        let expiration = ttl.map(|seconds| expiry_after(now, seconds));
        let node = if dir {
            Node::new_dir(next, expiration)
        } else {
            Node::new_file(value.to_string(), next, expiration)
        };
        let view = node.view(key, now, Listing::Bare);
        self.tree.insert(key, node, next)?;
        let event = Event {
            action,
            node: view,
            prev_node,
            index: next,
        };
        Ok((event, Vec::new()))
    }

    /// update: new value (even empty) and TTL (none → removed) on an
    /// existing node. A directory only takes a TTL; its result shows the new
    /// modifiedIndex while the stored one stays (0.4.6 quirk).
    fn update(
        &mut self,
        key: &KeyPath,
        value: &str,
        ttl: Option<i64>,
        now: UnixNanos,
    ) -> Result<Written, EtcdError> {
        if key.is_root() {
            return Err(self.root_read_only());
        }
        let current = self.index;
        let next = current + 1;
        let existing = self.tree.find(key, current)?;
        let is_dir = existing.is_dir();
        if is_dir && !value.is_empty() {
            return Err(EtcdError::new(ErrorCode::NotFile, key.as_str(), current));
        }
        let prev_node = existing.view(key, now, Listing::Bare);
        let expiration = ttl.map(|seconds| expiry_after(now, seconds));
        self.tree.modify(key, current, |node| {
            node.expiration = expiration;
            if !is_dir {
                node.kind = NodeKind::File(value.into());
                node.modified_index = next;
            }
        })?;
        let mut view = self.tree.find(key, current)?.view(key, now, Listing::Bare);
        view.modified_index = next;
        let event = Event {
            action: Action::Update,
            node: view,
            prev_node: Some(prev_node),
            index: next,
        };
        Ok((event, Vec::new()))
    }

    /// compareAndSwap: on a file whose value / modifiedIndex match, replace
    /// the value and the TTL (none → removed); createdIndex is kept.
    fn compare_and_swap(
        &mut self,
        key: &KeyPath,
        value: &str,
        ttl: Option<i64>,
        prev_value: Option<&str>,
        prev_index: u64,
        now: UnixNanos,
    ) -> Result<Written, EtcdError> {
        if key.is_root() {
            return Err(self.root_read_only());
        }
        let current = self.index;
        let next = current + 1;
        let existing = self.checked_file(key, prev_value, prev_index)?;
        let prev_node = existing.view(key, now, Listing::Bare);
        let expiration = ttl.map(|seconds| expiry_after(now, seconds));
        self.tree.modify(key, current, |node| {
            node.kind = NodeKind::File(value.into());
            node.modified_index = next;
            node.expiration = expiration;
        })?;
        let view = self.tree.find(key, current)?.view(key, now, Listing::Bare);
        let event = Event {
            action: Action::CompareAndSwap,
            node: view,
            prev_node: Some(prev_node),
            index: next,
        };
        Ok((event, Vec::new()))
    }

    /// delete: a file, or a directory when `dir` (empty) / `recursive`
    /// (whole subtree); one index for the whole removal.
    fn delete(
        &mut self,
        key: &KeyPath,
        dir: bool,
        recursive: bool,
        now: UnixNanos,
    ) -> Result<Written, EtcdError> {
        if key.is_root() {
            return Err(self.root_read_only());
        }
        let current = self.index;
        let dir = dir || recursive;
        let existing = self.tree.find(key, current)?;
        if let Some(children) = existing.children() {
            if !dir {
                return Err(EtcdError::new(ErrorCode::NotFile, key.as_str(), current));
            }
            // Hidden children count: the directory is not empty.
            if !children.is_empty() && !recursive {
                return Err(EtcdError::new(
                    ErrorCode::DirNotEmpty,
                    key.as_str(),
                    current,
                ));
            }
        }
        let prev_node = existing.view(key, now, Listing::Bare);
        let (is_dir, created_index) = (existing.is_dir(), existing.created_index);
        let removed = self.removed_paths(key);
        let event = Event {
            action: Action::Delete,
            node: removed_node_view(key, is_dir, current + 1, created_index),
            prev_node: Some(prev_node),
            index: current + 1,
        };
        Ok((event, removed))
    }

    /// compareAndDelete: a file (never a directory, the root included → 102)
    /// whose value / modifiedIndex match.
    fn compare_and_delete(
        &mut self,
        key: &KeyPath,
        prev_value: Option<&str>,
        prev_index: u64,
        now: UnixNanos,
    ) -> Result<Written, EtcdError> {
        let current = self.index;
        let existing = self.checked_file(key, prev_value, prev_index)?;
        let prev_node = existing.view(key, now, Listing::Bare);
        let created_index = existing.created_index;
        let removed = self.removed_paths(key);
        let event = Event {
            action: Action::CompareAndDelete,
            node: removed_node_view(key, false, current + 1, created_index),
            prev_node: Some(prev_node),
            index: current + 1,
        };
        Ok((event, removed))
    }

    /// The file at `key` if it passes the compare conditions: missing →
    /// 100/104, a directory → 102, a mismatch → 101 listing each failure.
    fn checked_file(
        &self,
        key: &KeyPath,
        prev_value: Option<&str>,
        prev_index: u64,
    ) -> Result<&Node, EtcdError> {
        let current = self.index;
        let existing = self.tree.find(key, current)?;
        let Some(value) = existing.value() else {
            return Err(EtcdError::new(ErrorCode::NotFile, key.as_str(), current));
        };
        let mut failures = Vec::new();
        if let Some(wanted) = prev_value.filter(|wanted| *wanted != value) {
            failures.push(format!("[{wanted} != {value}]"));
        }
        if prev_index != 0 && prev_index != existing.modified_index {
            failures.push(format!("[{prev_index} != {}]", existing.modified_index));
        }
        if failures.is_empty() {
            Ok(existing)
        } else {
            Err(EtcdError::new(
                ErrorCode::TestFailed,
                failures.join(" "),
                current,
            ))
        }
    }

    /// Takes the subtree at `key` out of the tree, returning every removed path.
    fn removed_paths(&mut self, key: &KeyPath) -> Vec<KeyPath> {
        self.tree
            .remove(key)
            .map(|(_, paths)| paths)
            .unwrap_or_default()
    }
}
