//! From the stacked layers to a checked [`Config`]: defaults filled in,
//! addresses and TLS reconciled, peers file read, numbers validated.

use std::time::Duration;

use super::address::{Side, check_discovery};
use super::error::ConfigError;
use super::fs::ConfigFs;
use super::identity::name_and_data_dir;
use super::layer::Layer;
use super::startup::{Config, TlsFiles};
use super::value;
use crate::membership::{
    DEFAULT_ACTIVE_SIZE, DEFAULT_REMOVE_DELAY_S, DEFAULT_SYNC_INTERVAL_S, MIN_ACTIVE_SIZE,
    MIN_REMOVE_DELAY_S, MIN_SYNC_INTERVAL_S,
};

pub const DEFAULT_ADDR: &str = "127.0.0.1:4001";
pub const DEFAULT_PEER_ADDR: &str = "127.0.0.1:7001";
const DEFAULT_SNAPSHOT_COUNT: u64 = 10_000;
const DEFAULT_HEARTBEAT_MS: u64 = 50;
const DEFAULT_ELECTION_MS: u64 = 200;
const DEFAULT_MAX_RETRY_ATTEMPTS: u32 = 3;
const DEFAULT_MAX_RESULT_BUFFER: u64 = 1024;
const DEFAULT_HTTP_TIMEOUT_S: f64 = 300.0;

pub(crate) fn resolve(
    layer: Layer,
    fs: &dyn ConfigFs,
    hostname: &str,
    mut warnings: Vec<String>,
) -> Result<Config, ConfigError> {
    let (name, data_dir) =
        name_and_data_dir(layer.name, layer.data_dir, fs, hostname, &mut warnings)?;

    let client_tls = tls_files(
        TlsFiles {
            ca: layer.ca_file,
            cert: layer.cert_file,
            key: layer.key_file,
        },
        ["-ca-file", "-cert-file", "-key-file"],
        &mut warnings,
    )?;
    let peer_tls = tls_files(
        TlsFiles {
            ca: layer.peer_ca_file,
            cert: layer.peer_cert_file,
            key: layer.peer_key_file,
        },
        ["-peer-ca-file", "-peer-cert-file", "-peer-key-file"],
        &mut warnings,
    )?;

    let client_side = Side {
        addr_flag: "-addr",
        bind_flag: "-bind-addr",
        tls_flags: "-cert-file and -key-file",
        tls_on: client_tls.enabled(),
    };
    let peer_side = Side {
        addr_flag: "-peer-addr",
        bind_flag: "-peer-bind-addr",
        tls_flags: "-peer-cert-file and -peer-key-file",
        tls_on: peer_tls.enabled(),
    };
    let client = client_side.advertised(layer.addr.as_deref().unwrap_or(DEFAULT_ADDR))?;
    let client_bind = client_side.listen(layer.bind_addr.as_deref(), &client)?;
    let peer = peer_side.advertised(layer.peer_addr.as_deref().unwrap_or(DEFAULT_PEER_ADDR))?;
    let peer_bind = peer_side.listen(layer.peer_bind_addr.as_deref(), &peer)?;

    // The peers file, from whichever layer named it, replaces every -peers.
    let peer_texts = match layer.peers_file.filter(|path| !path.as_os_str().is_empty()) {
        Some(path) => {
            let text = fs.read_to_string(&path).map_err(|error| {
                ConfigError(format!(
                    "cannot read -peers-file {}: {error}",
                    path.display()
                ))
            })?;
            // Commas as in -peers; line breaks tolerated as well.
            value::list(&text.replace(char::is_whitespace, ","))
        }
        None => layer.peers.unwrap_or_default(),
    };
    let peers = peer_texts
        .iter()
        .map(|text| peer_side.peer(text))
        .collect::<Result<Vec<_>, _>>()?;

    let discovery = layer.discovery.filter(|url| !url.trim().is_empty());
    if let Some(url) = &discovery {
        check_discovery(url)?;
    }
    let restore = layer.restore.filter(|path| !path.as_os_str().is_empty());
    let force = layer.force.unwrap_or(false);
    if restore.is_some() {
        // A restored machine founds a new cluster; others join it later.
        let conflict = if !peers.is_empty() {
            Some("-peers")
        } else if discovery.is_some() {
            Some("-discovery")
        } else if force {
            Some("-force")
        } else {
            None
        };
        if let Some(flag) = conflict {
            return Err(ConfigError(format!(
                "-restore starts a new cluster of one in a new or empty -data-dir: it cannot \
                 be combined with {flag} (other machines join it with -peers afterwards)"
            )));
        }
    }

    let heartbeat_interval_ms = layer.heartbeat_interval.unwrap_or(DEFAULT_HEARTBEAT_MS);
    let election_timeout_ms = layer.election_timeout.unwrap_or(DEFAULT_ELECTION_MS);
    if heartbeat_interval_ms < 1 {
        return Err(ConfigError::new(
            "-peer-heartbeat-interval must be at least 1 (milliseconds)",
        ));
    }
    if election_timeout_ms <= heartbeat_interval_ms {
        return Err(ConfigError(format!(
            "-peer-election-timeout ({election_timeout_ms} ms) must be greater than \
             -peer-heartbeat-interval ({heartbeat_interval_ms} ms)"
        )));
    }
    let snapshot_count = layer.snapshot_count.unwrap_or(DEFAULT_SNAPSHOT_COUNT);
    if snapshot_count < 1 {
        return Err(ConfigError::new("-snapshot-count must be at least 1"));
    }
    let max_connections = match layer.max_connections {
        Some(0) => {
            return Err(ConfigError::new(
                "-max-connections must be at least 1 (leave it out to size it from the machine)",
            ));
        }
        Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        None => None,
    };
    let retry_interval = match layer.retry_interval {
        Some(seconds) if !(seconds.is_finite() && seconds >= 0.0) => {
            return Err(ConfigError(format!(
                "-retry-interval must be 0 or more seconds, not {seconds}"
            )));
        }
        other => other,
    };

    let verbosity = match (layer.very_very_verbose, layer.very_verbose, layer.verbose) {
        (Some(true), _, _) => 3,
        (_, Some(true), _) => 2,
        (_, _, Some(true)) => 1,
        _ => 0,
    };

    for (given, flag) in [
        (layer.cpu_profile.is_some(), "-cpuprofile"),
        (layer.trace.is_some(), "-trace"),
        (layer.graphite_host.is_some(), "-graphite-host"),
    ] {
        if given {
            warnings.push(format!("{flag} is not supported by this etcd; ignored"));
        }
    }

    Ok(Config {
        name,
        data_dir,
        client,
        client_bind,
        peer,
        peer_bind,
        peers,
        discovery,
        client_tls,
        peer_tls,
        snapshot: layer.snapshot.unwrap_or(true),
        snapshot_count,
        heartbeat_interval_ms,
        election_timeout_ms,
        max_retry_attempts: layer
            .max_retry_attempts
            .unwrap_or(DEFAULT_MAX_RETRY_ATTEMPTS),
        retry_interval,
        max_result_buffer: layer.max_result_buffer.unwrap_or(DEFAULT_MAX_RESULT_BUFFER),
        http_read_timeout: timeout("-http-read-timeout", layer.http_read_timeout)?,
        // Independent of the read timeout (0.4.6 overwrote it by mistake).
        http_write_timeout: timeout("-http-write-timeout", layer.http_write_timeout)?,
        max_connections,
        cors: layer.cors.unwrap_or_default(),
        force,
        restore,
        verbosity,
        cluster_active_size: at_least(
            "-cluster-active-size",
            layer.cluster_active_size.unwrap_or(DEFAULT_ACTIVE_SIZE),
            MIN_ACTIVE_SIZE,
            &mut warnings,
        ),
        cluster_remove_delay: seconds_at_least(
            "-cluster-remove-delay",
            layer.cluster_remove_delay.unwrap_or(DEFAULT_REMOVE_DELAY_S),
            MIN_REMOVE_DELAY_S,
            &mut warnings,
        )?,
        cluster_sync_interval: seconds_at_least(
            "-cluster-sync-interval",
            layer
                .cluster_sync_interval
                .unwrap_or(DEFAULT_SYNC_INTERVAL_S),
            MIN_SYNC_INTERVAL_S,
            &mut warnings,
        )?,
        warnings,
    })
}

/// A certificate without its key (or the reverse) is a mistake worth stopping
/// for; a CA alone does nothing, which is worth a warning.
fn tls_files(
    files: TlsFiles,
    [ca_flag, cert_flag, key_flag]: [&str; 3],
    warnings: &mut Vec<String>,
) -> Result<TlsFiles, ConfigError> {
    let files = TlsFiles {
        ca: files.ca.filter(|p| !p.as_os_str().is_empty()),
        cert: files.cert.filter(|p| !p.as_os_str().is_empty()),
        key: files.key.filter(|p| !p.as_os_str().is_empty()),
    };
    match (&files.cert, &files.key) {
        (Some(_), None) => Err(ConfigError(format!(
            "{cert_flag} is set but {key_flag} is not: HTTPS needs both"
        ))),
        (None, Some(_)) => Err(ConfigError(format!(
            "{key_flag} is set but {cert_flag} is not: HTTPS needs both"
        ))),
        _ => {
            if files.ca.is_some() && !files.enabled() {
                warnings.push(format!(
                    "{ca_flag} has no effect without {cert_flag} and {key_flag}"
                ));
            }
            Ok(files)
        }
    }
}

fn timeout(flag: &str, seconds: Option<f64>) -> Result<Duration, ConfigError> {
    let seconds = seconds.unwrap_or(DEFAULT_HTTP_TIMEOUT_S);
    match Duration::try_from_secs_f64(seconds) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        _ => Err(ConfigError(format!(
            "{flag} must be a positive number of seconds, not {seconds}"
        ))),
    }
}

fn at_least(flag: &str, value: u32, minimum: u32, warnings: &mut Vec<String>) -> u32 {
    if value < minimum {
        warnings.push(format!(
            "{flag} {value} is below {minimum}; using {minimum}"
        ));
        minimum
    } else {
        value
    }
}

fn seconds_at_least(
    flag: &str,
    value: f64,
    minimum: f64,
    warnings: &mut Vec<String>,
) -> Result<f64, ConfigError> {
    if !value.is_finite() {
        return Err(ConfigError(format!(
            "{flag} must be a number of seconds, not {value}"
        )));
    }
    if value < minimum {
        warnings.push(format!(
            "{flag} {value} is below {minimum}; using {minimum}"
        ));
        return Ok(minimum);
    }
    Ok(value)
}
