//! etcd 0.4's `conf` file: goraft's `{"commitIndex":N,"peers":[{"name":…,
//! "connectionString":…}]}`, rewritten at every membership change. It says
//! how far the log was known to be committed then, and names the *other*
//! members (goraft never lists the machine itself).

use std::path::Path;

use serde::Deserialize;

use super::error::LegacyError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Conf {
    #[serde(rename = "commitIndex", default)]
    pub commit_index: u64,
    /// Go writes a nil list as `null`.
    #[serde(default)]
    pub peers: Option<Vec<Peer>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Peer {
    pub name: String,
    #[serde(rename = "connectionString", default)]
    pub connection_string: String,
}

impl Conf {
    pub fn peer_names(&self) -> impl Iterator<Item = &str> {
        self.peers.iter().flatten().map(|p| p.name.as_str())
    }
}

pub fn read(path: &Path, bytes: &[u8]) -> Result<Conf, LegacyError> {
    serde_json::from_slice(bytes).map_err(|e| LegacyError::json(path, 0, bytes, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legacy::error::Problem;

    #[test]
    fn the_fixture_conf_reads() {
        let bytes = br#"{"commitIndex":10,"peers":[{"name":"m2","connectionString":""},{"name":"m3","connectionString":""}]}"#;
        let conf = read(Path::new("conf"), bytes).unwrap();
        assert_eq!(conf.commit_index, 10);
        assert_eq!(conf.peer_names().collect::<Vec<_>>(), ["m2", "m3"]);
        let alone = read(Path::new("conf"), br#"{"commitIndex":3,"peers":null}"#).unwrap();
        assert_eq!(alone.peer_names().count(), 0);
    }

    #[test]
    fn a_broken_conf_names_the_byte() {
        let err = read(Path::new("m1/conf"), br#"{"commitIndex":"ten"}"#).unwrap_err();
        assert!(matches!(err.problem, Problem::BadJson(_)));
        assert!(err.offset > 0);
    }
}
