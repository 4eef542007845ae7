//! What an operation returns and watchers receive: actions, node views,
//! events, and their exact 0.4.6 JSON bytes.

use super::json::{push_member_name, push_string};
use super::time::{UnixNanos, format_rfc3339};
use serde::{Deserialize, Serialize};

/// The `action` member of a response or watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    Get,
    Set,
    Create,
    Update,
    Delete,
    CompareAndSwap,
    CompareAndDelete,
    Expire,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Get => "get",
            Action::Set => "set",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::CompareAndSwap => "compareAndSwap",
            Action::CompareAndDelete => "compareAndDelete",
            Action::Expire => "expire",
        }
    }
}

/// A node as shown to clients, frozen at the moment it was produced (a watch
/// event carries the `ttl` as of the event, not as of delivery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    pub key: String,
    /// `Some` on files (even `""`); `None` on directories and on the `node`
    /// of delete / compareAndDelete / expire results.
    pub value: Option<String>,
    pub dir: bool,
    pub expiration: Option<UnixNanos>,
    /// Whole seconds left; `None` (or 0) is left out of the JSON.
    pub ttl: Option<i64>,
    /// Listed children; `None` or empty is left out of the JSON.
    pub nodes: Option<Vec<NodeView>>,
    pub modified_index: u64,
    pub created_index: u64,
}

impl NodeView {
    /// Appends this node in 0.4.6 member order:
    /// key, value, dir, expiration, ttl, nodes, modifiedIndex, createdIndex.
    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        push_member_name(out, "key");
        push_string(out, &self.key);
        if let Some(value) = &self.value {
            out.push(',');
            push_member_name(out, "value");
            push_string(out, value);
        }
        if self.dir {
            out.push(',');
            push_member_name(out, "dir");
            out.push_str("true");
        }
        if let Some(expiration) = self.expiration {
            out.push(',');
            push_member_name(out, "expiration");
            push_string(out, &format_rfc3339(expiration));
        }
        if let Some(ttl) = self.ttl.filter(|ttl| *ttl != 0) {
            out.push(',');
            push_member_name(out, "ttl");
            out.push_str(&ttl.to_string());
        }
        if let Some(nodes) = self.nodes.as_ref().filter(|nodes| !nodes.is_empty()) {
            out.push(',');
            push_member_name(out, "nodes");
            out.push('[');
            for (position, child) in nodes.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                child.write_json(out);
            }
            out.push(']');
        }
        // Only the root has zero indices; 0.4.6 omits them there.
        if self.modified_index != 0 {
            out.push(',');
            push_member_name(out, "modifiedIndex");
            out.push_str(&self.modified_index.to_string());
        }
        if self.created_index != 0 {
            out.push(',');
            push_member_name(out, "createdIndex");
            out.push_str(&self.created_index.to_string());
        }
        out.push('}');
    }

    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(128);
        self.write_json(&mut out);
        out
    }
}

/// The result of an operation, and what a watcher receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub action: Action,
    pub node: NodeView,
    pub prev_node: Option<NodeView>,
    /// The store index of the change (for `get`: the current store index).
    pub index: u64,
}

impl Event {
    /// Compact body `{"action":…,"node":…,"prevNode":…}`, no trailing newline.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push('{');
        push_member_name(&mut out, "action");
        push_string(&mut out, self.action.as_str());
        out.push(',');
        push_member_name(&mut out, "node");
        self.node.write_json(&mut out);
        if let Some(prev) = &self.prev_node {
            out.push(',');
            push_member_name(&mut out, "prevNode");
            prev.write_json(&mut out);
        }
        out.push('}');
        out
    }

    /// True when the write created a node (HTTP 201): every create, and a
    /// set that replaced nothing.
    pub fn is_created(&self) -> bool {
        match self.action {
            Action::Create => true,
            Action::Set => self.prev_node.is_none(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(key: &str, value: &str, modified: u64, created: u64) -> NodeView {
        NodeView {
            key: key.to_string(),
            value: Some(value.to_string()),
            dir: false,
            expiration: None,
            ttl: None,
            nodes: None,
            modified_index: modified,
            created_index: created,
        }
    }

    #[test]
    fn json_member_order_matches_046() {
        let node = NodeView {
            key: "/d".to_string(),
            value: None,
            dir: true,
            expiration: Some(0),
            ttl: Some(3),
            nodes: Some(vec![file("/d/a", "1", 2, 2)]),
            modified_index: 5,
            created_index: 4,
        };
        let event = Event {
            action: Action::Get,
            node,
            prev_node: Some(file("/d", "x", 1, 1)),
            index: 9,
        };
        assert_eq!(
            event.to_json(),
            "{\"action\":\"get\",\"node\":{\"key\":\"/d\",\"dir\":true,\
             \"expiration\":\"1970-01-01T00:00:00Z\",\"ttl\":3,\
             \"nodes\":[{\"key\":\"/d/a\",\"value\":\"1\",\"modifiedIndex\":2,\"createdIndex\":2}],\
             \"modifiedIndex\":5,\"createdIndex\":4},\
             \"prevNode\":{\"key\":\"/d\",\"value\":\"x\",\"modifiedIndex\":1,\"createdIndex\":1}}"
        );
    }

    #[test]
    fn empty_value_is_still_written_on_files() {
        assert_eq!(
            file("/e", "", 3, 3).to_json(),
            "{\"key\":\"/e\",\"value\":\"\",\"modifiedIndex\":3,\"createdIndex\":3}"
        );
    }

    #[test]
    fn zero_ttl_empty_nodes_and_zero_indices_are_omitted() {
        let root = NodeView {
            key: "/".to_string(),
            value: None,
            dir: true,
            expiration: None,
            ttl: Some(0),
            nodes: Some(Vec::new()),
            modified_index: 0,
            created_index: 0,
        };
        assert_eq!(root.to_json(), "{\"key\":\"/\",\"dir\":true}");
    }

    #[test]
    fn action_names_are_046_spellings() {
        let names: Vec<&str> = [
            Action::Get,
            Action::Set,
            Action::Create,
            Action::Update,
            Action::Delete,
            Action::CompareAndSwap,
            Action::CompareAndDelete,
            Action::Expire,
        ]
        .iter()
        .map(|action| action.as_str())
        .collect();
        assert_eq!(
            names,
            [
                "get",
                "set",
                "create",
                "update",
                "delete",
                "compareAndSwap",
                "compareAndDelete",
                "expire"
            ]
        );
    }

    #[test]
    fn created_means_create_or_set_without_prev_node() {
        let mut event = Event {
            action: Action::Set,
            node: file("/a", "1", 1, 1),
            prev_node: None,
            index: 1,
        };
        assert!(event.is_created());
        event.prev_node = Some(file("/a", "0", 0, 0));
        assert!(!event.is_created());
        event.action = Action::Create;
        assert!(event.is_created());
        event.action = Action::Update;
        assert!(!event.is_created());
    }
}
