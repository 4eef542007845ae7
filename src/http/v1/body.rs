//! The v1 success response of an event, byte for byte as etcd 0.4.6 built
//! it from the v2 event (its `Response` conversion): one flat object for a
//! file, a JSON array of the listed children for a directory.
//!
//! Pure: it only formats what the store already decided. It never looks
//! at the request, and errors are not its business (v1 errors are the v2
//! error bodies, unchanged).

use crate::http::reply;
use crate::httpd::Response;
use crate::store::{Action, Event, UnixNanos, format_rfc3339, push_member_name, push_string};

/// The `action` a v1 client sees. v1's only conditional write was
/// test-and-set, and 0.4.6 reports both commands it becomes (create for an
/// empty `prevValue`, compare-and-swap otherwise) under that name. Every
/// other action keeps its v2 name: a v1 watch can see a v2 `update`.
pub fn action_name(action: Action) -> &'static str {
    match action {
        Action::Create | Action::CompareAndSwap => "testAndSet",
        other => other.as_str(),
    }
}

/// One v1 object. Members are written in 0.4.6's order — `action`, `key`,
/// `dir`, `prevValue`, `value`, `newKey`, `expiration`, `ttl`, `index` —
/// and each is left out when Go's `omitempty` left it out (false, None,
/// zero), except `index`, which is always there.
struct V1Object<'a> {
    action: &'a str,
    key: &'a str,
    dir: bool,
    prev_value: Option<&'a str>,
    value: Option<&'a str>,
    /// A set that found no previous value.
    new_key: bool,
    expiration: Option<UnixNanos>,
    ttl: Option<i64>,
    index: u64,
}

impl V1Object<'_> {
    fn write_json(&self, out: &mut String) {
        out.push('{');
        push_member_name(out, "action");
        push_string(out, self.action);
        out.push(',');
        push_member_name(out, "key");
        push_string(out, self.key);
        if self.dir {
            out.push(',');
            push_member_name(out, "dir");
            out.push_str("true");
        }
        if let Some(prev_value) = self.prev_value {
            out.push(',');
            push_member_name(out, "prevValue");
            push_string(out, prev_value);
        }
        if let Some(value) = self.value {
            out.push(',');
            push_member_name(out, "value");
            push_string(out, value);
        }
        if self.new_key {
            out.push(',');
            push_member_name(out, "newKey");
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
        out.push(',');
        push_member_name(out, "index");
        out.push_str(&self.index.to_string());
        out.push('}');
    }
}

/// The v1 body of `event`, compact, no trailing newline.
///
/// `index` is `event.index`: for a read, the store index when it was
/// read; for a write, the index of the change; for a watch, the index of
/// the event delivered (see `watch` for why that is not 0.4.6's value).
///
/// An event whose node is a directory becomes the array of its listed
/// children (`[]` when there are none, as for a directory a watch saw
/// deleted), each with only action, key, dir or value, and index: 0.4.6
/// listed neither TTLs nor grandchildren there, and kept the v2 action
/// name.
pub fn to_json(event: &Event) -> String {
    let mut out = String::with_capacity(128);
    let node = &event.node;
    if node.dir {
        out.push('[');
        for (position, child) in node.nodes.iter().flatten().enumerate() {
            if position > 0 {
                out.push(',');
            }
            V1Object {
                action: event.action.as_str(),
                key: &child.key,
                dir: child.dir,
                prev_value: None,
                value: child.value.as_deref(),
                new_key: false,
                expiration: None,
                ttl: None,
                index: event.index,
            }
            .write_json(&mut out);
        }
        out.push(']');
        return out;
    }
    let prev_value = event
        .prev_node
        .as_ref()
        .and_then(|prev| prev.value.as_deref());
    V1Object {
        action: action_name(event.action),
        key: &node.key,
        dir: false,
        prev_value,
        value: node.value.as_deref(),
        new_key: event.action == Action::Set && prev_value.is_none(),
        expiration: node.expiration,
        ttl: node.ttl,
        index: event.index,
    }
    .write_json(&mut out);
    out
}

/// 200 for every v1 success, new key or not (only v2 answers 201). 0.4.6
/// set no header of its own here, neither a content type (Go's sniffing
/// named the JSON `text/plain`) nor `X-Etcd-Index`; a client sees the same.
pub fn success(event: &Event) -> Response {
    reply::text(200, to_json(event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NodeView;

    fn node(key: &str, value: Option<&str>, dir: bool, index: u64) -> NodeView {
        NodeView {
            key: key.to_string(),
            value: value.map(str::to_string),
            dir,
            expiration: None,
            ttl: None,
            nodes: None,
            modified_index: index,
            created_index: index,
        }
    }

    fn event(action: Action, node: NodeView, prev: Option<NodeView>, index: u64) -> Event {
        Event {
            action,
            node,
            prev_node: prev,
            index,
        }
    }

    #[test]
    fn a_set_that_creates_is_a_new_key() {
        let e = event(
            Action::Set,
            node("/foo/bar", Some("XXX"), false, 3),
            None,
            3,
        );
        assert_eq!(
            to_json(&e),
            r#"{"action":"set","key":"/foo/bar","value":"XXX","newKey":true,"index":3}"#
        );
    }

    #[test]
    fn a_set_that_replaces_carries_the_previous_value() {
        let e = event(
            Action::Set,
            node("/foo", Some("baz"), false, 5),
            Some(node("/foo", Some("bar"), false, 4)),
            5,
        );
        assert_eq!(
            to_json(&e),
            r#"{"action":"set","key":"/foo","prevValue":"bar","value":"baz","index":5}"#
        );
    }

    #[test]
    fn a_delete_has_the_previous_value_and_no_value() {
        let e = event(
            Action::Delete,
            node("/foo/bar", None, false, 4),
            Some(node("/foo/bar", Some("XXX"), false, 3)),
            4,
        );
        assert_eq!(
            to_json(&e),
            r#"{"action":"delete","key":"/foo/bar","prevValue":"XXX","index":4}"#
        );
    }

    #[test]
    fn compare_and_swap_and_create_are_test_and_set_without_new_key() {
        let cas = event(
            Action::CompareAndSwap,
            node("/k", Some("YYY"), false, 4),
            Some(node("/k", Some("XXX"), false, 3)),
            4,
        );
        assert_eq!(
            to_json(&cas),
            r#"{"action":"testAndSet","key":"/k","prevValue":"XXX","value":"YYY","index":4}"#
        );
        let create = event(Action::Create, node("/k", Some("XXX"), false, 3), None, 3);
        assert_eq!(
            to_json(&create),
            r#"{"action":"testAndSet","key":"/k","value":"XXX","index":3}"#
        );
    }

    #[test]
    fn other_actions_keep_their_v2_names() {
        assert_eq!(action_name(Action::Get), "get");
        assert_eq!(action_name(Action::Update), "update");
        assert_eq!(action_name(Action::CompareAndDelete), "compareAndDelete");
        assert_eq!(action_name(Action::Expire), "expire");
    }

    #[test]
    fn ttl_members_come_after_new_key_and_a_zero_ttl_is_left_out() {
        let mut n = node("/t", Some("1"), false, 6);
        n.expiration = Some(1_795_493_361_105_715_347);
        n.ttl = Some(20);
        let e = event(Action::Set, n.clone(), None, 6);
        assert_eq!(
            to_json(&e),
            "{\"action\":\"set\",\"key\":\"/t\",\"value\":\"1\",\"newKey\":true,\
             \"expiration\":\"2026-11-24T04:09:21.105715347Z\",\"ttl\":20,\"index\":6}"
        );
        n.ttl = Some(0);
        let e = event(Action::Get, n, None, 9);
        assert_eq!(
            to_json(&e),
            "{\"action\":\"get\",\"key\":\"/t\",\"value\":\"1\",\
             \"expiration\":\"2026-11-24T04:09:21.105715347Z\",\"index\":9}"
        );
    }

    #[test]
    fn an_expiry_shows_the_value_it_took_away() {
        let mut prev = node("/t", Some("1"), false, 2);
        prev.expiration = Some(0);
        let e = event(Action::Expire, node("/t", None, false, 7), Some(prev), 7);
        assert_eq!(
            to_json(&e),
            r#"{"action":"expire","key":"/t","prevValue":"1","index":7}"#
        );
    }

    #[test]
    fn a_directory_lists_its_children_with_the_read_index() {
        let mut dir = node("/foo", None, true, 2);
        let mut sub = node("/foo/y", None, true, 3);
        sub.nodes = Some(vec![node("/foo/y/z", Some("YYY"), false, 3)]);
        let mut file = node("/foo/x", Some(""), false, 2);
        file.ttl = Some(5);
        dir.nodes = Some(vec![file, sub]);
        let e = event(Action::Get, dir, None, 8);
        assert_eq!(
            to_json(&e),
            r#"[{"action":"get","key":"/foo/x","value":"","index":8},{"action":"get","key":"/foo/y","dir":true,"index":8}]"#
        );
    }

    #[test]
    fn a_directory_without_listed_children_is_an_empty_array() {
        let e = event(Action::Get, node("/", None, true, 0), None, 4);
        assert_eq!(to_json(&e), "[]");
        let deleted = event(
            Action::Delete,
            node("/d", None, true, 9),
            Some(node("/d", None, true, 5)),
            9,
        );
        assert_eq!(to_json(&deleted), "[]");
    }

    #[test]
    fn strings_are_escaped_as_in_v2_bodies() {
        let e = event(
            Action::Get,
            node("/_etcd/machines/m1", Some("raft=a&etcd=<b>"), false, 1),
            None,
            4,
        );
        assert_eq!(
            to_json(&e),
            r#"{"action":"get","key":"/_etcd/machines/m1","value":"raft=a\u0026etcd=\u003cb\u003e","index":4}"#
        );
    }

    #[test]
    fn every_success_is_200_as_plain_text() {
        let r = success(&event(
            Action::Set,
            node("/a", Some("1"), false, 2),
            None,
            2,
        ));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some(reply::TEXT));
        assert!(r.header("x-etcd-index").is_none());
    }
}
