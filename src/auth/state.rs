//! The replicated auth data — the enabled flag, the users and the roles —
//! and applying one committed [`AuthCommand`] to it, with etcd 2.x's
//! rules (what creates and what updates, what is refused with which
//! status). Deterministic: maps are ordered, nothing depends on time or
//! randomness, so every replica reaches the same state at the same index.
//! Kept in snapshots next to the member table, never in the key space.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::command::{AuthCommand, AuthOutcome, RoleChange, UserChange};
use super::error::AuthError;
use super::role::{GUEST_ROLE, ROOT_ROLE, Role};
use super::user::{ROOT_USER, User};

static ROOT: LazyLock<Role> = LazyLock::new(Role::root);

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuthState {
    enabled: bool,
    users: BTreeMap<String, User>,
    /// Every role but the built-in `root`.
    roles: BTreeMap<String, Role>,
}

impl AuthState {
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    /// Users in name order.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// A role by name; `root` is built in.
    pub fn role(&self, name: &str) -> Option<&Role> {
        if name == ROOT_ROLE {
            return Some(&ROOT);
        }
        self.roles.get(name)
    }

    /// Roles in name order, `root` among them.
    pub fn roles(&self) -> Vec<&Role> {
        let mut all: Vec<&Role> = self.roles.values().collect();
        let at = all.partition_point(|r| r.name.as_str() < ROOT_ROLE);
        all.insert(at, &ROOT);
        all
    }

    /// Nothing was ever set up: no user, no role, auth off.
    pub fn is_empty(&self) -> bool {
        !self.enabled && self.users.is_empty() && self.roles.is_empty()
    }

    /// Applies a committed command: the new state, or why it was refused
    /// (then nothing changes).
    pub fn apply(&mut self, cmd: &AuthCommand) -> Result<AuthOutcome, AuthError> {
        match cmd {
            AuthCommand::PutUser(change) => self.put_user(change),
            AuthCommand::DeleteUser { name } => self.delete_user(name),
            AuthCommand::PutRole(change) => self.put_role(change),
            AuthCommand::DeleteRole { name } => self.delete_role(name),
            AuthCommand::Enable => self.enable(),
            AuthCommand::Disable => {
                if !self.enabled {
                    return Err(AuthError::AlreadyDisabled);
                }
                self.enabled = false;
                Ok(AuthOutcome::Disabled)
            }
        }
    }

    /// 2.x: without grant or revoke, a body with roles creates (and says
    /// 200 even so), one without creates a missing user (201) or changes
    /// an existing one's password; with grant or revoke it updates.
    fn put_user(&mut self, c: &UserChange) -> Result<AuthOutcome, AuthError> {
        let has_roles = c.roles.as_ref().is_some_and(|r| !r.is_empty());
        if c.grant.is_empty() && c.revoke.is_empty() {
            if has_roles {
                return self.create_user(c, false);
            }
            if !self.users.contains_key(&c.name) {
                return self.create_user(c, true);
            }
        }
        self.update_user(c)
    }

    fn create_user(
        &mut self,
        c: &UserChange,
        answer_created: bool,
    ) -> Result<AuthOutcome, AuthError> {
        let Some(password) = &c.password else {
            return Err(AuthError::EmptyPassword(c.name.clone()));
        };
        if self.users.contains_key(&c.name) {
            return Err(AuthError::UserExists(c.name.clone()));
        }
        let user = User {
            name: c.name.clone(),
            password: password.clone(),
            roles: c.roles.clone(),
        };
        // `root` gets the root role recorded at creation, as in 2.x.
        let user = if c.name == ROOT_USER {
            user.as_read()
        } else {
            user
        };
        let roles = user.roles.clone();
        self.users.insert(c.name.clone(), user);
        Ok(AuthOutcome::User {
            created: answer_created,
            name: c.name.clone(),
            roles,
        })
    }

    fn update_user(&mut self, c: &UserChange) -> Result<AuthOutcome, AuthError> {
        let old = self
            .users
            .get(&c.name)
            .ok_or_else(|| AuthError::UserNotFound(c.name.clone()))?;
        let new = old.merged(c.password.as_ref(), &c.grant, &c.revoke)?;
        if new == old.as_read() {
            return Err(AuthError::UserNotUpdated);
        }
        let roles = new.roles.clone();
        self.users.insert(c.name.clone(), new);
        Ok(AuthOutcome::User {
            created: false,
            name: c.name.clone(),
            roles,
        })
    }

    fn delete_user(&mut self, name: &str) -> Result<AuthOutcome, AuthError> {
        if self.enabled && name == ROOT_USER {
            return Err(AuthError::RootUserProtected);
        }
        self.users
            .remove(name)
            .map(|_| AuthOutcome::Removed)
            .ok_or_else(|| AuthError::UserNotFoundOnRemove(name.to_string()))
    }

    fn put_role(&mut self, c: &RoleChange) -> Result<AuthOutcome, AuthError> {
        if c.name == ROOT_ROLE {
            return Err(AuthError::RootRoleProtected);
        }
        if c.creates() {
            if self.roles.contains_key(&c.name) {
                return Err(AuthError::RoleExists(c.name.clone()));
            }
            let role = Role {
                name: c.name.clone(),
                permissions: c.permissions.clone(),
            };
            self.roles.insert(c.name.clone(), role.clone());
            return Ok(AuthOutcome::Role {
                created: true,
                role,
            });
        }
        let old = self
            .roles
            .get(&c.name)
            .ok_or_else(|| AuthError::RoleNotFound(c.name.clone()))?;
        let new = old.merged(c.grant.as_ref(), c.revoke.as_ref())?;
        if &new == old {
            return Err(AuthError::RoleNotUpdated);
        }
        self.roles.insert(c.name.clone(), new.clone());
        Ok(AuthOutcome::Role {
            created: false,
            role: new,
        })
    }

    /// 2.x lets `guest` go too: unauthenticated requests then get nothing.
    fn delete_role(&mut self, name: &str) -> Result<AuthOutcome, AuthError> {
        if name == ROOT_ROLE {
            return Err(AuthError::RootRoleProtected);
        }
        self.roles
            .remove(name)
            .map(|_| AuthOutcome::Removed)
            .ok_or_else(|| AuthError::RoleNotFoundOnRemove(name.to_string()))
    }

    /// Needs a `root` user; creates `guest` with full access if missing.
    fn enable(&mut self) -> Result<AuthOutcome, AuthError> {
        if self.enabled {
            return Err(AuthError::AlreadyEnabled);
        }
        if !self.users.contains_key(ROOT_USER) {
            return Err(AuthError::NoRootUser);
        }
        self.roles
            .entry(GUEST_ROLE.to_string())
            .or_insert_with(Role::default_guest);
        self.enabled = true;
        Ok(AuthOutcome::Enabled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{PasswordHash, Patterns, Permissions};

    fn hash(pw: &str) -> Option<PasswordHash> {
        Some(PasswordHash::for_tests(pw))
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn put_user(name: &str, pw: Option<&str>, roles: Option<&[&str]>) -> AuthCommand {
        AuthCommand::PutUser(UserChange {
            name: name.into(),
            password: pw.and_then(hash),
            roles: roles.map(names),
            grant: vec![],
            revoke: vec![],
        })
    }

    fn grant_roles(name: &str, grant: &[&str], revoke: &[&str]) -> AuthCommand {
        AuthCommand::PutUser(UserChange {
            name: name.into(),
            password: None,
            roles: None,
            grant: names(grant),
            revoke: names(revoke),
        })
    }

    fn put_role(name: &str, read: &[&str], write: &[&str]) -> AuthCommand {
        AuthCommand::PutRole(RoleChange {
            name: name.into(),
            permissions: Permissions {
                read: Patterns::of(read),
                write: Patterns::of(write),
            },
            grant: None,
            revoke: None,
        })
    }

    fn change_role(
        name: &str,
        grant: Option<Permissions>,
        revoke: Option<Permissions>,
    ) -> AuthCommand {
        AuthCommand::PutRole(RoleChange {
            name: name.into(),
            permissions: Permissions::default(),
            grant,
            revoke,
        })
    }

    fn read(p: &[&str]) -> Permissions {
        Permissions {
            read: Patterns::of(p),
            write: Patterns::default(),
        }
    }

    #[test]
    fn users_are_created_updated_and_refused_as_in_2x() {
        let mut s = AuthState::default();
        assert_eq!(
            s.apply(&put_user("bob", None, None)),
            Err(AuthError::EmptyPassword("bob".into()))
        );
        assert_eq!(
            s.apply(&put_user("bob", Some("pw"), None)),
            Ok(AuthOutcome::User {
                created: true,
                name: "bob".into(),
                roles: None
            })
        );
        // Only a password: an existing user gets it (200, roles a list now).
        assert_eq!(
            s.apply(&put_user("bob", Some("pw2"), None)),
            Ok(AuthOutcome::User {
                created: false,
                name: "bob".into(),
                roles: Some(vec![])
            })
        );
        assert!(s.user("bob").unwrap().password.verify("pw2"));
        assert_eq!(
            s.apply(&put_user("bob", None, None)),
            Err(AuthError::UserNotUpdated)
        );
        // With roles: a create, answered 200, and 409 the second time.
        let carol = put_user("carol", Some("c"), Some(&["nosuch"]));
        assert_eq!(
            s.apply(&carol),
            Ok(AuthOutcome::User {
                created: false,
                name: "carol".into(),
                roles: Some(names(&["nosuch"]))
            })
        );
        assert_eq!(s.apply(&carol), Err(AuthError::UserExists("carol".into())));
        // Grants and revokes.
        assert!(s.apply(&grant_roles("bob", &["r1"], &[])).is_ok());
        assert_eq!(
            s.apply(&grant_roles("bob", &["r1"], &[])),
            Err(AuthError::DuplicateRole {
                user: "bob".into(),
                role: "r1".into()
            })
        );
        assert_eq!(
            s.apply(&grant_roles("bob", &[], &["r2"])),
            Err(AuthError::UngrantedRole {
                user: "bob".into(),
                role: "r2".into()
            })
        );
        assert_eq!(
            s.apply(&grant_roles("zed", &["r1"], &[])),
            Err(AuthError::UserNotFound("zed".into()))
        );
        assert_eq!(s.user("bob").unwrap().roles, Some(names(&["r1"])));
    }

    #[test]
    fn a_refused_command_changes_nothing() {
        let mut s = AuthState::default();
        s.apply(&put_user("bob", Some("pw"), Some(&["a"]))).unwrap();
        let before = s.clone();
        for cmd in [
            grant_roles("bob", &["b", "a"], &[]),
            grant_roles("bob", &["b"], &["zz"]),
            put_user("bob", None, Some(&["x"])),
            change_role("nosuch", Some(read(&["/a"])), None),
            AuthCommand::Enable,
            AuthCommand::Disable,
            AuthCommand::DeleteRole {
                name: "root".into(),
            },
        ] {
            assert!(s.apply(&cmd).is_err(), "{cmd:?}");
            assert_eq!(s, before, "{cmd:?}");
        }
    }

    #[test]
    fn roles_are_created_updated_and_refused_as_in_2x() {
        let mut s = AuthState::default();
        let created = s
            .apply(&put_role("r2", &["/app/*", "/b"], &["/app/*"]))
            .unwrap();
        assert!(matches!(created, AuthOutcome::Role { created: true, .. }));
        assert_eq!(
            s.apply(&put_role("r2", &[], &[])),
            Err(AuthError::RoleExists("r2".into()))
        );
        assert_eq!(
            s.apply(&change_role("r2", Some(read(&["/b"])), None)),
            Err(AuthError::DuplicatePermission {
                write: false,
                pattern: "/b".into()
            })
        );
        let AuthOutcome::Role {
            role,
            created: false,
        } = s
            .apply(&change_role("r2", Some(read(&["/c"])), None))
            .unwrap()
        else {
            panic!("an update")
        };
        assert_eq!(role.permissions.read, Patterns::of(&["/app/*", "/b", "/c"]));
        assert_eq!(
            s.apply(&change_role("r2", None, Some(read(&["/zzz"])))),
            Err(AuthError::RoleNotUpdated)
        );
        assert_eq!(
            s.apply(&change_role("nosuch", Some(read(&["/c"])), None)),
            Err(AuthError::RoleNotFound("nosuch".into()))
        );
        for cmd in [
            put_role("root", &[], &[]),
            change_role("root", Some(read(&["/c"])), None),
            AuthCommand::DeleteRole {
                name: "root".into(),
            },
        ] {
            assert_eq!(s.apply(&cmd), Err(AuthError::RootRoleProtected));
        }
        assert_eq!(
            s.apply(&AuthCommand::DeleteRole {
                name: "nosuch".into()
            }),
            Err(AuthError::RoleNotFoundOnRemove("nosuch".into()))
        );
        assert_eq!(
            s.apply(&AuthCommand::DeleteRole { name: "r2".into() }),
            Ok(AuthOutcome::Removed)
        );
        assert!(s.role("r2").is_none());
    }

    #[test]
    fn a_grant_or_revoke_without_patterns_creates() {
        let empty = change_role("e", Some(Permissions::default()), Some(read(&[])));
        let AuthCommand::PutRole(c) = &empty else {
            unreachable!()
        };
        assert!(c.creates());
        let mut s = AuthState::default();
        assert!(matches!(
            s.apply(&empty),
            Ok(AuthOutcome::Role { created: true, .. })
        ));
    }

    #[test]
    fn enabling_needs_root_and_creates_a_full_guest_once() {
        let mut s = AuthState::default();
        assert_eq!(s.apply(&AuthCommand::Enable), Err(AuthError::NoRootUser));
        assert_eq!(
            s.apply(&AuthCommand::Disable),
            Err(AuthError::AlreadyDisabled)
        );
        assert!(s.role("guest").is_none());
        let created = s.apply(&put_user("root", Some("r"), None)).unwrap();
        assert_eq!(
            created,
            AuthOutcome::User {
                created: true,
                name: "root".into(),
                roles: Some(names(&["root"]))
            }
        );
        assert_eq!(s.apply(&AuthCommand::Enable), Ok(AuthOutcome::Enabled));
        assert!(s.enabled());
        assert_eq!(s.role("guest"), Some(&Role::default_guest()));
        assert_eq!(
            s.apply(&AuthCommand::Enable),
            Err(AuthError::AlreadyEnabled)
        );
        // root cannot go while auth is on; it can once it is off.
        assert_eq!(
            s.apply(&AuthCommand::DeleteUser {
                name: "root".into()
            }),
            Err(AuthError::RootUserProtected)
        );
        // A restricted guest survives a disable and re-enable.
        s.apply(&change_role("guest", None, Some(Permissions::full())))
            .unwrap();
        s.apply(&AuthCommand::Disable).unwrap();
        s.apply(&AuthCommand::Enable).unwrap();
        assert!(s.role("guest").unwrap().permissions.is_empty());
        s.apply(&AuthCommand::Disable).unwrap();
        assert_eq!(
            s.apply(&AuthCommand::DeleteUser {
                name: "root".into()
            }),
            Ok(AuthOutcome::Removed)
        );
        assert_eq!(
            s.apply(&AuthCommand::DeleteUser {
                name: "root".into()
            }),
            Err(AuthError::UserNotFoundOnRemove("root".into()))
        );
    }

    #[test]
    fn roles_are_listed_by_name_with_root_among_them() {
        let mut s = AuthState::default();
        for name in ["zeta", "alpha", "s"] {
            s.apply(&put_role(name, &[], &[])).unwrap();
        }
        let listed: Vec<&str> = s.roles().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(listed, ["alpha", "root", "s", "zeta"]);
        assert_eq!(AuthState::default().roles().len(), 1);
    }

    #[test]
    fn the_state_survives_encoding() {
        let mut s = AuthState::default();
        s.apply(&put_user("root", Some("r"), None)).unwrap();
        s.apply(&put_role("app", &["/app/*"], &[])).unwrap();
        s.apply(&AuthCommand::Enable).unwrap();
        let json = serde_json::to_vec(&s).unwrap();
        let back: AuthState = serde_json::from_slice(&json).unwrap();
        assert_eq!(back, s);
        assert!(back.user("root").unwrap().password.verify("r"));
        assert!(!String::from_utf8_lossy(&json).contains("\"r\""));
    }
}
