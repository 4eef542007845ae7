//! Registered watchers and the rules deciding which event reaches which.

use super::event::Event;
use super::path::KeyPath;
use std::collections::{BTreeMap, BTreeSet};

/// Handle of a registered watcher, unique for the life of a `Store`.
pub type WatcherId = u64;

/// What [`super::Store::watch`] gives back.
// The server matches on this by value right away; boxing the event would
// only change the agreed API.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchOutcome {
    /// A matching event was already in the history; nothing was registered.
    Ready(Event),
    /// Registered; the event will come out of `take_notifications`.
    Waiting(WatcherId),
}

#[derive(Debug, Clone)]
struct Watcher {
    key: KeyPath,
    recursive: bool,
    stream: bool,
    /// Only events with an index at or above this are delivered.
    since: u64,
}

/// True when a change at `changed` concerns a watch on `watched`: the same
/// key, or (recursive) a key under it with no hidden segment below the
/// watched path. Shared by live and history watches (ruling 13).
pub fn key_matches(watched: &KeyPath, recursive: bool, changed: &KeyPath) -> bool {
    changed == watched
        || (recursive && changed.is_below(watched) && !changed.has_hidden_segment_below(watched))
}

/// Watchers in registration order (ids only grow), so delivery order is
/// the same on every run, and indexed by the key they watch, so an event
/// looks only at watchers on its key, its ancestors and the removed keys
/// (with 15 000 idle watchers a write must not compare 15 000 keys).
#[derive(Debug, Default)]
pub struct WatcherHub {
    watchers: BTreeMap<WatcherId, Watcher>,
    by_key: BTreeMap<String, BTreeSet<WatcherId>>,
    next_id: WatcherId,
    pending: Vec<(WatcherId, Event)>,
}

impl WatcherHub {
    pub fn register(
        &mut self,
        key: KeyPath,
        recursive: bool,
        stream: bool,
        since: u64,
    ) -> WatcherId {
        self.next_id += 1;
        let id = self.next_id;
        self.by_key
            .entry(key.as_str().to_string())
            .or_default()
            .insert(id);
        self.watchers.insert(
            id,
            Watcher {
                key,
                recursive,
                stream,
                since,
            },
        );
        id
    }

    pub fn cancel(&mut self, id: WatcherId) {
        self.forget(id);
        // A cancelled watcher must not be handed events queued before.
        self.pending.retain(|(pending_id, _)| *pending_id != id);
    }

    /// Takes a watcher out of both maps.
    fn forget(&mut self, id: WatcherId) {
        let Some(watcher) = self.watchers.remove(&id) else {
            return;
        };
        if let Some(ids) = self.by_key.get_mut(watcher.key.as_str()) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_key.remove(watcher.key.as_str());
            }
        }
    }

    /// Watchers that may care about a change at `changed`: those on it, on
    /// one of its ancestors, or on a removed key; in id order.
    fn candidates(&self, changed: &KeyPath, removed: &BTreeSet<&KeyPath>) -> BTreeSet<WatcherId> {
        let key = changed.as_str();
        let ancestors = std::iter::once("/").chain(
            key.match_indices('/')
                .map(|(at, _)| &key[..at])
                .filter(|prefix| !prefix.is_empty()),
        );
        ancestors
            .filter(|ancestor| *ancestor != key)
            .chain(std::iter::once(key))
            .chain(removed.iter().map(|k| k.as_str()))
            .filter_map(|watched| self.by_key.get(watched))
            .flatten()
            .copied()
            .collect()
    }

    pub fn count(&self) -> usize {
        self.watchers.len()
    }

    /// Queues `event` for every watcher it concerns. `removed` lists every
    /// node a delete/expire took away: watchers sitting exactly on one of
    /// them are told even though the event's key is an ancestor (§8.4).
    /// Each watcher gets an event at most once; one-shot watchers go away.
    pub fn notify(&mut self, event: &Event, removed: &[KeyPath]) {
        let changed = KeyPath::parse(&event.node.key);
        let removed: BTreeSet<&KeyPath> = removed.iter().collect();
        let mut fired_once = Vec::new();
        for id in self.candidates(&changed, &removed) {
            let Some(watcher) = self.watchers.get(&id) else {
                continue;
            };
            if event.index < watcher.since {
                continue;
            }
            let concerned = key_matches(&watcher.key, watcher.recursive, &changed)
                || removed.contains(&watcher.key);
            if concerned {
                self.pending.push((id, event.clone()));
                if !watcher.stream {
                    fired_once.push(id);
                }
            }
        }
        for id in fired_once {
            self.forget(id);
        }
    }

    pub fn take_notifications(&mut self) -> Vec<(WatcherId, Event)> {
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> KeyPath {
        KeyPath::parse(raw)
    }

    #[test]
    fn exact_key_always_matches_even_when_hidden() {
        assert!(key_matches(&key("/_h"), false, &key("/_h")));
        assert!(key_matches(&key("/_h"), true, &key("/_h")));
    }

    #[test]
    fn non_recursive_watch_ignores_children() {
        assert!(!key_matches(&key("/d"), false, &key("/d/a")));
    }

    #[test]
    fn recursive_watch_sees_descendants_but_not_hidden_ones() {
        assert!(key_matches(&key("/d"), true, &key("/d/a/b")));
        assert!(!key_matches(&key("/d"), true, &key("/d/_a/b")));
        assert!(!key_matches(&key("/"), true, &key("/_etcd/machines/m1")));
        assert!(key_matches(&key("/_foo/bar"), true, &key("/_foo/bar/baz")));
        assert!(!key_matches(&key("/d"), true, &key("/dx")));
    }
}
