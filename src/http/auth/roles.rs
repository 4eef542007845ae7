//! `/v2/auth/roles` (GET: every role, `root` included, by name) and
//! `/v2/auth/roles/<name>` (GET, PUT to create or to grant and revoke
//! patterns, DELETE), root only once auth is on, in etcd 2.x's shapes.

use serde_json::{Value, json};

use crate::auth::{AuthCommand, AuthError, AuthOutcome, RoleChange};
use crate::http::gateway::Gateway;
use crate::httpd::{Request, Response};

use super::body::{self, RoleBody};
use super::{change, root_only};

pub fn list(gw: &Gateway, req: &Request) -> Response {
    if req.method != "GET" {
        return body::method_not_allowed("GET");
    }
    if let Err(refused) = root_only(gw, req) {
        return refused;
    }
    let state = gw.guard().state();
    let roles: Vec<Value> = state.roles().into_iter().map(body::role_json).collect();
    body::ok(200, &json!({ "roles": roles }))
}

pub fn one(gw: &Gateway, req: &Request, name: &str) -> Response {
    if !matches!(req.method.as_str(), "GET" | "PUT" | "DELETE") {
        return body::method_not_allowed("GET,PUT,DELETE");
    }
    if let Err(refused) = root_only(gw, req) {
        return refused;
    }
    match req.method.as_str() {
        "GET" => match gw.guard().state().role(name) {
            Some(role) => body::ok(200, &body::role_json(role)),
            None => body::auth_error(&AuthError::RoleNotFound(name.to_string())),
        },
        "PUT" => put(gw, req, name),
        _ => change(
            gw,
            req,
            AuthCommand::DeleteRole {
                name: name.to_string(),
            },
            |_| body::ok_empty(),
        ),
    }
}

fn put(gw: &Gateway, req: &Request, name: &str) -> Response {
    let Some(role) = body::parse::<RoleBody>(&req.body) else {
        return body::message(400, "Invalid JSON in request body.");
    };
    if role.role != name {
        return body::message(400, "Role JSON name does not match the name in the URL");
    }
    let change_of = RoleChange {
        name: name.to_string(),
        permissions: role
            .permissions
            .map(body::PermissionsBody::into_permissions)
            .unwrap_or_default(),
        grant: role.grant.map(body::PermissionsBody::into_permissions),
        revoke: role.revoke.map(body::PermissionsBody::into_permissions),
    };
    if !change_of.creates() && !change_of.permissions.is_empty() {
        return body::message(400, "Role JSON contains both permissions and grant/revoke");
    }
    change(
        gw,
        req,
        AuthCommand::PutRole(change_of),
        |outcome| match outcome {
            AuthOutcome::Role { created, role } => {
                body::ok(if created { 201 } else { 200 }, &body::role_json(&role))
            }
            _ => body::ok_empty(),
        },
    )
}
