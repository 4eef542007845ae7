//! What the log carries for auth (inside `server::command::Command::Auth`)
//! and what applying it reports back. A command says what the client
//! asked, in etcd 2.x's terms; whether it succeeds is decided when it is
//! applied, against the replicated state, the same way on every replica.
//! A password arrives hashed: applying never hashes.

use serde::{Deserialize, Serialize};

use super::password::PasswordHash;
use super::role::{Permissions, Role};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthCommand {
    /// `PUT /v2/auth/users/<name>`: create, or change password or roles.
    PutUser(UserChange),
    /// `DELETE /v2/auth/users/<name>`.
    DeleteUser { name: String },
    /// `PUT /v2/auth/roles/<name>`: create, or grant and revoke patterns.
    PutRole(RoleChange),
    /// `DELETE /v2/auth/roles/<name>`.
    DeleteRole { name: String },
    /// `PUT /v2/auth/enable`.
    Enable,
    /// `DELETE /v2/auth/enable`.
    Disable,
}

/// A user `PUT` body, checked and with its password hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChange {
    pub name: String,
    /// None when the body had no password (or an empty one).
    pub password: Option<PasswordHash>,
    /// `roles` of the body: given only when creating.
    pub roles: Option<Vec<String>>,
    pub grant: Vec<String>,
    pub revoke: Vec<String>,
}

/// A role `PUT` body, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChange {
    pub name: String,
    /// The lists of a role being created.
    pub permissions: Permissions,
    pub grant: Option<Permissions>,
    pub revoke: Option<Permissions>,
}

impl RoleChange {
    /// 2.x creates the role when neither a grant nor a revoke has a
    /// pattern, and updates it otherwise.
    pub fn creates(&self) -> bool {
        self.grant.as_ref().is_none_or(Permissions::is_empty)
            && self.revoke.as_ref().is_none_or(Permissions::is_empty)
    }
}

/// What an applied command did, for the answer to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// A user was written. `created` answers 201 rather than 200; `roles`
    /// is what the answer shows (2.x shows the request's roles on a
    /// create, `null` included, and the merged set on an update).
    User {
        created: bool,
        name: String,
        roles: Option<Vec<String>>,
    },
    /// A role was written: 201 with the role as created, or 200 with it
    /// as merged.
    Role {
        created: bool,
        role: Role,
    },
    /// A user or role was removed.
    Removed,
    Enabled,
    Disabled,
}

impl AuthCommand {
    /// A line for the log; never a password or a hash.
    pub fn describe(&self) -> String {
        match self {
            AuthCommand::PutUser(c) => format!("auth: user {} written", c.name),
            AuthCommand::DeleteUser { name } => format!("auth: user {name} removed"),
            AuthCommand::PutRole(c) => format!("auth: role {} written", c.name),
            AuthCommand::DeleteRole { name } => format!("auth: role {name} removed"),
            AuthCommand::Enable => "auth: enabled".into(),
            AuthCommand::Disable => "auth: disabled".into(),
        }
    }
}
