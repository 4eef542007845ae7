//! Users: a name, a password hash and the names of the roles granted, as
//! etcd 2.x keeps them, with its grant and revoke merge. The user `root`
//! always holds the `root` role: 2.x attaches it on every read, so even a
//! revoke of it from `root` leaves `root` a root.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::error::AuthError;
use super::password::PasswordHash;
use super::role::ROOT_ROLE;

pub const ROOT_USER: &str = "root";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub password: PasswordHash,
    /// As granted. `None`: created without roles, which 2.x tells apart
    /// from an empty list (an update that only makes it a list counts).
    pub roles: Option<Vec<String>>,
}

impl User {
    pub fn is_root(&self) -> bool {
        self.name == ROOT_USER
    }

    /// The user as 2.x reads it: `root` with the `root` role attached
    /// (appended) when it is not among its roles.
    pub fn as_read(&self) -> User {
        let mut user = self.clone();
        if self.is_root() && !self.has_role(ROOT_ROLE) {
            user.roles
                .get_or_insert_with(Vec::new)
                .push(ROOT_ROLE.to_string());
        }
        user
    }

    /// The roles the user acts with, in order (see `as_read`).
    pub fn effective_roles(&self) -> Vec<&str> {
        let mut roles: Vec<&str> = self.roles.iter().flatten().map(String::as_str).collect();
        if self.is_root() && !roles.contains(&ROOT_ROLE) {
            roles.push(ROOT_ROLE);
        }
        roles
    }

    fn has_role(&self, role: &str) -> bool {
        self.roles.iter().flatten().any(|r| r == role)
    }

    /// 2.x's user update, from the user as read: a new password replaces
    /// the hash, each granted role must be absent (409), each revoked one
    /// present (409). The roles become a sorted set.
    pub fn merged(
        &self,
        password: Option<&PasswordHash>,
        grant: &[String],
        revoke: &[String],
    ) -> Result<User, AuthError> {
        let old = self.as_read();
        let mut roles: BTreeSet<&str> = old.roles.iter().flatten().map(String::as_str).collect();
        for role in grant {
            if !roles.insert(role) {
                return Err(AuthError::DuplicateRole {
                    user: self.name.clone(),
                    role: role.clone(),
                });
            }
        }
        for role in revoke {
            if !roles.remove(role.as_str()) {
                return Err(AuthError::UngrantedRole {
                    user: self.name.clone(),
                    role: role.clone(),
                });
            }
        }
        Ok(User {
            name: self.name.clone(),
            password: password.cloned().unwrap_or_else(|| old.password.clone()),
            roles: Some(roles.into_iter().map(str::to_string).collect()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, roles: Option<&[&str]>) -> User {
        User {
            name: name.into(),
            password: PasswordHash::for_tests("pw"),
            roles: roles.map(|r| r.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn root_always_holds_the_root_role() {
        assert_eq!(user("root", None).effective_roles(), vec!["root"]);
        assert_eq!(
            user("root", Some(&["a"])).effective_roles(),
            vec!["a", "root"]
        );
        assert_eq!(
            user("root", Some(&["root"])).effective_roles(),
            vec!["root"]
        );
        assert_eq!(user("bob", Some(&["a"])).effective_roles(), vec!["a"]);
        assert!(user("bob", None).effective_roles().is_empty());
        // A revoke of root from root is recorded, and root stays a root.
        let revoked = user("root", Some(&["root"]))
            .merged(None, &[], &names(&["root"]))
            .unwrap();
        assert_eq!(revoked.roles, Some(vec![]));
        assert_eq!(revoked.effective_roles(), vec!["root"]);
        // Granting root to root is a duplicate (it holds it already).
        assert!(matches!(
            user("root", None).merged(None, &names(&["root"]), &[]),
            Err(AuthError::DuplicateRole { .. })
        ));
    }

    #[test]
    fn grant_and_revoke_follow_2x() {
        let bob = user("bob", Some(&["b", "a", "a"]));
        let merged = bob.merged(None, &names(&["c"]), &names(&["b"])).unwrap();
        assert_eq!(merged.roles, Some(names(&["a", "c"])));
        assert_eq!(merged.password, bob.password);
        assert_eq!(
            bob.merged(None, &names(&["a"]), &[]),
            Err(AuthError::DuplicateRole {
                user: "bob".into(),
                role: "a".into()
            })
        );
        assert_eq!(
            bob.merged(None, &[], &names(&["z"])),
            Err(AuthError::UngrantedRole {
                user: "bob".into(),
                role: "z".into()
            })
        );
    }

    #[test]
    fn a_new_password_replaces_the_hash() {
        let bob = user("bob", None);
        let new = PasswordHash::for_tests("other");
        let merged = bob.merged(Some(&new), &[], &[]).unwrap();
        assert_eq!(merged.password, new);
        // A user created without roles now has an empty list.
        assert_eq!(merged.roles, Some(vec![]));
    }
}
