//! The store inside an etcd 0.4 snapshot, as 0.4.6's `store.Save` writes
//! it: the tree under `Root` (`Path`, `CreatedIndex`, `ModifiedIndex`,
//! `ExpireTime`, `ACL`, `Value`, `Children`: `null` for a file, an object
//! for a directory), `CurrentIndex`, the watcher hub's event history (a
//! ring of up to 1000 events), the counters and `CurrentVersion`.
//!
//! It becomes our [`Store`] node by node, with the indices and expirations
//! the file holds. That includes 0.4.6's quirk: saving cloned each node with
//! its `ModifiedIndex` set back to its `CreatedIndex` (so a compare-and-swap
//! seems not to have moved it), and a restarted 0.4.6 served what the file
//! says; so do we. The member table and the cluster settings, which 0.4
//! kept in the tree (`/_etcd/machines/*`, `/_etcd/config`), are read from it
//! too; the registry values stay in the tree exactly as 0.4 wrote them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::error::{LegacyError, Problem};
use super::go_time;
use crate::membership::{ClusterConfig, MACHINES_DIR, Member, Members, parse_registry_value};
use crate::store::{Action, Event, KeyPath, NodeView, Store, StoreBuilder, StoreStats};

/// The store version of etcd 0.4 (`store/v2`); no other was released.
const STORE_VERSION: i64 = 2;
const CONFIG_KEY: &str = "/_etcd/config";

/// What the snapshot's store holds, ours now.
#[derive(Debug)]
pub struct TakenStore {
    pub store: Store,
    pub members: Members,
    /// `/_etcd/config`, or 0.4's defaults when the tree has none.
    pub config: ClusterConfig,
    /// Files and directories, hidden ones included, the root not.
    pub keys: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct State {
    root: Node04,
    #[serde(default)]
    watcher_hub: Option<Hub04>,
    current_index: u64,
    #[serde(default)]
    stats: Option<StoreStats>,
    #[serde(default)]
    current_version: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Node04 {
    path: String,
    created_index: u64,
    modified_index: u64,
    #[serde(default)]
    expire_time: Option<String>,
    #[serde(default)]
    value: String,
    #[serde(default)]
    children: Option<BTreeMap<String, Node04>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Hub04 {
    #[serde(default)]
    event_history: Option<History04>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct History04 {
    queue: Queue04,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Queue04 {
    #[serde(default)]
    events: Option<Vec<Option<Event04>>>,
    size: usize,
    front: usize,
    capacity: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event04 {
    action: String,
    #[serde(default)]
    node: Option<Extern04>,
    #[serde(default)]
    prev_node: Option<Extern04>,
}

/// A node as an event shows it (`NodeExtern`; empty members omitted).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Extern04 {
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    dir: bool,
    #[serde(default)]
    expiration: Option<String>,
    #[serde(default)]
    ttl: i64,
    #[serde(default)]
    nodes: Option<Vec<Extern04>>,
    #[serde(default)]
    modified_index: u64,
    #[serde(default)]
    created_index: u64,
}

/// Converts the store JSON of the snapshot `path`. Errors point at `base`,
/// where the snapshot's JSON starts: the store JSON is base64 inside it,
/// so the reason gives the byte within the store JSON instead.
pub fn convert(path: &Path, base: u64, state: &[u8]) -> Result<TakenStore, LegacyError> {
    let fail = |why: String| LegacyError {
        file: path.to_path_buf(),
        offset: base,
        problem: Problem::BadState(why),
    };
    let parsed: State = serde_json::from_slice(state).map_err(|e| {
        let at = LegacyError::json(path, 0, state, &e).offset;
        fail(format!("store JSON byte {at}: {e}"))
    })?;
    if let Some(version) = parsed.current_version
        && version != STORE_VERSION
    {
        return Err(fail(format!(
            "store version {version}; etcd 0.4 wrote version {STORE_VERSION}"
        )));
    }
    let mut taken = Taking {
        builder: StoreBuilder::new(),
        index: parsed.current_index,
        members: Members::default(),
        config: None,
        keys: 0,
    };
    taken.root(&parsed.root).map_err(fail)?;
    if let Some(queue) = parsed
        .watcher_hub
        .and_then(|hub| hub.event_history)
        .map(|history| history.queue)
    {
        for event in events_in_order(queue, parsed.current_index).map_err(fail)? {
            taken.builder.event(event);
        }
    }
    if let Some(stats) = parsed.stats {
        taken.builder.stats(stats);
    }
    Ok(TakenStore {
        store: taken.builder.finish(parsed.current_index),
        members: taken.members,
        config: taken.config.unwrap_or_default(),
        keys: taken.keys,
    })
}

struct Taking {
    builder: StoreBuilder,
    index: u64,
    members: Members,
    config: Option<ClusterConfig>,
    keys: usize,
}

impl Taking {
    fn root(&mut self, root: &Node04) -> Result<(), String> {
        if root.path != "/" {
            return Err(format!("the root node has path {:?}", root.path));
        }
        let Some(children) = &root.children else {
            return Err("the root node is a file".into());
        };
        self.children(&KeyPath::root(), children)
    }

    fn children(
        &mut self,
        parent: &KeyPath,
        children: &BTreeMap<String, Node04>,
    ) -> Result<(), String> {
        for (name, node) in children {
            let path = parent.child(name);
            if path.as_str() != node.path || path.parent().as_ref() != Some(parent) {
                return Err(format!(
                    "child {name:?} of {parent} says its path is {:?}",
                    node.path
                ));
            }
            self.node(&path, node)?;
        }
        Ok(())
    }

    fn node(&mut self, path: &KeyPath, node: &Node04) -> Result<(), String> {
        let newest = node.created_index.max(node.modified_index);
        if newest > self.index {
            return Err(format!(
                "{path} has index {newest}, above the store index {}",
                self.index
            ));
        }
        let expiration = match &node.expire_time {
            Some(text) => go_time::parse(text).map_err(|e| format!("{path}: {e}"))?,
            None => None,
        };
        self.keys += 1;
        let (created, modified) = (node.created_index, node.modified_index);
        match &node.children {
            Some(children) => {
                self.builder
                    .dir(path, created, modified, expiration)
                    .map_err(|e| e.to_string())?;
                self.children(path, children)
            }
            None => {
                self.registry(path, &node.value)?;
                self.builder
                    .file(path, node.value.clone(), created, modified, expiration)
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Members and settings, which 0.4 kept as files in the tree.
    fn registry(&mut self, path: &KeyPath, value: &str) -> Result<(), String> {
        if path.as_str() == CONFIG_KEY {
            let config: ClusterConfig = serde_json::from_str(value)
                .map_err(|e| format!("{CONFIG_KEY} is not the cluster settings: {e}"))?;
            self.config = Some(config.raised());
        } else if path.parent().is_some_and(|p| p.as_str() == MACHINES_DIR) {
            let (peer, client) = parse_registry_value(value).ok_or_else(|| {
                format!("{path} does not hold a raft= and an etcd= URL: {value:?}")
            })?;
            self.members
                .upsert(Member::new(path.name(), &peer, &client));
        }
        Ok(())
    }
}

/// The ring of 0.4's event queue, oldest first: `Size` events from `Front`.
fn events_in_order(queue: Queue04, current_index: u64) -> Result<Vec<Event>, String> {
    let mut slots = queue.events.unwrap_or_default();
    if queue.capacity == 0 {
        return Ok(Vec::new());
    }
    if slots.len() != queue.capacity || queue.size > queue.capacity || queue.front >= queue.capacity
    {
        return Err(format!(
            "the event history's ring ({} slots, capacity {}, size {}, front {}) is inconsistent",
            slots.len(),
            queue.capacity,
            queue.size,
            queue.front
        ));
    }
    let mut events = Vec::with_capacity(queue.size);
    let mut previous = 0;
    for i in 0..queue.size {
        let slot = (queue.front + i) % queue.capacity;
        let event = slots[slot]
            .take()
            .ok_or_else(|| format!("event history slot {slot} is empty"))?;
        let event = convert_event(event).map_err(|e| format!("event history slot {slot}: {e}"))?;
        if event.index < previous || event.index > current_index {
            return Err(format!(
                "event history slot {slot} has index {} after {previous} (store index {current_index})",
                event.index
            ));
        }
        previous = event.index;
        events.push(event);
    }
    Ok(events)
}

fn convert_event(event: Event04) -> Result<Event, String> {
    let action = match event.action.as_str() {
        "get" => Action::Get,
        "set" => Action::Set,
        "create" => Action::Create,
        "update" => Action::Update,
        "delete" => Action::Delete,
        "compareAndSwap" => Action::CompareAndSwap,
        "compareAndDelete" => Action::CompareAndDelete,
        "expire" => Action::Expire,
        other => return Err(format!("unknown action {other:?}")),
    };
    let node = view(event.node.ok_or("an event without a node")?)?;
    Ok(Event {
        action,
        index: node.modified_index,
        node,
        prev_node: event.prev_node.map(view).transpose()?,
    })
}

fn view(node: Extern04) -> Result<NodeView, String> {
    let expiration = match &node.expiration {
        Some(text) => go_time::parse(text)?,
        None => None,
    };
    let nodes = match node.nodes {
        Some(children) => Some(children.into_iter().map(view).collect::<Result<_, _>>()?),
        None => None,
    };
    Ok(NodeView {
        key: node.key,
        value: node.value,
        dir: node.dir,
        expiration,
        ttl: (node.ttl != 0).then_some(node.ttl),
        nodes,
        modified_index: node.modified_index,
        created_index: node.created_index,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::store::WatchOutcome;

    /// A small 0.4.6 store: the registry of one member, a TTL file, an
    /// empty dir, a file whose ModifiedIndex was reset by the save, and
    /// a ring whose front is not slot 0.
    pub(crate) fn sample() -> String {
        r#"{"Root":{"Path":"/","CreatedIndex":0,"ModifiedIndex":0,"ExpireTime":"0001-01-01T00:00:00Z","ACL":"","Value":"","Children":{
            "_etcd":{"Path":"/_etcd","CreatedIndex":1,"ModifiedIndex":1,"ExpireTime":"0001-01-01T00:00:00Z","ACL":"","Value":"","Children":{
                "config":{"Path":"/_etcd/config","CreatedIndex":2,"ModifiedIndex":2,"ExpireTime":"0001-01-01T00:00:00Z","ACL":"","Value":"{\"activeSize\":5,\"removeDelay\":1800,\"syncInterval\":5}","Children":null},
                "machines":{"Path":"/_etcd/machines","CreatedIndex":1,"ModifiedIndex":1,"ExpireTime":"0001-01-01T00:00:00Z","ACL":"","Value":"","Children":{
                    "m1":{"Path":"/_etcd/machines/m1","CreatedIndex":1,"ModifiedIndex":1,"ExpireTime":"0001-01-01T00:00:00Z","ACL":"","Value":"etcd=http%3A%2F%2F127.0.0.1%3A4101\u0026raft=http%3A%2F%2F127.0.0.1%3A7101","Children":null}}}}},
            "empty":{"Path":"/empty","CreatedIndex":3,"ModifiedIndex":3,"ExpireTime":"0001-01-01T00:00:00Z","ACL":"","Value":"","Children":{}},
            "foo":{"Path":"/foo","CreatedIndex":4,"ModifiedIndex":4,"ExpireTime":"0001-01-01T00:00:00Z","ACL":"","Value":"baz","Children":null},
            "t":{"Path":"/t","CreatedIndex":5,"ModifiedIndex":5,"ExpireTime":"2027-11-30T10:25:12.059613357Z","ACL":"","Value":"lives","Children":null}}},
          "WatcherHub":{"EventHistory":{"Queue":{"Events":[
              {"action":"set","node":{"key":"/t","value":"lives","expiration":"2027-11-30T10:25:12.059613357Z","ttl":100,"modifiedIndex":5,"createdIndex":5}},
              null,
              {"action":"create","node":{"key":"/_etcd/machines/m1","value":"x","modifiedIndex":1,"createdIndex":1}},
              {"action":"compareAndSwap","node":{"key":"/foo","value":"baz","modifiedIndex":4,"createdIndex":4},"prevNode":{"key":"/foo","value":"bar","modifiedIndex":4,"createdIndex":4}}],
            "Size":3,"Front":2,"Back":1,"Capacity":4},"StartIndex":1,"LastIndex":5}},
          "CurrentIndex":5,
          "Stats":{"getsSuccess":1,"getsFail":2,"setsSuccess":3,"setsFail":0,"deleteSuccess":0,"deleteFail":0,"updateSuccess":0,"updateFail":0,"createSuccess":1,"createFail":0,"compareAndSwapSuccess":1,"compareAndSwapFail":1,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":7},
          "CurrentVersion":2}"#
            .to_string()
    }

    fn take(json: &str) -> Result<TakenStore, LegacyError> {
        convert(Path::new("snapshot/0_9.ss"), 9, json.as_bytes())
    }

    #[test]
    fn the_tree_comes_over_with_its_indices_and_expirations() {
        let mut taken = take(&sample()).unwrap();
        assert_eq!(taken.keys, 7);
        assert_eq!(taken.store.index(), 5);
        let root = taken.store.get(&KeyPath::root(), true, true, 0).unwrap();
        let json = root.node.to_json();
        assert!(
            json.contains(r#"{"key":"/empty","dir":true,"modifiedIndex":3,"createdIndex":3}"#),
            "{json}"
        );
        assert!(
            json.contains(r#"{"key":"/foo","value":"baz","modifiedIndex":4,"createdIndex":4}"#)
        );
        assert!(json.contains(r#""expiration":"2027-11-30T10:25:12.059613357Z""#));
        let registry = taken
            .store
            .get(&KeyPath::parse("/_etcd/machines/m1"), false, false, 0)
            .unwrap();
        assert_eq!(
            registry.node.value.as_deref(),
            Some("etcd=http%3A%2F%2F127.0.0.1%3A4101&raft=http%3A%2F%2F127.0.0.1%3A7101")
        );
        assert_eq!(taken.store.stats().sets_success, 3);
    }

    #[test]
    fn members_and_settings_are_read_from_the_tree() {
        let taken = take(&sample()).unwrap();
        let m1 = taken.members.get("m1").unwrap();
        assert_eq!(
            *m1,
            Member::new("m1", "http://127.0.0.1:7101", "http://127.0.0.1:4101")
        );
        assert_eq!(taken.config.active_size, 5);
        let without = sample()
            .replace(r#""config":"#, r#""notconfig":"#)
            .replace(r#""Path":"/_etcd/config""#, r#""Path":"/_etcd/notconfig""#);
        assert_eq!(take(&without).unwrap().config, ClusterConfig::default());
    }

    #[test]
    fn the_event_ring_is_read_from_its_front() {
        let mut taken = take(&sample()).unwrap();
        let WatchOutcome::Ready(first) = taken
            .store
            .watch(&KeyPath::parse(MACHINES_DIR), true, false, Some(1))
            .unwrap()
        else {
            panic!("history lost");
        };
        assert_eq!(
            (first.index, first.node.key.as_str()),
            (1, "/_etcd/machines/m1")
        );
        let WatchOutcome::Ready(cas) = taken
            .store
            .watch(&KeyPath::parse("/foo"), false, false, Some(2))
            .unwrap()
        else {
            panic!("history lost");
        };
        assert_eq!(cas.action, Action::CompareAndSwap);
        assert_eq!(cas.prev_node.unwrap().value.as_deref(), Some("bar"));
        let WatchOutcome::Ready(set) = taken
            .store
            .watch(&KeyPath::parse("/t"), false, false, Some(5))
            .unwrap()
        else {
            panic!("history lost");
        };
        assert_eq!(set.node.ttl, Some(100));
    }

    #[test]
    fn inconsistent_states_are_refused_with_a_reason() {
        let cases = [
            (
                sample().replace(r#""CurrentIndex":5"#, r#""CurrentIndex":4"#),
                "above the store index",
            ),
            (
                sample().replace(r#""Path":"/foo""#, r#""Path":"/bar""#),
                "says its path",
            ),
            (
                sample().replace(r#""CurrentVersion":2"#, r#""CurrentVersion":1"#),
                "store version 1",
            ),
            (
                sample().replace("etcd=http%3A", "etc=http%3A"),
                "raft= and an etcd= URL",
            ),
            (
                sample().replace(r#""Size":3"#, r#""Size":4"#),
                "slot 1 is empty",
            ),
            (
                sample().replace(r#""action":"set""#, r#""action":"frob""#),
                "unknown action",
            ),
            (
                sample().replace("2027-11-30T10:25:12.059613357Z\",\"ACL", "tomorrow\",\"ACL"),
                "not an RFC 3339",
            ),
            (
                sample().replace(r#""Root":{"Path":"/""#, r#""Root":{"Path":"/x""#),
                "root node",
            ),
            (
                sample().replace(r#""CurrentIndex":5,"#, ""),
                "store JSON byte",
            ),
        ];
        for (json, want) in cases {
            let err = take(&json).unwrap_err();
            assert_eq!(err.offset, 9);
            let text = err.to_string();
            assert!(text.contains(want), "{want}: {text}");
        }
    }
}
