//! Roles: a name and two lists of key patterns (read, write), as etcd 2.x
//! keeps them, with its grant and revoke merges. The `root` role is
//! built in: it is never stored, cannot be changed, and allows everything.
//! `guest` is an ordinary role that auth gives unauthenticated requests;
//! enabling auth creates it with full access when it is missing.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::access::Access;
use super::error::AuthError;
use super::pattern::{matches_key, matches_subtree};

pub const ROOT_ROLE: &str = "root";
pub const GUEST_ROLE: &str = "guest";

/// A list of key patterns. `None` is a list the role was created without:
/// 2.x shows it as `null` until a grant or revoke makes it a (possibly
/// empty) list, and an update that only does that counts as a change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Patterns(pub Option<Vec<String>>);

impl Patterns {
    pub fn of(patterns: &[&str]) -> Patterns {
        Patterns(Some(patterns.iter().map(|p| p.to_string()).collect()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().flatten().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// 2.x's grant: every new pattern must be absent (409 otherwise); the
    /// result is a set, sorted.
    fn granted(&self, more: &Patterns, write: bool) -> Result<Patterns, AuthError> {
        let mut set: BTreeSet<&str> = self.iter().collect();
        for pattern in more.iter() {
            if !set.insert(pattern) {
                return Err(AuthError::DuplicatePermission {
                    write,
                    pattern: pattern.to_string(),
                });
            }
        }
        Ok(Patterns(Some(
            set.into_iter().map(str::to_string).collect(),
        )))
    }

    /// 2.x's revoke: patterns not granted are skipped; the result is a
    /// set, sorted.
    fn revoked(&self, fewer: &Patterns) -> Patterns {
        let mut set: BTreeSet<&str> = self.iter().collect();
        for pattern in fewer.iter() {
            set.remove(pattern);
        }
        Patterns(Some(set.into_iter().map(str::to_string).collect()))
    }
}

/// The `kv` permissions of a role.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Permissions {
    pub read: Patterns,
    pub write: Patterns,
}

impl Permissions {
    /// Read and write on the whole key space.
    pub fn full() -> Permissions {
        Permissions {
            read: Patterns::of(&["/*"]),
            write: Patterns::of(&["/*"]),
        }
    }

    /// 2.x's `IsEmpty`: no pattern in either list.
    pub fn is_empty(&self) -> bool {
        self.read.is_empty() && self.write.is_empty()
    }

    fn list(&self, access: Access) -> &Patterns {
        match access {
            Access::Read => &self.read,
            Access::Write => &self.write,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub permissions: Permissions,
}

impl Role {
    /// The built-in `root` role as 2.x shows it.
    pub fn root() -> Role {
        Role {
            name: ROOT_ROLE.to_string(),
            permissions: Permissions::full(),
        }
    }

    /// The `guest` role enabling auth creates when there is none: full
    /// access, so that turning auth on breaks no existing client.
    pub fn default_guest() -> Role {
        Role {
            name: GUEST_ROLE.to_string(),
            permissions: Permissions::full(),
        }
    }

    pub fn is_root(&self) -> bool {
        self.name == ROOT_ROLE
    }

    /// Whether this role grants `access` to `key` (`recursive`: to it and
    /// everything below it, which only a prefix pattern can). `root`
    /// grants everything, whatever its lists say.
    pub fn allows(&self, key: &str, access: Access, recursive: bool) -> bool {
        if self.is_root() {
            return true;
        }
        let mut patterns = self.permissions.list(access).iter();
        if recursive {
            patterns.any(|p| matches_subtree(p, key))
        } else {
            patterns.any(|p| matches_key(p, key))
        }
    }

    /// 2.x's role update: the grant first (a duplicate is 409), then the
    /// revoke (absent patterns skipped). A part given as `None` leaves its
    /// lists as they are; a part given, even empty, turns them into sets.
    pub fn merged(
        &self,
        grant: Option<&Permissions>,
        revoke: Option<&Permissions>,
    ) -> Result<Role, AuthError> {
        let mut permissions = self.permissions.clone();
        if let Some(grant) = grant {
            permissions = Permissions {
                read: permissions.read.granted(&grant.read, false)?,
                write: permissions.write.granted(&grant.write, true)?,
            };
        }
        if let Some(revoke) = revoke {
            permissions = Permissions {
                read: permissions.read.revoked(&revoke.read),
                write: permissions.write.revoked(&revoke.write),
            };
        }
        Ok(Role {
            name: self.name.clone(),
            permissions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(read: &[&str], write: &[&str]) -> Role {
        Role {
            name: "r".into(),
            permissions: Permissions {
                read: Patterns::of(read),
                write: Patterns::of(write),
            },
        }
    }

    fn perms(read: &[&str], write: &[&str]) -> Permissions {
        Permissions {
            read: Patterns::of(read),
            write: Patterns::of(write),
        }
    }

    #[test]
    fn read_and_write_lists_are_separate() {
        let r = role(&["/pub/*"], &["/pub/inbox"]);
        assert!(r.allows("/pub/a", Access::Read, false));
        assert!(!r.allows("/pub/a", Access::Write, false));
        assert!(r.allows("/pub/inbox", Access::Write, false));
        assert!(r.allows("/pub/inbox", Access::Read, false));
        assert!(!r.allows("/priv", Access::Read, false));
    }

    #[test]
    fn recursive_access_needs_a_prefix_pattern() {
        let r = role(&["/exact", "/tree/*"], &[]);
        assert!(r.allows("/exact", Access::Read, false));
        assert!(!r.allows("/exact", Access::Read, true));
        assert!(r.allows("/tree/", Access::Read, true));
        assert!(r.allows("/tree/sub", Access::Read, true));
        assert!(!r.allows("/tree", Access::Read, true));
    }

    #[test]
    fn root_allows_everything_and_an_empty_role_nothing() {
        for key in ["/", "/a", "/a/b/"] {
            for access in [Access::Read, Access::Write] {
                for recursive in [false, true] {
                    assert!(Role::root().allows(key, access, recursive));
                    assert!(!role(&[], &[]).allows(key, access, recursive));
                    let unlisted = Role {
                        name: "x".into(),
                        permissions: Permissions::default(),
                    };
                    assert!(!unlisted.allows(key, access, recursive));
                }
            }
        }
        // Whatever its lists would say.
        let fake_root = Role {
            name: ROOT_ROLE.into(),
            permissions: Permissions::default(),
        };
        assert!(fake_root.allows("/x", Access::Write, true));
    }

    #[test]
    fn a_grant_adds_sorted_and_refuses_duplicates() {
        let r = role(&["/b"], &[]);
        let merged = r
            .merged(Some(&perms(&["/a", "/c"], &["/w"])), None)
            .unwrap();
        assert_eq!(merged.permissions, perms(&["/a", "/b", "/c"], &["/w"]));
        assert_eq!(
            r.merged(Some(&perms(&["/b"], &[])), None),
            Err(AuthError::DuplicatePermission {
                write: false,
                pattern: "/b".into()
            })
        );
        assert_eq!(
            r.merged(Some(&perms(&["/x", "/x"], &[])), None),
            Err(AuthError::DuplicatePermission {
                write: false,
                pattern: "/x".into()
            })
        );
        assert_eq!(
            r.merged(Some(&perms(&[], &["/w", "/w"])), None),
            Err(AuthError::DuplicatePermission {
                write: true,
                pattern: "/w".into()
            })
        );
    }

    #[test]
    fn a_revoke_removes_and_skips_what_is_not_there() {
        let r = role(&["/a", "/b"], &["/a"]);
        let merged = r
            .merged(None, Some(&perms(&["/b", "/zzz"], &["/a"])))
            .unwrap();
        assert_eq!(merged.permissions, perms(&["/a"], &[]));
        assert!(!merged.allows("/b", Access::Read, false));
        assert!(!merged.allows("/a", Access::Write, false));
    }

    #[test]
    fn a_revoke_of_nothing_changes_a_listed_role_but_not_a_null_one() {
        let listed = role(&["/a"], &[]);
        let nothing = perms(&["/zzz"], &[]);
        assert_eq!(listed.merged(None, Some(&nothing)).unwrap(), listed);
        // 2.x: the null lists become empty lists, and that is an update.
        let bare = Role {
            name: "q".into(),
            permissions: Permissions::default(),
        };
        let merged = bare.merged(None, Some(&nothing)).unwrap();
        assert_ne!(merged, bare);
        assert_eq!(merged.permissions, perms(&[], &[]));
    }

    #[test]
    fn permissions_are_empty_without_patterns_whether_null_or_listed() {
        assert!(Permissions::default().is_empty());
        assert!(perms(&[], &[]).is_empty());
        assert!(!perms(&["/a"], &[]).is_empty());
        assert!(!perms(&[], &["/a"]).is_empty());
    }
}
