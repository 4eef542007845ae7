//! The dashboard at `/mod/dashboard/` on the client port, as etcd 0.4
//! shipped one: a page that shows the cluster, browses and edits the keys,
//! watches a prefix live and charts the load.
//!
//! What this module owns:
//! - `assets`: the page's HTML, CSS and JavaScript, embedded in the binary
//!   (`src/dashboard/assets/`, no build step, nothing from the internet);
//! - `serve`: answering `/mod/dashboard/…` with them (types, caching, the
//!   redirect of `/mod/dashboard`, 404 for anything else);
//! - `csrf`: the rule that refuses a write made from a dashboard page
//!   without the page's `X-Etcd-Dashboard: 1` header;
//! - `origin`: the browser origins of the members' client URLs, which
//!   CORS (in `http::gateway`) and `csrf` compare `Origin` with.
//!
//! What it never does: read or change the key tree, talk to the state
//! thread, or keep state. Every piece of data the page shows, and every
//! write it makes, goes through the existing HTTP APIs, called by the page
//! itself (the keys API, `/v2/members`, `/v2/stats/*`, `/health`,
//! `/metrics`).

pub mod assets;
pub mod csrf;
pub mod origin;
mod serve;

#[cfg(test)]
mod tests;

pub use serve::answer;

/// Where the page lives; `/mod/dashboard` redirects to `PREFIX` + `/`.
pub const PREFIX: &str = "/mod/dashboard";
