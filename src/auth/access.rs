//! Who may do what, as a pure function of the replicated [`AuthState`]:
//! the caller (a user whose password was already checked, or the guest),
//! the key as the request named it, and whether it reads or writes, one
//! key or a whole subtree.
//!
//! etcd 2.x's rules: with auth off everything is allowed; a user may when
//! one of its roles' patterns covers the key (`root` covers all; roles
//! that do not exist are skipped); a request without credentials is the
//! `guest` role (none at all if `guest` was removed). One difference, on
//! purpose: 2.x checked a guest's recursive request as if it named one key,
//! so an exact grant on `/foo` listed and watched all of `/foo`; here the
//! guest needs a prefix pattern for that, like every user.

use crate::store::KeyPath;

use super::role::{GUEST_ROLE, ROOT_ROLE};
use super::state::AuthState;

/// GET and HEAD read; PUT, POST and DELETE write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Who is asking, once credentials have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No `Authorization` header.
    Guest,
    /// A user whose password checked out.
    User(String),
}

/// Whether `caller` may `access` `key` (`recursive`: it and everything
/// below it).
pub fn may_access_key(
    state: &AuthState,
    caller: &Caller,
    key: &str,
    access: Access,
    recursive: bool,
) -> bool {
    if !state.enabled() {
        return true;
    }
    match caller {
        Caller::Guest => state
            .role(GUEST_ROLE)
            .is_some_and(|role| role.allows(key, access, recursive)),
        Caller::User(name) => state.user(name).is_some_and(|user| {
            user.effective_roles()
                .into_iter()
                .filter_map(|r| state.role(r))
                .any(|role| role.allows(key, access, recursive))
        }),
    }
}

/// Whether `caller` may manage users, roles, auth itself and the cluster:
/// anyone while auth is off, else a user holding the `root` role.
pub fn is_root(state: &AuthState, caller: &Caller) -> bool {
    if !state.enabled() {
        return true;
    }
    match caller {
        Caller::Guest => false,
        Caller::User(name) => state
            .user(name)
            .is_some_and(|u| u.effective_roles().contains(&ROOT_ROLE)),
    }
}

/// What a watch was admitted for.
#[derive(Debug, Clone, Copy)]
pub struct WatchScope<'a> {
    /// The watched node.
    pub watched: &'a KeyPath,
    /// The key as checked when the watch started (with its trailing slash).
    pub checked: &'a str,
    pub recursive: bool,
}

/// Whether a watch may report an event on `changed` now. The watch's own
/// admission is checked again with the current state (a revoked grant, a
/// removed user or role, a restricted guest stop its events); an event on
/// the watched node itself, or on a directory above it whose removal took
/// it along, is covered by that; an event below it must be readable on its
/// own key.
pub fn may_see_event(
    state: &AuthState,
    caller: &Caller,
    scope: WatchScope<'_>,
    changed: &KeyPath,
) -> bool {
    if !state.enabled() {
        return true;
    }
    if !may_access_key(state, caller, scope.checked, Access::Read, scope.recursive) {
        return false;
    }
    if changed == scope.watched || scope.watched.is_below(changed) {
        return true;
    }
    may_access_key(state, caller, changed.as_str(), Access::Read, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthCommand, PasswordHash, Patterns, Permissions, RoleChange, UserChange};

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn user(s: &mut AuthState, name: &str, roles: &[&str]) {
        let cmd = AuthCommand::PutUser(UserChange {
            name: name.into(),
            password: Some(PasswordHash::for_tests("pw")),
            roles: Some(names(roles)),
            grant: vec![],
            revoke: vec![],
        });
        s.apply(&cmd).unwrap();
    }

    fn role(s: &mut AuthState, name: &str, read: &[&str], write: &[&str]) {
        let cmd = AuthCommand::PutRole(RoleChange {
            name: name.into(),
            permissions: Permissions {
                read: Patterns::of(read),
                write: Patterns::of(write),
            },
            grant: None,
            revoke: None,
        });
        s.apply(&cmd).unwrap();
    }

    fn revoke(s: &mut AuthState, name: &str, read: &[&str], write: &[&str]) {
        let cmd = AuthCommand::PutRole(RoleChange {
            name: name.into(),
            permissions: Permissions::default(),
            grant: None,
            revoke: Some(Permissions {
                read: Patterns::of(read),
                write: Patterns::of(write),
            }),
        });
        s.apply(&cmd).unwrap();
    }

    /// root; alice (app: rw /app/*, read /pub exact); bob (no roles);
    /// carol (a role that does not exist, then app); auth on.
    fn cluster() -> AuthState {
        let mut s = AuthState::default();
        user(&mut s, "root", &[]);
        role(&mut s, "app", &["/app/*", "/pub"], &["/app/*"]);
        user(&mut s, "alice", &["app"]);
        user(&mut s, "bob", &[]);
        user(&mut s, "carol", &["ghost", "app"]);
        s.apply(&AuthCommand::Enable).unwrap();
        s
    }

    fn u(name: &str) -> Caller {
        Caller::User(name.into())
    }

    use Access::{Read, Write};

    #[test]
    fn the_permission_table() {
        let mut s = cluster();
        // Restrict the guest to reading /pub/*.
        revoke(&mut s, "guest", &["/*"], &["/*"]);
        let cmd = AuthCommand::PutRole(RoleChange {
            name: "guest".into(),
            permissions: Permissions::default(),
            grant: Some(Permissions {
                read: Patterns::of(&["/pub/*"]),
                write: Patterns::of(&[]),
            }),
            revoke: None,
        });
        s.apply(&cmd).unwrap();
        let g = Caller::Guest;
        // (caller, key, access, recursive, allowed)
        let cases: &[(&Caller, &str, Access, bool, bool)] = &[
            (&u("root"), "/", Write, true, true),
            (&u("root"), "/secret", Read, false, true),
            (&u("alice"), "/app/x", Read, false, true),
            (&u("alice"), "/app/x", Write, false, true),
            (&u("alice"), "/app/", Read, true, true),
            (&u("alice"), "/app", Read, true, false),
            (&u("alice"), "/app", Read, false, false),
            (&u("alice"), "/app/deep/er", Write, true, true),
            (&u("alice"), "/pub", Read, false, true),
            (&u("alice"), "/pub", Write, false, false),
            (&u("alice"), "/pub", Read, true, false),
            (&u("alice"), "/pub/x", Read, false, false),
            (&u("alice"), "/other", Read, false, false),
            (&u("alice"), "/", Read, true, false),
            (&u("bob"), "/app/x", Read, false, false),
            (&u("bob"), "/", Read, false, false),
            (&u("carol"), "/app/x", Write, false, true),
            (&u("nobody"), "/app/x", Read, false, false),
            (&g, "/pub/x", Read, false, true),
            (&g, "/pub/", Read, true, true),
            (&g, "/pub/x", Write, false, false),
            (&g, "/app/x", Read, false, false),
            (&g, "/pub", Read, false, false),
        ];
        for (caller, key, access, recursive, allowed) in cases {
            assert_eq!(
                may_access_key(&s, caller, key, *access, *recursive),
                *allowed,
                "{caller:?} {access:?} {key} recursive={recursive}"
            );
        }
        for caller in [u("alice"), u("bob"), u("carol"), u("nobody"), Caller::Guest] {
            assert!(!is_root(&s, &caller), "{caller:?}");
        }
        assert!(is_root(&s, &u("root")));
    }

    #[test]
    fn with_auth_off_everyone_may_do_everything() {
        let mut s = cluster();
        s.apply(&AuthCommand::Disable).unwrap();
        for caller in [u("bob"), u("nobody"), Caller::Guest] {
            assert!(may_access_key(&s, &caller, "/x", Write, true));
            assert!(is_root(&s, &caller));
        }
    }

    #[test]
    fn the_default_guest_has_full_access_and_a_removed_one_none() {
        let mut s = cluster();
        assert!(may_access_key(&s, &Caller::Guest, "/any", Write, true));
        assert!(!is_root(&s, &Caller::Guest));
        s.apply(&AuthCommand::DeleteRole {
            name: "guest".into(),
        })
        .unwrap();
        assert!(!may_access_key(&s, &Caller::Guest, "/any", Read, false));
    }

    #[test]
    fn an_exact_guest_grant_does_not_open_the_subtree() {
        let mut s = cluster();
        revoke(&mut s, "guest", &["/*"], &["/*"]);
        let cmd = AuthCommand::PutRole(RoleChange {
            name: "guest".into(),
            permissions: Permissions::default(),
            grant: Some(Permissions {
                read: Patterns::of(&["/foo"]),
                write: Patterns::default(),
            }),
            revoke: None,
        });
        s.apply(&cmd).unwrap();
        assert!(may_access_key(&s, &Caller::Guest, "/foo", Read, false));
        assert!(!may_access_key(&s, &Caller::Guest, "/foo", Read, true));
    }

    #[test]
    fn revocation_takes_effect_at_once() {
        let mut s = cluster();
        assert!(may_access_key(&s, &u("alice"), "/app/x", Write, false));
        revoke(&mut s, "app", &[], &["/app/*"]);
        assert!(!may_access_key(&s, &u("alice"), "/app/x", Write, false));
        assert!(may_access_key(&s, &u("alice"), "/app/x", Read, false));
        let cmd = AuthCommand::PutUser(UserChange {
            name: "alice".into(),
            password: None,
            roles: None,
            grant: vec![],
            revoke: names(&["app"]),
        });
        s.apply(&cmd).unwrap();
        assert!(!may_access_key(&s, &u("alice"), "/app/x", Read, false));
        // A role removed under its users takes their access with it.
        s.apply(&AuthCommand::DeleteRole { name: "app".into() })
            .unwrap();
        assert!(!may_access_key(&s, &u("carol"), "/app/x", Read, false));
        // A removed user has no access left.
        s.apply(&AuthCommand::DeleteUser { name: "bob".into() })
            .unwrap();
        assert!(!may_access_key(&s, &u("bob"), "/x", Read, false));
    }

    #[test]
    fn a_root_role_holder_is_root() {
        let mut s = cluster();
        user(&mut s, "admin", &["root"]);
        assert!(is_root(&s, &u("admin")));
        assert!(may_access_key(&s, &u("admin"), "/", Write, true));
    }

    #[test]
    fn watch_events_are_shown_by_the_current_state() {
        let mut s = cluster();
        let app = KeyPath::parse("/app");
        let scope = WatchScope {
            watched: &app,
            checked: "/app/",
            recursive: true,
        };
        let alice = u("alice");
        for key in ["/app", "/app/x", "/app/x/y"] {
            assert!(
                may_see_event(&s, &alice, scope, &KeyPath::parse(key)),
                "{key}"
            );
        }
        // The watched node taken away with the root dir: still its news.
        let x = KeyPath::parse("/app/x");
        let exact = WatchScope {
            watched: &x,
            checked: "/app/x",
            recursive: false,
        };
        assert!(may_see_event(&s, &alice, exact, &KeyPath::parse("/app")));
        // Bob was never admitted; after a revoke alice sees nothing more.
        assert!(!may_see_event(
            &s,
            &u("bob"),
            scope,
            &KeyPath::parse("/app/x")
        ));
        revoke(&mut s, "app", &["/app/*"], &[]);
        assert!(!may_see_event(&s, &alice, scope, &KeyPath::parse("/app/x")));
        assert!(!may_see_event(&s, &alice, scope, &KeyPath::parse("/app")));
        s.apply(&AuthCommand::Disable).unwrap();
        assert!(may_see_event(
            &s,
            &u("bob"),
            scope,
            &KeyPath::parse("/app/x")
        ));
    }
}
