//! The JSON of etcd 2.x's `/v2/auth` API, both ways.
//!
//! Requests are read as Go's `encoding/json` read them there: the first
//! JSON value of the body (what follows it is ignored), member names in
//! any letter case, unknown members ignored, `null` as "not given", and a
//! member of the wrong type refusing the whole body.
//!
//! Answers are written in 2.x's member order: success bodies end with a
//! newline (Go's encoder), `{"message": ...}` error bodies do not.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::auth::{AuthError, Patterns, Permissions, Role};
use crate::http::reply;
use crate::httpd::Response;

/// A user `PUT` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UserBody {
    pub user: String,
    pub password: Option<String>,
    pub roles: Option<Vec<String>>,
    pub grant: Option<Vec<String>>,
    pub revoke: Option<Vec<String>>,
}

/// A role `PUT` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RoleBody {
    pub role: String,
    pub permissions: Option<PermissionsBody>,
    pub grant: Option<PermissionsBody>,
    pub revoke: Option<PermissionsBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PermissionsBody {
    pub kv: Option<KvBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct KvBody {
    pub read: Option<Vec<String>>,
    pub write: Option<Vec<String>>,
}

impl PermissionsBody {
    pub fn into_permissions(self) -> Permissions {
        let kv = self.kv.unwrap_or_default();
        Permissions {
            read: Patterns(kv.read),
            write: Patterns(kv.write),
        }
    }
}

/// The first JSON value of `body` as a `T`; None if it does not read.
pub fn parse<T: DeserializeOwned + Default>(body: &[u8]) -> Option<T> {
    let first = serde_json::Deserializer::from_slice(body)
        .into_iter::<Value>()
        .next()?
        .ok()?;
    match fold_names(first) {
        // Go decodes `null` into a struct as "nothing given".
        Value::Null => Some(T::default()),
        value @ Value::Object(_) => serde_json::from_value(value).ok(),
        _ => None,
    }
}

/// Member names in lower case, at every level (the names we read are
/// lower case; Go matches them in any case). The last of two spellings
/// wins, as in Go.
fn fold_names(value: Value) -> Value {
    match value {
        Value::Object(members) => {
            let mut folded = Map::new();
            for (name, v) in members {
                folded.insert(name.to_lowercase(), fold_names(v));
            }
            Value::Object(folded)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(fold_names).collect()),
        other => other,
    }
}

fn patterns_json(p: &Patterns) -> Value {
    match &p.0 {
        Some(list) => json!(list),
        None => Value::Null,
    }
}

pub fn role_json(role: &Role) -> Value {
    json!({
        "role": role.name,
        "permissions": {"kv": {
            "read": patterns_json(&role.permissions.read),
            "write": patterns_json(&role.permissions.write),
        }},
    })
}

/// A user as the read endpoints show it: its roles in full, the member
/// left out when there are none.
pub fn user_with_roles(name: &str, roles: &[&Role]) -> Value {
    let mut user = json!({ "user": name });
    if !roles.is_empty()
        && let Value::Object(members) = &mut user
    {
        let roles: Vec<Value> = roles.iter().map(|r| role_json(r)).collect();
        members.insert("roles".into(), Value::Array(roles));
    }
    user
}

/// A user as a `PUT` answers it: role names, `null` when none were given.
pub fn user_written(name: &str, roles: &Option<Vec<String>>) -> Value {
    json!({ "user": name, "roles": roles })
}

/// A success body: the value and a newline.
pub fn ok(status: u16, value: &Value) -> Response {
    reply::json(status, format!("{value}\n"))
}

/// 200 with nothing in it (enable, disable, removals).
pub fn ok_empty() -> Response {
    reply::json(200, "")
}

/// `{"message": ...}` with a status.
pub fn message(status: u16, text: &str) -> Response {
    reply::json(status, json!({ "message": text }).to_string())
}

pub fn auth_error(e: &AuthError) -> Response {
    message(e.http_status(), &e.to_string())
}

/// Go's answer to a method a route does not take.
pub fn method_not_allowed(allow: &str) -> Response {
    let mut resp = reply::text(405, "Method Not Allowed\n");
    resp.headers.push(("Allow".into(), allow.into()));
    resp.headers
        .push(("X-Content-Type-Options".into(), "nosniff".into()));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_read_as_go_reads_them() {
        let u: UserBody = parse(br#"{"user":"bob","password":"pw"} trailing"#).unwrap();
        assert_eq!(
            (u.user.as_str(), u.password.as_deref()),
            ("bob", Some("pw"))
        );
        let u: UserBody = parse(br#"{"User":"bob","ROLES":["a"],"extra":1}"#).unwrap();
        assert_eq!(u.user, "bob");
        assert_eq!(u.roles, Some(vec!["a".to_string()]));
        let u: UserBody = parse(br#"{"user":"bob","roles":null}"#).unwrap();
        assert_eq!(u.roles, None);
        let u: UserBody = parse(b"null").unwrap();
        assert_eq!(u.user, "");
        for bad in [
            &b""[..],
            b"notjson",
            b"{",
            b"[]",
            b"3",
            br#"{"user":"b","roles":"x"}"#,
        ] {
            assert!(
                parse::<UserBody>(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let r: RoleBody =
            parse(br#"{"role":"r","Grant":{"KV":{"Read":["/a"]}},"revoke":null}"#).unwrap();
        let grant = r.grant.unwrap().into_permissions();
        assert_eq!(grant.read, Patterns::of(&["/a"]));
        assert_eq!(grant.write, Patterns(None));
        assert!(r.revoke.is_none());
    }

    #[test]
    fn answers_are_in_2x_shapes() {
        let role = Role {
            name: "r1".into(),
            permissions: Permissions::default(),
        };
        assert_eq!(
            role_json(&role).to_string(),
            r#"{"role":"r1","permissions":{"kv":{"read":null,"write":null}}}"#
        );
        assert_eq!(
            role_json(&Role::root()).to_string(),
            r#"{"role":"root","permissions":{"kv":{"read":["/*"],"write":["/*"]}}}"#
        );
        assert_eq!(
            user_with_roles("carol", &[]).to_string(),
            r#"{"user":"carol"}"#
        );
        assert_eq!(
            user_with_roles("bob", &[&role]).to_string(),
            r#"{"user":"bob","roles":[{"role":"r1","permissions":{"kv":{"read":null,"write":null}}}]}"#
        );
        assert_eq!(
            user_written("bob", &None).to_string(),
            r#"{"user":"bob","roles":null}"#
        );
        assert_eq!(
            user_written("bob", &Some(vec![])).to_string(),
            r#"{"user":"bob","roles":[]}"#
        );
        let r = message(400, "Invalid path");
        assert_eq!(r.body, br#"{"message":"Invalid path"}"#);
        assert_eq!(
            ok(200, &json!({"enabled": false})).body,
            b"{\"enabled\":false}\n"
        );
        let r = method_not_allowed("GET,PUT,DELETE");
        assert_eq!((r.status, r.header("allow")), (405, Some("GET,PUT,DELETE")));
        assert_eq!(r.body, b"Method Not Allowed\n");
    }
}
