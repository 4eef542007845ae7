//! Why an auth command was refused, with the HTTP status and the message
//! etcd 2.x answers (`{"message":"auth: ..."}`), word for word: clients
//! and people compare them (2.x spells "does not exist." when reading or
//! updating and "doesn't exist." when removing a role, and drops the full
//! stop when removing a missing user).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Read or update of a missing user.
    UserNotFound(String),
    /// Removal of a missing user.
    UserNotFoundOnRemove(String),
    UserExists(String),
    /// A new user needs a password.
    EmptyPassword(String),
    /// The update changes nothing.
    UserNotUpdated,
    DuplicateRole {
        user: String,
        role: String,
    },
    UngrantedRole {
        user: String,
        role: String,
    },
    /// `root` cannot be removed while auth is on.
    RootUserProtected,
    /// Read or update of a missing role.
    RoleNotFound(String),
    /// Removal of a missing role.
    RoleNotFoundOnRemove(String),
    RoleExists(String),
    /// The built-in `root` role cannot be created, changed or removed.
    RootRoleProtected,
    /// The update changes nothing.
    RoleNotUpdated,
    DuplicatePermission {
        write: bool,
        pattern: String,
    },
    AlreadyEnabled,
    AlreadyDisabled,
    /// Auth cannot be turned on without a `root` user.
    NoRootUser,
}

impl AuthError {
    /// 2.x's status for each refusal.
    pub fn http_status(&self) -> u16 {
        match self {
            AuthError::UserNotFound(_)
            | AuthError::UserNotFoundOnRemove(_)
            | AuthError::RoleNotFound(_)
            | AuthError::RoleNotFoundOnRemove(_) => 404,
            AuthError::EmptyPassword(_) | AuthError::UserNotUpdated | AuthError::RoleNotUpdated => {
                400
            }
            AuthError::RootUserProtected | AuthError::RootRoleProtected => 403,
            AuthError::UserExists(_)
            | AuthError::DuplicateRole { .. }
            | AuthError::UngrantedRole { .. }
            | AuthError::RoleExists(_)
            | AuthError::DuplicatePermission { .. }
            | AuthError::AlreadyEnabled
            | AuthError::AlreadyDisabled
            | AuthError::NoRootUser => 409,
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("auth: ")?;
        match self {
            AuthError::UserNotFound(u) => write!(f, "User {u} does not exist."),
            AuthError::UserNotFoundOnRemove(u) => write!(f, "User {u} does not exist"),
            AuthError::UserExists(u) => write!(f, "User {u} already exists."),
            AuthError::EmptyPassword(u) => {
                write!(f, "Cannot create user {u} with an empty password")
            }
            AuthError::UserNotUpdated => {
                f.write_str("User not updated. Use grant/revoke/password to update the user.")
            }
            AuthError::DuplicateRole { user, role } => {
                write!(f, "Granting duplicate role {role} for user {user}")
            }
            AuthError::UngrantedRole { user, role } => {
                write!(f, "Revoking ungranted role {role} for user {user}")
            }
            AuthError::RootUserProtected => {
                f.write_str("Cannot delete root user while auth is enabled.")
            }
            AuthError::RoleNotFound(r) => write!(f, "Role {r} does not exist."),
            AuthError::RoleNotFoundOnRemove(r) => write!(f, "Role {r} doesn't exist."),
            AuthError::RoleExists(r) => write!(f, "Role {r} already exists."),
            AuthError::RootRoleProtected => f.write_str("Cannot modify role root: is root role."),
            AuthError::RoleNotUpdated => {
                f.write_str("Role not updated. Use grant/revoke to update the role.")
            }
            AuthError::DuplicatePermission { write, pattern } => {
                let kind = if *write { "write" } else { "read" };
                write!(f, "Granting duplicate {kind} permission {pattern}")
            }
            AuthError::AlreadyEnabled => f.write_str("already enabled"),
            AuthError::AlreadyDisabled => f.write_str("already disabled"),
            AuthError::NoRootUser => f.write_str("No root user available, please create one"),
        }
    }
}

impl std::error::Error for AuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_statuses_are_etcd_2s() {
        let cases = [
            (
                AuthError::UserNotFound("bob".into()),
                404,
                "auth: User bob does not exist.",
            ),
            (
                AuthError::UserNotFoundOnRemove("bob".into()),
                404,
                "auth: User bob does not exist",
            ),
            (
                AuthError::RoleNotFoundOnRemove("r".into()),
                404,
                "auth: Role r doesn't exist.",
            ),
            (
                AuthError::EmptyPassword("bob".into()),
                400,
                "auth: Cannot create user bob with an empty password",
            ),
            (
                AuthError::DuplicatePermission {
                    write: false,
                    pattern: "/b".into(),
                },
                409,
                "auth: Granting duplicate read permission /b",
            ),
            (
                AuthError::RootRoleProtected,
                403,
                "auth: Cannot modify role root: is root role.",
            ),
            (
                AuthError::NoRootUser,
                409,
                "auth: No root user available, please create one",
            ),
        ];
        for (error, status, message) in cases {
            assert_eq!(error.http_status(), status, "{error}");
            assert_eq!(error.to_string(), message);
        }
    }
}
