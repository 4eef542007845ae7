//! One source's worth of settings (system file, `-config` file, environment or
//! command line). Every field is optional: `None` means "this source does not
//! say", so layers can be stacked with the later one winning.

use std::path::PathBuf;

use super::setting::Setting;
use super::value::{self, Expected, SwitchParser};

#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Layer {
    pub name: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub addr: Option<String>,
    pub bind_addr: Option<String>,
    pub peer_addr: Option<String>,
    pub peer_bind_addr: Option<String>,
    pub peers: Option<Vec<String>>,
    pub peers_file: Option<PathBuf>,
    pub discovery: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub peer_ca_file: Option<PathBuf>,
    pub peer_cert_file: Option<PathBuf>,
    pub peer_key_file: Option<PathBuf>,
    pub heartbeat_interval: Option<u64>,
    pub election_timeout: Option<u64>,
    pub snapshot: Option<bool>,
    pub snapshot_count: Option<u64>,
    pub max_retry_attempts: Option<u32>,
    pub retry_interval: Option<f64>,
    pub max_result_buffer: Option<u64>,
    pub http_read_timeout: Option<f64>,
    pub http_write_timeout: Option<f64>,
    pub max_connections: Option<u64>,
    pub cors: Option<Vec<String>>,
    pub cluster_active_size: Option<u32>,
    pub cluster_remove_delay: Option<f64>,
    pub cluster_sync_interval: Option<f64>,
    pub config_file: Option<PathBuf>,
    pub force: Option<bool>,
    pub restore: Option<PathBuf>,
    pub backup_data_dir: Option<PathBuf>,
    pub backup_file: Option<PathBuf>,
    pub inspect: Option<PathBuf>,
    pub json: Option<bool>,
    pub verbose: Option<bool>,
    pub very_verbose: Option<bool>,
    pub very_very_verbose: Option<bool>,
    pub version: Option<bool>,
    pub help: Option<bool>,
    pub cpu_profile: Option<String>,
    pub trace: Option<String>,
    pub graphite_host: Option<String>,
}

/// Field by field, `over`'s value where it has one, else `self`'s.
macro_rules! overlay_fields {
    ($base:ident, $over:ident; $($field:ident),* $(,)?) => {
        Layer { $($field: $over.$field.or($base.$field)),* }
    };
}

impl Layer {
    /// Stack `over` on top of `self`.
    pub(crate) fn overlay(self, over: Layer) -> Layer {
        overlay_fields!(self, over;
            name, data_dir, addr, bind_addr, peer_addr, peer_bind_addr, peers, peers_file,
            discovery, ca_file, cert_file, key_file, peer_ca_file, peer_cert_file,
            peer_key_file, heartbeat_interval, election_timeout, snapshot, snapshot_count,
            max_retry_attempts, retry_interval, max_result_buffer, http_read_timeout,
            http_write_timeout, max_connections, cors, cluster_active_size, cluster_remove_delay,
            cluster_sync_interval, config_file, force, restore, backup_data_dir, backup_file,
            inspect, json, verbose, very_verbose,
            very_very_verbose, version, help, cpu_profile, trace, graphite_host,
        )
    }

    /// Set one setting from text (a flag value or an environment variable).
    /// Booleans are read with `switch` because flags and environment spell
    /// them differently.
    pub(crate) fn set_text(
        &mut self,
        setting: Setting,
        text: &str,
        switch: SwitchParser,
    ) -> Result<(), Expected> {
        let text_owned = || Some(text.to_owned());
        let path = || Some(PathBuf::from(text));
        match setting {
            Setting::Name => self.name = text_owned(),
            Setting::DataDir => self.data_dir = path(),
            Setting::Addr => self.addr = text_owned(),
            Setting::BindAddr => self.bind_addr = text_owned(),
            Setting::PeerAddr => self.peer_addr = text_owned(),
            Setting::PeerBindAddr => self.peer_bind_addr = text_owned(),
            Setting::Peers => self.peers = Some(value::list(text)),
            Setting::PeersFile => self.peers_file = path(),
            Setting::Discovery => self.discovery = text_owned(),
            Setting::CaFile => self.ca_file = path(),
            Setting::CertFile => self.cert_file = path(),
            Setting::KeyFile => self.key_file = path(),
            Setting::PeerCaFile => self.peer_ca_file = path(),
            Setting::PeerCertFile => self.peer_cert_file = path(),
            Setting::PeerKeyFile => self.peer_key_file = path(),
            Setting::HeartbeatInterval => self.heartbeat_interval = Some(value::count(text)?),
            Setting::ElectionTimeout => self.election_timeout = Some(value::count(text)?),
            Setting::Snapshot => self.snapshot = Some(switch(text)?),
            Setting::SnapshotCount => self.snapshot_count = Some(value::count(text)?),
            Setting::MaxRetryAttempts => self.max_retry_attempts = Some(value::small_count(text)?),
            Setting::RetryInterval => self.retry_interval = Some(value::seconds(text)?),
            Setting::MaxResultBuffer => self.max_result_buffer = Some(value::count(text)?),
            Setting::HttpReadTimeout => self.http_read_timeout = Some(value::seconds(text)?),
            Setting::HttpWriteTimeout => self.http_write_timeout = Some(value::seconds(text)?),
            Setting::MaxConnections => self.max_connections = Some(value::count(text)?),
            Setting::Cors => self.cors = Some(value::list(text)),
            Setting::ClusterActiveSize => {
                self.cluster_active_size = Some(value::small_count(text)?)
            }
            Setting::ClusterRemoveDelay => self.cluster_remove_delay = Some(value::seconds(text)?),
            Setting::ClusterSyncInterval => {
                self.cluster_sync_interval = Some(value::seconds(text)?)
            }
            Setting::ConfigFile => self.config_file = path(),
            Setting::Force => self.force = Some(switch(text)?),
            Setting::Restore => self.restore = path(),
            Setting::BackupDataDir => self.backup_data_dir = path(),
            Setting::BackupFile => self.backup_file = path(),
            Setting::Inspect => self.inspect = path(),
            Setting::Json => self.json = Some(switch(text)?),
            Setting::Verbose => self.verbose = Some(switch(text)?),
            Setting::VeryVerbose => self.very_verbose = Some(switch(text)?),
            Setting::VeryVeryVerbose => self.very_very_verbose = Some(switch(text)?),
            Setting::Version => self.version = Some(switch(text)?),
            Setting::Help => self.help = Some(switch(text)?),
            Setting::CpuProfile => self.cpu_profile = text_owned(),
            Setting::Trace => self.trace = text_owned(),
            Setting::GraphiteHost => self.graphite_host = text_owned(),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::value::switch_from_flag;

    #[test]
    fn the_upper_layer_wins_where_it_says_something() {
        let base = Layer {
            name: Some("low".into()),
            snapshot_count: Some(5),
            ..Layer::default()
        };
        let over = Layer {
            name: Some("high".into()),
            ..Layer::default()
        };
        let merged = base.overlay(over);
        assert_eq!(merged.name.as_deref(), Some("high"));
        assert_eq!(merged.snapshot_count, Some(5));
    }

    #[test]
    fn bad_text_reports_what_was_expected() {
        let mut layer = Layer::default();
        assert!(
            layer
                .set_text(Setting::SnapshotCount, "abc", switch_from_flag)
                .is_err()
        );
        assert_eq!(layer.snapshot_count, None);
    }
}
