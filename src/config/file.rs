//! TOML configuration files (`/etc/etcd/etcd.conf` and `-config`), with the
//! keys of etcd 0.4: top-level settings plus `[peer]` and `[cluster]` tables.
//! Unknown keys are ignored; unlike 0.4.6, a whole number is accepted where
//! seconds are expected (0.4's own docs wrote `http_read_timeout = 10`).

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::error::ConfigError;
use super::layer::Layer;

/// `peers` and `cors` are arrays in 0.4; a single comma-separated string is
/// accepted too, since that is how the flag and variable are written.
#[derive(Debug)]
struct StringList(Vec<String>);

impl StringList {
    fn into_vec(self) -> Vec<String> {
        self.0
    }
}

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StringListVisitor)
    }
}

/// Written by hand so a wrong type gets a message saying what is wanted.
struct StringListVisitor;

impl<'de> Visitor<'de> for StringListVisitor {
    type Value = StringList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of strings or a comma-separated string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<StringList, E> {
        Ok(StringList(super::value::list(text)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<StringList, A::Error> {
        let mut list = Vec::new();
        while let Some(item) = items.next_element::<String>()? {
            let item = item.trim();
            if !item.is_empty() {
                list.push(item.to_owned());
            }
        }
        Ok(StringList(list))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PeerTable {
    addr: Option<String>,
    bind_addr: Option<String>,
    ca_file: Option<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    heartbeat_interval: Option<u64>,
    election_timeout: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ClusterTable {
    active_size: Option<u32>,
    // serde's f64 accepts TOML integers as well as floats.
    remove_delay: Option<f64>,
    sync_interval: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FileSettings {
    name: Option<String>,
    data_dir: Option<PathBuf>,
    addr: Option<String>,
    bind_addr: Option<String>,
    peers: Option<StringList>,
    peers_file: Option<PathBuf>,
    discovery: Option<String>,
    ca_file: Option<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    snapshot: Option<bool>,
    snapshot_count: Option<u64>,
    max_retry_attempts: Option<u32>,
    retry_interval: Option<f64>,
    max_result_buffer: Option<u64>,
    http_read_timeout: Option<f64>,
    http_write_timeout: Option<f64>,
    max_connections: Option<u64>,
    cors: Option<StringList>,
    restore: Option<PathBuf>,
    verbose: Option<bool>,
    very_verbose: Option<bool>,
    very_very_verbose: Option<bool>,
    graphite_host: Option<String>,
    peer: PeerTable,
    cluster: ClusterTable,
}

impl FileSettings {
    fn into_layer(self) -> Layer {
        Layer {
            name: self.name,
            data_dir: self.data_dir,
            addr: self.addr,
            bind_addr: self.bind_addr,
            peer_addr: self.peer.addr,
            peer_bind_addr: self.peer.bind_addr,
            peers: self.peers.map(StringList::into_vec),
            peers_file: self.peers_file,
            discovery: self.discovery,
            ca_file: self.ca_file,
            cert_file: self.cert_file,
            key_file: self.key_file,
            peer_ca_file: self.peer.ca_file,
            peer_cert_file: self.peer.cert_file,
            peer_key_file: self.peer.key_file,
            heartbeat_interval: self.peer.heartbeat_interval,
            election_timeout: self.peer.election_timeout,
            snapshot: self.snapshot,
            snapshot_count: self.snapshot_count,
            max_retry_attempts: self.max_retry_attempts,
            retry_interval: self.retry_interval,
            max_result_buffer: self.max_result_buffer,
            http_read_timeout: self.http_read_timeout,
            http_write_timeout: self.http_write_timeout,
            max_connections: self.max_connections,
            cors: self.cors.map(StringList::into_vec),
            cluster_active_size: self.cluster.active_size,
            cluster_remove_delay: self.cluster.remove_delay,
            cluster_sync_interval: self.cluster.sync_interval,
            restore: self.restore,
            verbose: self.verbose,
            very_verbose: self.very_verbose,
            very_very_verbose: self.very_very_verbose,
            graphite_host: self.graphite_host,
            ..Layer::default()
        }
    }
}

/// 1-based line number of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.bytes().take(end).filter(|&b| b == b'\n').count() + 1
}

/// Parse the TOML `text` of the file called `file_name` (used in errors).
pub(crate) fn parse(text: &str, file_name: &str) -> Result<Layer, ConfigError> {
    toml::from_str::<FileSettings>(text)
        .map(FileSettings::into_layer)
        .map_err(|error| {
            // toml's messages may span lines; the caller wants exactly one.
            let message = error
                .message()
                .lines()
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            match error.span() {
                Some(span) => ConfigError(format!(
                    "{file_name}: line {}: {message}",
                    line_of(text, span.start)
                )),
                None => ConfigError(format!("{file_name}: {message}")),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of cli.md §3.
    const EXAMPLE: &str = r#"
name = "machine1"
addr = "127.0.0.1:4001"
data_dir = "machines/machine1"
peers = ["127.0.0.1:7002", "127.0.0.1:7003"]
snapshot_count = 10000

[peer]
addr = "127.0.0.1:7001"
heartbeat_interval = 50
election_timeout = 200

[cluster]
active_size = 9
remove_delay = 1800.0
sync_interval = 5.0
"#;

    fn parse_ok(text: &str) -> Layer {
        match parse(text, "test.conf") {
            Ok(layer) => layer,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn the_documented_example_parses() {
        let layer = parse_ok(EXAMPLE);
        assert_eq!(layer.name.as_deref(), Some("machine1"));
        assert_eq!(layer.addr.as_deref(), Some("127.0.0.1:4001"));
        assert_eq!(layer.data_dir, Some(PathBuf::from("machines/machine1")));
        assert_eq!(
            layer.peers,
            Some(vec!["127.0.0.1:7002".into(), "127.0.0.1:7003".into()])
        );
        assert_eq!(layer.snapshot_count, Some(10000));
        assert_eq!(layer.peer_addr.as_deref(), Some("127.0.0.1:7001"));
        assert_eq!(layer.heartbeat_interval, Some(50));
        assert_eq!(layer.election_timeout, Some(200));
        assert_eq!(layer.cluster_active_size, Some(9));
        assert_eq!(layer.cluster_remove_delay, Some(1800.0));
        assert_eq!(layer.cluster_sync_interval, Some(5.0));
    }

    #[test]
    fn whole_numbers_are_accepted_where_seconds_are_expected() {
        let layer = parse_ok("http_read_timeout = 10\n[cluster]\nremove_delay = 30\n");
        assert_eq!(layer.http_read_timeout, Some(10.0));
        assert_eq!(layer.cluster_remove_delay, Some(30.0));
    }

    #[test]
    fn peer_tls_and_timeouts_come_from_the_peer_table() {
        let layer = parse_ok(
            "ca_file = \"c.pem\"\n[peer]\nca_file = \"p.pem\"\ncert_file = \"pc\"\nkey_file = \"pk\"\nbind_addr = \"0.0.0.0\"\n",
        );
        assert_eq!(layer.ca_file, Some(PathBuf::from("c.pem")));
        assert_eq!(layer.peer_ca_file, Some(PathBuf::from("p.pem")));
        assert_eq!(layer.peer_cert_file, Some(PathBuf::from("pc")));
        assert_eq!(layer.peer_key_file, Some(PathBuf::from("pk")));
        assert_eq!(layer.peer_bind_addr.as_deref(), Some("0.0.0.0"));
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let layer = parse_ok("max_cluster_size = 3\nname = \"a\"\n[other]\nx = 1\n");
        assert_eq!(layer.name.as_deref(), Some("a"));
    }

    #[test]
    fn a_list_of_the_wrong_type_says_what_is_wanted() {
        let message = parse("peers = 3\n", "f")
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            message.contains("an array of strings or a comma-separated string"),
            "{message}"
        );
        let message = parse("peers = [1]\n", "f")
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(message.starts_with("f: line 1: "), "{message}");
    }

    #[test]
    fn a_comma_string_is_accepted_for_lists() {
        let layer = parse_ok("cors = \"http://a, http://b\"\n");
        assert_eq!(layer.cors, Some(vec!["http://a".into(), "http://b".into()]));
    }

    #[test]
    fn a_parse_error_is_one_line_naming_the_file_and_line() {
        let error = parse(
            "name = \"a\"\nsnapshot_count = \"many\"\n",
            "/etc/etcd/etcd.conf",
        )
        .err();
        let message = error.map(|e| e.0).unwrap_or_default();
        assert!(
            message.starts_with("/etc/etcd/etcd.conf: line 2: "),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
        let error = parse("name = \n", "x.toml")
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(error.starts_with("x.toml: line 1: "), "{error}");
        assert!(!error.contains('\n'), "{error}");
    }
}
