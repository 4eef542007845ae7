//! Configuration of the `etcd` binary: etcd 0.4's single-dash command line,
//! `ETCD_*` environment variables, TOML files, defaults and validation,
//! producing one checked [`Config`] (or a request to print the version/help).
//!
//! It never opens sockets, creates directories, prints, or exits: the caller
//! reads `/etc/etcd/etcd.conf`, supplies the host name and a [`ConfigFs`], and
//! decides what to do with the result and its warnings.

mod address;
mod args;
mod env;
mod error;
mod file;
mod fs;
mod identity;
mod layer;
mod load;
mod resolve;
mod setting;
mod startup;
mod usage;
mod value;

pub use address::{Endpoint, Scheme};
pub use error::ConfigError;
pub use fs::{ConfigFs, RealFs};
pub use identity::NAME_FILE;
pub use load::{SYSTEM_CONFIG_PATH, load};
pub use startup::{Config, Startup, TlsFiles};
pub use usage::usage;

#[cfg(test)]
mod tests;
