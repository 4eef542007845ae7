//! Where the client and peer APIs enforce auth, as etcd 2.x does: read
//! the `Authorization` header, check it against the replicated users on
//! this connection's thread (the `auth::Verifier`), and decide with the
//! pure permission check of `auth`. Every machine checks for itself, a
//! follower included, before it answers or redirects.
//!
//! - keys (v2 and v1): read for GET/HEAD, write otherwise, on the key as
//!   the URL named it (cleaned, with its trailing slash), recursive when
//!   the request is; no credentials means the `guest` role; refused with
//!   401 / errorCode 110, as 2.x;
//! - watches: admitted like reads, and each event is shown only if the
//!   current state still lets the caller see it (see `watch_filter`);
//! - the auth API and the admin endpoints: the `root` role, else 401
//!   `{"message":"Insufficient credentials"}`.
//!
//! With auth off nothing is checked and credentials are ignored. Every
//! 401 carries `WWW-Authenticate: Basic realm="etcd"` (2.x sent none) and
//! `X-Etcd-Auth-Refused`: `credentials` when none were given or they did
//! not check out, `permission` when they did and the user's roles do not
//! allow the request. 2.x's bodies are the same for both; the header lets
//! a client (the dashboard) ask for a password again only when a password
//! is the problem. It tells a guesser nothing a readable key would not.

use std::sync::Arc;

use crate::auth::{
    Access, AuthState, Caller, LoginError, PasswordHash, SharedAuth, Verifier, WatchScope, is_root,
    may_access_key, may_see_event, parse_authorization,
};
use crate::http::keyspace::EventFilter;
use crate::http::reply;
use crate::httpd::{Request, Response};
use crate::store::{ErrorCode, EtcdError, Event, KeyPath};

pub const CHALLENGE: &str = "Basic realm=\"etcd\"";
/// Says why a 401 was sent: `credentials` or `permission`.
pub const REFUSED_HEADER: &str = "X-Etcd-Auth-Refused";

/// The checks every handler shares; cheap to clone.
#[derive(Clone)]
pub struct Guard {
    verifier: Arc<Verifier>,
}

impl Default for Guard {
    /// Auth that stays off (handlers in tests, before wiring).
    fn default() -> Guard {
        Guard::new(Arc::new(Verifier::new(SharedAuth::default())))
    }
}

/// Why a request may not go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials, or ones that did not check out: 401.
    Unauthenticated,
    /// Good credentials whose roles do not allow it: 401 too, as 2.x.
    Forbidden,
    /// Too many password checks waiting: 503.
    Busy,
}

/// A keys request that passed: what a watch needs to filter its events.
#[derive(Debug, Clone)]
pub struct KeyPass {
    /// None when auth was off: nobody was authenticated.
    caller: Option<Caller>,
    /// The stored password hash the caller logged in with.
    credential: Option<PasswordHash>,
    /// The key as checked.
    checked: String,
}

impl Guard {
    pub fn new(verifier: Arc<Verifier>) -> Guard {
        Guard { verifier }
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The auth state now (one snapshot per request).
    pub fn state(&self) -> Arc<AuthState> {
        self.verifier.state()
    }

    /// Who sent `req`, per `state`.
    fn caller(&self, state: &AuthState, req: &Request) -> Result<Caller, Refusal> {
        let creds = parse_authorization(req.header("authorization"));
        self.verifier
            .authenticate(state, &creds)
            .map_err(|e| match e {
                LoginError::Rejected => Refusal::Unauthenticated,
                LoginError::Busy => Refusal::Busy,
            })
    }

    /// The auth API, the admin endpoints: anyone while auth is off, else a
    /// user holding the `root` role.
    pub fn root(&self, req: &Request) -> Result<(), Refusal> {
        let state = self.state();
        if !state.enabled() {
            return Ok(());
        }
        let caller = self.caller(&state, req)?;
        if is_root(&state, &caller) {
            Ok(())
        } else {
            Err(forbidden(&caller))
        }
    }

    /// A keys request on `key` (as `raw_key` spelled it after the prefix).
    /// `Err` is the response to send.
    pub fn keys(
        &self,
        req: &Request,
        key: &KeyPath,
        raw_key: &str,
        access: Access,
        recursive: bool,
    ) -> Result<KeyPass, Response> {
        let checked = checked_key(key, raw_key);
        let state = self.state();
        if !state.enabled() {
            return Ok(KeyPass {
                caller: None,
                credential: None,
                checked,
            });
        }
        let caller = self.caller(&state, req).map_err(keys_refusal)?;
        if !may_access_key(&state, &caller, &checked, access, recursive) {
            return Err(keys_refusal(forbidden(&caller)));
        }
        let credential = match &caller {
            Caller::User(name) => state.user(name).map(|u| u.password.clone()),
            Caller::Guest => None,
        };
        Ok(KeyPass {
            caller: Some(caller),
            credential,
            checked,
        })
    }

    /// What a watch admitted by `pass` may report: each event is checked
    /// against the state of the moment (a revoked grant, a removed user,
    /// a changed password or a restricted guest stop the events). A watch
    /// started while auth was off counts as the guest once it is on.
    pub fn watch_filter(&self, pass: &KeyPass, watched: &KeyPath, recursive: bool) -> EventFilter {
        let verifier = self.verifier.clone();
        let caller = pass.caller.clone().unwrap_or(Caller::Guest);
        let credential = pass.credential.clone();
        let checked = pass.checked.clone();
        let watched = watched.clone();
        let may_skip = verifier.state().enabled();
        EventFilter {
            shows: Box::new(move |event: &Event| {
                let state = verifier.state();
                if !state.enabled() {
                    return true;
                }
                if let Caller::User(name) = &caller
                    && state.user(name).map(|u| &u.password) != credential.as_ref()
                {
                    return false;
                }
                let scope = WatchScope {
                    watched: &watched,
                    checked: &checked,
                    recursive,
                };
                may_see_event(&state, &caller, scope, &KeyPath::parse(&event.node.key))
            }),
            may_skip,
        }
    }
}

/// The key the permission check sees: the cleaned key, with the trailing
/// slash the URL had (2.x checked the path as sent, so `/foo/*` covers a
/// listing of `/foo/`). The cleaning keeps `..` from escaping a grant.
pub fn checked_key(key: &KeyPath, raw_key: &str) -> String {
    let slash = crate::httpd::percent_decode(raw_key).is_some_and(|b| b.ends_with(b"/"));
    if slash && !key.is_root() {
        format!("{}/", key.as_str())
    } else {
        key.as_str().to_string()
    }
}

/// The guest asking for more than the guest role allows needs
/// credentials; a user whose login checked out lacks permission.
fn forbidden(caller: &Caller) -> Refusal {
    match caller {
        Caller::Guest => Refusal::Unauthenticated,
        Caller::User(_) => Refusal::Forbidden,
    }
}

/// 401 for the auth API and the admin endpoints, 503 when busy.
pub fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Busy => busy(),
        _ => challenge(
            r,
            reply::json(401, r#"{"message":"Insufficient credentials"}"#),
        ),
    }
}

/// 2.x's keys refusal: 401, errorCode 110, index 0.
pub fn keys_refusal(r: Refusal) -> Response {
    match r {
        Refusal::Busy => busy(),
        _ => {
            let err = EtcdError::new(ErrorCode::Unauthorized, "Insufficient credentials", 0);
            challenge(r, reply::error(&err))
        }
    }
}

fn challenge(r: Refusal, mut resp: Response) -> Response {
    let reason = if r == Refusal::Forbidden {
        "permission"
    } else {
        "credentials"
    };
    resp.headers
        .push(("WWW-Authenticate".into(), CHALLENGE.into()));
    resp.headers.push((REFUSED_HEADER.into(), reason.into()));
    resp
}

fn busy() -> Response {
    let mut resp = reply::json(
        503,
        r#"{"message":"auth: too many password checks in progress, try again"}"#,
    );
    resp.headers.push(("Retry-After".into(), "1".into()));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_key_keeps_a_trailing_slash_and_nothing_else() {
        let k = |raw: &str| checked_key(&crate::http::keyspace::parse_key(raw, 0).unwrap(), raw);
        assert_eq!(k("foo"), "/foo");
        assert_eq!(k("foo/"), "/foo/");
        assert_eq!(k("foo%2F"), "/foo/");
        assert_eq!(k("foo//"), "/foo/");
        assert_eq!(k(""), "/");
        assert_eq!(k("/"), "/");
        assert_eq!(k("app/../secret"), "/secret");
        assert_eq!(k("app/../secret/"), "/secret/");
        assert_eq!(k("a/./b"), "/a/b");
    }

    #[test]
    fn refusals_carry_the_challenge_and_2x_bodies() {
        let r = keys_refusal(Refusal::Unauthenticated);
        assert_eq!(r.status, 401);
        assert_eq!(r.header("www-authenticate"), Some(CHALLENGE));
        assert_eq!(r.header("x-etcd-auth-refused"), Some("credentials"));
        assert_eq!(r.header("x-etcd-index"), Some("0"));
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            "{\"errorCode\":110,\"message\":\"The request requires user authentication\",\"cause\":\"Insufficient credentials\",\"index\":0}\n"
        );
        let r = refusal(Refusal::Unauthenticated);
        assert_eq!(r.status, 401);
        assert_eq!(r.header("www-authenticate"), Some(CHALLENGE));
        assert_eq!(r.body, br#"{"message":"Insufficient credentials"}"#);
        let r = refusal(Refusal::Forbidden);
        assert_eq!(r.header("www-authenticate"), Some(CHALLENGE));
        assert_eq!(r.header("x-etcd-auth-refused"), Some("permission"));
        assert_eq!(r.body, br#"{"message":"Insufficient credentials"}"#);
        assert_eq!(keys_refusal(Refusal::Forbidden).status, 401);
        assert_eq!(refusal(Refusal::Busy).status, 503);
    }
}
