//! `config`: everything an operator can hand the binary before it starts.
//! The input is up to five parts separated by NUL bytes: the command line
//! (one argument per line), the environment (`NAME=value` lines), the
//! `-config` file, `/etc/etcd/etcd.conf`, and the file a `-peers-file` or
//! the data dir's `name` names.
//!
//! Checked: loading is deterministic and never panics; a configuration
//! that loads keeps the documented minimums; and its addresses, written
//! back as flags, load again to the same addresses.

use std::io;
use std::path::Path;

use crate::config::{ConfigFs, Startup, load};
use crate::membership::{MIN_ACTIVE_SIZE, MIN_REMOVE_DELAY_S, MIN_SYNC_INTERVAL_S};

/// Files by what they are for; anything else is "not found".
struct Files<'a> {
    config: Option<&'a str>,
    side: Option<&'a str>,
}

impl ConfigFs for Files<'_> {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        let is_side = path.file_name().is_some_and(|n| n == "name")
            || path.to_string_lossy().contains("peers");
        let text = if is_side { self.side } else { self.config };
        text.map(str::to_string)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
}

pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let args: Vec<String> = parts
        .next()
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    let env: Vec<(String, String)> = parts
        .next()
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let files = Files {
        config: parts.next(),
        side: parts.nth(1),
    };
    let system = text.split('\0').nth(3);
    let loaded = load(&args, &env, system, &files, "fuzzhost");
    assert_eq!(loaded, load(&args, &env, system, &files, "fuzzhost"));
    let Ok(Startup::Run(c)) = loaded else {
        return;
    };
    assert!(!c.name.trim().is_empty() && !c.data_dir.as_os_str().is_empty());
    assert!(c.heartbeat_interval_ms >= 1 && c.election_timeout_ms > c.heartbeat_interval_ms);
    assert!(c.snapshot_count >= 1);
    assert!(c.cluster_active_size >= MIN_ACTIVE_SIZE);
    assert!(c.cluster_remove_delay.is_finite() && c.cluster_remove_delay >= MIN_REMOVE_DELAY_S);
    assert!(c.cluster_sync_interval.is_finite() && c.cluster_sync_interval >= MIN_SYNC_INTERVAL_S);
    assert!(!c.http_read_timeout.is_zero() && !c.http_write_timeout.is_zero());
    assert!(c.retry_interval.is_none_or(|s| s.is_finite() && s >= 0.0));

    // The addresses as flags again: the same addresses.
    let mut again = vec![
        format!("-name={}", c.name),
        format!("-data-dir={}", c.data_dir.display()),
        format!("-addr={}", c.client.url()),
        format!("-bind-addr={}", c.client_bind),
        format!("-peer-addr={}", c.peer.url()),
        format!("-peer-bind-addr={}", c.peer_bind),
        format!("-peers={}", c.peers.join(",")),
    ];
    let tls = [
        ("-cert-file", &c.client_tls.cert),
        ("-key-file", &c.client_tls.key),
        ("-peer-cert-file", &c.peer_tls.cert),
        ("-peer-key-file", &c.peer_tls.key),
    ];
    for (flag, file) in tls {
        if let Some(path) = file {
            again.push(format!("{flag}={}", path.display()));
        }
    }
    let none = Files {
        config: None,
        side: None,
    };
    match load(&again, &[], None, &none, "fuzzhost") {
        Ok(Startup::Run(d)) => {
            assert_eq!((&d.client, &d.client_bind), (&c.client, &c.client_bind));
            assert_eq!((&d.peer, &d.peer_bind), (&c.peer, &c.peer_bind));
            assert_eq!(d.peers, c.peers);
        }
        other => panic!("the addresses as flags do not load: {again:?} → {other:?}"),
    }
}
