//! etcd 2.x's auth API on the client port, and the checks the other
//! handlers make (`guard`):
//!
//! - `/v2/auth/enable`: GET (anyone) `{"enabled":bool}`; PUT / DELETE turn
//!   auth on / off (root once it is on);
//! - `/v2/auth/users`, `/v2/auth/users/<name>` (`users`);
//! - `/v2/auth/roles`, `/v2/auth/roles/<name>` (`roles`).
//!
//! Statuses, bodies, the order of the checks and the methods each route
//! takes (others get Go's 405 with `Allow`) are 2.x's. Reads are answered
//! from this machine's copy of the replicated state; changes go through
//! the log on the leader (a follower answers 307 to it, after checking the
//! credentials itself), and a new password is hashed here, on the
//! connection's thread, before the change is sent.

mod body;
pub mod guard;
mod roles;
mod users;

use crossbeam_channel::bounded;
use serde_json::json;

use crate::auth::{AuthCommand, AuthOutcome};
use crate::http::gateway::Gateway;
use crate::http::reply;
use crate::httpd::{Request, Responder, Response};
use crate::server::requests::{AuthReply, ClientRequest};
use crate::store::KeyPath;

use guard::refusal;

/// Everything under `/v2/auth/`; `rest` is the path after that prefix.
// Out of line: not in the frames a waiting watch keeps (httpd/stack.rs).
#[inline(never)]
pub fn handle(gw: &Gateway, req: &Request, out: &mut Responder, rest: &str) {
    let resp = route(gw, req, rest);
    gw.send(req, out, resp);
}

fn route(gw: &Gateway, req: &Request, rest: &str) -> Response {
    let Some(decoded) = crate::httpd::percent_decode(rest).and_then(|b| String::from_utf8(b).ok())
    else {
        return body::message(400, "Invalid path");
    };
    let (resource, tail) = decoded.split_once('/').unwrap_or((decoded.as_str(), ""));
    if resource == "enable" {
        return if decoded == "enable" {
            enable(gw, req)
        } else {
            reply::not_found()
        };
    }
    if resource != "users" && resource != "roles" {
        return reply::not_found();
    }
    if decoded == resource {
        return match resource {
            "users" => users::list(gw, req),
            _ => roles::list(gw, req),
        };
    }
    // 2.x cleans `users/<...>` and takes it apart: nothing after the
    // prefix is the list, one name is that user, more is refused.
    let cleaned = KeyPath::parse(tail);
    let names: Vec<&str> = cleaned.segments().collect();
    match (resource, names.as_slice()) {
        ("users", []) => users::list(gw, req),
        ("users", [name]) => users::one(gw, req, name),
        ("roles", []) => roles::list(gw, req),
        ("roles", [name]) => roles::one(gw, req, name),
        _ => body::message(400, "Invalid path"),
    }
}

/// `/v2/auth/enable`.
fn enable(gw: &Gateway, req: &Request) -> Response {
    let cmd = match req.method.as_str() {
        "GET" => {
            let enabled = gw.guard().state().enabled();
            return body::ok(200, &json!({ "enabled": enabled }));
        }
        "PUT" => AuthCommand::Enable,
        "DELETE" => AuthCommand::Disable,
        _ => return body::method_not_allowed("GET,PUT,DELETE"),
    };
    if let Err(r) = gw.guard().root(req) {
        return refusal(r);
    }
    change(gw, req, cmd, |_| body::ok_empty())
}

/// Root may go on; `Err` is the 401 (or 503) to send.
fn root_only(gw: &Gateway, req: &Request) -> Result<(), Response> {
    gw.guard().root(req).map_err(refusal)
}

/// Sends a change to the state thread and answers with `done` once it
/// is applied, or with why not.
fn change(
    gw: &Gateway,
    req: &Request,
    cmd: AuthCommand,
    done: impl FnOnce(AuthOutcome) -> Response,
) -> Response {
    let (tx, rx) = bounded(1);
    match gw.ask(ClientRequest::Auth { cmd, reply: tx }, &rx) {
        Some(AuthReply::Done(outcome)) => done(outcome),
        Some(AuthReply::Refused(e)) => body::auth_error(&e),
        Some(AuthReply::Redirect { leader_client_url }) => {
            reply::redirect(&leader_client_url, &req.target)
        }
        Some(AuthReply::Failed(e)) => reply::error(&e),
        None => reply::internal(gw.store_index()),
    }
}

/// Before a slow hash: is this machine the one that can apply the change?
/// `Err` sends the client to the leader (or says there is none), so that
/// a follower does not hash a password only to redirect.
fn on_leader(gw: &Gateway, req: &Request) -> Result<(), Response> {
    let Some(view) = gw.cluster() else {
        return Err(reply::internal(gw.store_index()));
    };
    match view.leader {
        Some(leader) if leader.id == view.me.id => Ok(()),
        Some(leader) => Err(reply::redirect(&leader.client_url, &req.target)),
        None => Err(reply::internal(view.position.etcd_index)),
    }
}

#[cfg(test)]
mod tests;
