//! etcd 2.x's v2 authentication and authorization, as data and decisions:
//! users (a name, a password hash, roles), roles (read and write lists of
//! key patterns), the enabled flag, the built-in `root` and `guest` roles,
//! what each replicated auth command does to them, and who may touch which
//! key.
//!
//! - `pattern`: key patterns (`/foo` exact, `/foo*` and `/foo/*` prefixes);
//! - `role`, `user`: the records and their grant/revoke merges;
//! - `state`: the replicated [`AuthState`] and applying an [`AuthCommand`];
//! - `access`: the permission check, a pure function of the state, the
//!   caller, the key and the kind of access;
//! - `password`: the salted slow hash (PBKDF2-HMAC-SHA256) in a versioned
//!   text form, and its constant-time verification;
//! - `credentials`: reading an `Authorization: Basic` header;
//! - `login`: verifying credentials on an HTTP connection's thread against
//!   the published copy of the state, with a short-lived cache of good
//!   logins and a bound on concurrent hash computations.
//!
//! All but `password` and `login` is pure and deterministic: applying the
//! same commands gives the same state on every replica, and nothing here
//! does IO, reads a clock (except `login`'s cache ages) or spawns threads.
//! The state thread only applies commands; it never hashes: a new password
//! arrives already hashed inside its command. Users and roles never live
//! in the key space (etcd 2.x kept them under `/2/users` in a store of
//! their own; we keep them next to the member table, in snapshots).

mod access;
mod command;
mod credentials;
mod error;
mod login;
mod password;
mod pattern;
mod role;
mod state;
mod user;

pub use access::{Access, Caller, WatchScope, is_root, may_access_key, may_see_event};
pub use command::{AuthCommand, AuthOutcome, RoleChange, UserChange};
pub use credentials::{Credentials, parse_authorization};
pub use error::AuthError;
pub use login::{LOGIN_CACHE_TTL, LoginError, SharedAuth, Verifier};
pub use password::{
    DEFAULT_ITERATIONS, HashError, PasswordHash, PasswordHashParseError, constant_time_eq,
};
pub use pattern::{matches_key, matches_subtree};
pub use role::{GUEST_ROLE, Patterns, Permissions, ROOT_ROLE, Role};
pub use state::AuthState;
pub use user::{ROOT_USER, User};
