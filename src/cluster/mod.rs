//! Finding and keeping this machine's place in a cluster — the IO side of
//! `membership/`: at start-up, decide from the data dir, `-discovery` and
//! `-peers` whether to found a cluster, join one, restart as a member or
//! wait as a standby; while running, let a standby look at the cluster every
//! `syncInterval` and join when there is room, and let a member that has
//! lost its leader find out whether it was removed while away.
//!
//! Talks to other machines only through the peer port (`/version`,
//! `/join`, `/v2/admin/*`), with a deadline on every call. Never decides
//! policy itself: `membership/` does, the state thread applies.

pub mod admin_client;
pub mod announce;
pub mod find;
pub mod keeper;
pub mod standby_info;
