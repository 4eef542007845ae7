//! etcd 0.4's discovery (`-discovery URL`): machines find each other
//! through a registry kept in any etcd v2 keys API (a hosted service such
//! as `https://discovery.etcd.io/<token>`, or `…/v2/keys/_etcd/registry/<token>`
//! on an existing cluster).
//!
//! A machine registers its peer URL under its name, then tries to create
//! the hidden `_state` key: the one that succeeds starts a new cluster; the
//! others join through the machines listed before them. While running, each
//! machine refreshes its entry well before its one-week TTL runs out.
//!
//! Owns: parsing the URL ([`url`](DiscoveryUrl)), the requests and their
//! redirects (`keys`), the steps and their meaning ([`Discoverer`]), and
//! precise errors ([`DiscoveryError`]). Never: joins the cluster, retries a
//! failed discovery, or chooses between falling back to `-peers` and
//! exiting — that is the caller's policy. TLS comes in as a
//! [`Connector`](crate::transport::Connector) (see
//! [`crate::tls::discovery_connector`]).

mod discoverer;
mod error;
mod keys;
mod url;

#[cfg(test)]
mod tests;

pub use discoverer::Discoverer;
pub use error::{DiscoveryError, NO_PEERS_MESSAGE};
pub use url::DiscoveryUrl;

// What the fuzz targets drive directly (`crate::fuzzing`): an answer
// sorted into etcd's shapes, the peers read from a listing, redirects.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use {
    discoverer::peers_in,
    keys::{Exchange, Registry, Reply},
    url::Location,
};

use std::time::Duration;

/// How long a registration lives without a refresh: one week, as in 0.4.
pub const REGISTRATION_TTL_SECS: u64 = 604_800;

/// How often a running machine refreshes its registration: 21 hours, an
/// eighth of the TTL, as in 0.4.
pub const REFRESH_EVERY: Duration = Duration::from_secs(REGISTRATION_TTL_SECS / 8);

/// What discovery decided for this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// This machine won `_state`: start a new cluster.
    StartNewCluster,
    /// The peers to join through (`host:port`, registry order, own entry left out).
    Peers(Vec<String>),
}
