//! `/v2/auth/users` (GET: every user with its roles in full) and
//! `/v2/auth/users/<name>` (GET, PUT to create or to change password or
//! roles, DELETE), root only once auth is on, in etcd 2.x's shapes.

use serde_json::{Value, json};

use crate::auth::AuthCommand;
use crate::auth::{AuthOutcome, Role, UserChange};
use crate::http::gateway::Gateway;
use crate::httpd::{Request, Response};

use super::body::{self, UserBody};
use super::{change, on_leader, root_only};

pub fn list(gw: &Gateway, req: &Request) -> Response {
    if req.method != "GET" {
        return body::method_not_allowed("GET");
    }
    if let Err(refused) = root_only(gw, req) {
        return refused;
    }
    let state = gw.guard().state();
    let users: Vec<Value> = state
        .users()
        .map(|user| {
            // Roles that do not exist are left out of the list.
            let user = user.as_read();
            let roles: Vec<&Role> = user
                .effective_roles()
                .into_iter()
                .filter_map(|r| state.role(r))
                .collect();
            body::user_with_roles(&user.name, &roles)
        })
        .collect();
    // 2.x: `null` when there is no user at all.
    let users = if users.is_empty() {
        Value::Null
    } else {
        Value::Array(users)
    };
    body::ok(200, &json!({ "users": users }))
}

pub fn one(gw: &Gateway, req: &Request, name: &str) -> Response {
    if !matches!(req.method.as_str(), "GET" | "PUT" | "DELETE") {
        return body::method_not_allowed("GET,PUT,DELETE");
    }
    if let Err(refused) = root_only(gw, req) {
        return refused;
    }
    match req.method.as_str() {
        "GET" => get(gw, name),
        "PUT" => put(gw, req, name),
        _ => change(
            gw,
            req,
            AuthCommand::DeleteUser {
                name: name.to_string(),
            },
            |_| body::ok_empty(),
        ),
    }
}

fn get(gw: &Gateway, name: &str) -> Response {
    let state = gw.guard().state();
    let Some(user) = state.user(name) else {
        return body::auth_error(&crate::auth::AuthError::UserNotFound(name.to_string()));
    };
    let user = user.as_read();
    let mut roles = Vec::new();
    for role in user.effective_roles() {
        // Unlike the list, one user with a missing role is 404, as in 2.x.
        match state.role(role) {
            Some(r) => roles.push(r),
            None => {
                return body::auth_error(&crate::auth::AuthError::RoleNotFound(role.to_string()));
            }
        }
    }
    body::ok(200, &body::user_with_roles(&user.name, &roles))
}

fn put(gw: &Gateway, req: &Request, name: &str) -> Response {
    let Some(user) = body::parse::<UserBody>(&req.body) else {
        return body::message(400, "Invalid JSON in request body.");
    };
    if user.user != name {
        return body::message(400, "User JSON name does not match the name in the URL");
    }
    let grant = user.grant.unwrap_or_default();
    let revoke = user.revoke.unwrap_or_default();
    let has_roles = user.roles.as_ref().is_some_and(|r| !r.is_empty());
    if (!grant.is_empty() || !revoke.is_empty()) && has_roles {
        return body::message(400, "User JSON contains both roles and grant/revoke");
    }
    let password = match user.password.filter(|p| !p.is_empty()) {
        None => None,
        Some(plain) => {
            if let Err(elsewhere) = on_leader(gw, req) {
                return elsewhere;
            }
            match gw.guard().verifier().hash_password(&plain) {
                Ok(hash) => Some(hash),
                Err(_) => return super::guard::refusal(super::guard::Refusal::Busy),
            }
        }
    };
    let cmd = AuthCommand::PutUser(UserChange {
        name: name.to_string(),
        password,
        roles: user.roles,
        grant,
        revoke,
    });
    change(gw, req, cmd, |outcome| match outcome {
        AuthOutcome::User {
            created,
            name,
            roles,
        } => body::ok(
            if created { 201 } else { 200 },
            &body::user_written(&name, &roles),
        ),
        _ => body::ok_empty(),
    })
}
