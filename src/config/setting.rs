//! The table of every setting: its flag spelling(s), environment variable(s),
//! and the words the usage text shows. Command line, environment and usage all
//! read this one table, so a setting cannot exist in one place and be missing
//! from another.

/// One configurable thing, whatever source sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setting {
    Name,
    DataDir,
    Addr,
    BindAddr,
    PeerAddr,
    PeerBindAddr,
    Peers,
    PeersFile,
    Discovery,
    CaFile,
    CertFile,
    KeyFile,
    PeerCaFile,
    PeerCertFile,
    PeerKeyFile,
    HeartbeatInterval,
    ElectionTimeout,
    Snapshot,
    SnapshotCount,
    MaxRetryAttempts,
    RetryInterval,
    MaxResultBuffer,
    HttpReadTimeout,
    HttpWriteTimeout,
    MaxConnections,
    Cors,
    ClusterActiveSize,
    ClusterRemoveDelay,
    ClusterSyncInterval,
    ConfigFile,
    Force,
    Restore,
    BackupDataDir,
    BackupFile,
    Inspect,
    Json,
    Verbose,
    VeryVerbose,
    VeryVeryVerbose,
    Version,
    Help,
    CpuProfile,
    Trace,
    GraphiteHost,
}

impl Setting {
    /// Booleans are written Go-style on the command line (`-snapshot`,
    /// `-snapshot=false`), so the flag parser must know which settings they are.
    pub(crate) fn is_switch(self) -> bool {
        matches!(
            self,
            Setting::Snapshot
                | Setting::Force
                | Setting::Json
                | Setting::Verbose
                | Setting::VeryVerbose
                | Setting::VeryVeryVerbose
                | Setting::Version
                | Setting::Help
        )
    }
}

/// One flag as documented: its canonical spelling (without dash), other
/// spellings that are equally current, the environment variables read for it
/// (the first one present wins), and its usage line.
pub(crate) struct FlagSpec {
    pub name: &'static str,
    pub also: &'static [&'static str],
    pub setting: Setting,
    pub env: &'static [&'static str],
    pub hint: &'static str,
    pub default: &'static str,
    pub meaning: &'static str,
}

/// An old spelling from etcd 0.3/0.4 that still works but earns a warning.
pub(crate) struct Deprecated {
    pub old: &'static str,
    pub new: &'static str,
}

const fn flag(
    name: &'static str,
    setting: Setting,
    env: &'static [&'static str],
    hint: &'static str,
    default: &'static str,
    meaning: &'static str,
) -> FlagSpec {
    FlagSpec {
        name,
        also: &[],
        setting,
        env,
        hint,
        default,
        meaning,
    }
}

const NONE: &str = "none";

pub(crate) const FLAGS: &[FlagSpec] = &[
    flag(
        "name",
        Setting::Name,
        &["ETCD_NAME"],
        "NAME",
        "the name recorded in -data-dir, else the host name",
        "this member's name; must be unique in the cluster",
    ),
    flag(
        "data-dir",
        Setting::DataDir,
        &["ETCD_DATA_DIR"],
        "DIR",
        "<name>.etcd",
        "directory holding this member's log, snapshots and identity",
    ),
    flag(
        "addr",
        Setting::Addr,
        &["ETCD_ADDR"],
        "HOST:PORT",
        "127.0.0.1:4001",
        "client address announced to others (http:// or https:// may prefix it)",
    ),
    flag(
        "bind-addr",
        Setting::BindAddr,
        &["ETCD_BIND_ADDR"],
        "HOST[:PORT]",
        "the host and port of -addr",
        "where the client port listens; 0.0.0.0 listens on every interface",
    ),
    flag(
        "peer-addr",
        Setting::PeerAddr,
        &["ETCD_PEER_ADDR"],
        "HOST:PORT",
        "127.0.0.1:7001",
        "peer address announced to the other members",
    ),
    flag(
        "peer-bind-addr",
        Setting::PeerBindAddr,
        &["ETCD_PEER_BIND_ADDR"],
        "HOST[:PORT]",
        "the host and port of -peer-addr",
        "where the peer port listens; 0.0.0.0 listens on every interface",
    ),
    flag(
        "peers",
        Setting::Peers,
        &["ETCD_PEERS"],
        "HOST:PORT,...",
        NONE,
        "peer addresses of existing members to join through, tried in order",
    ),
    flag(
        "peers-file",
        Setting::PeersFile,
        &["ETCD_PEERS_FILE"],
        "FILE",
        NONE,
        "file holding a comma-separated peer list; replaces -peers from every source",
    ),
    flag(
        "discovery",
        Setting::Discovery,
        &["ETCD_DISCOVERY"],
        "URL",
        NONE,
        "discovery URL through which the first members find each other",
    ),
    flag(
        "ca-file",
        Setting::CaFile,
        &["ETCD_CA_FILE"],
        "FILE",
        NONE,
        "CA for the client port; clients must then present a certificate it signed",
    ),
    flag(
        "cert-file",
        Setting::CertFile,
        &["ETCD_CERT_FILE"],
        "FILE",
        NONE,
        "certificate of the client port; with -key-file the port speaks HTTPS",
    ),
    flag(
        "key-file",
        Setting::KeyFile,
        &["ETCD_KEY_FILE"],
        "FILE",
        NONE,
        "private key belonging to -cert-file",
    ),
    flag(
        "peer-ca-file",
        Setting::PeerCaFile,
        &["ETCD_PEER_CA_FILE"],
        "FILE",
        NONE,
        "CA that peer certificates must be signed by, in both directions",
    ),
    flag(
        "peer-cert-file",
        Setting::PeerCertFile,
        &["ETCD_PEER_CERT_FILE"],
        "FILE",
        NONE,
        "certificate of the peer port; with -peer-key-file peers speak HTTPS",
    ),
    flag(
        "peer-key-file",
        Setting::PeerKeyFile,
        &["ETCD_PEER_KEY_FILE"],
        "FILE",
        NONE,
        "private key belonging to -peer-cert-file",
    ),
    flag(
        "peer-heartbeat-interval",
        Setting::HeartbeatInterval,
        &["ETCD_PEER_HEARTBEAT_INTERVAL"],
        "MS",
        "50",
        "milliseconds between two heartbeats of the leader",
    ),
    flag(
        "peer-election-timeout",
        Setting::ElectionTimeout,
        &["ETCD_PEER_ELECTION_TIMEOUT"],
        "MS",
        "200",
        "milliseconds without a leader before a follower calls an election",
    ),
    flag(
        "snapshot",
        Setting::Snapshot,
        &["ETCD_SNAPSHOT"],
        "[=BOOL]",
        "true",
        "take snapshots and compact the log (turn off with -snapshot=false)",
    ),
    flag(
        "snapshot-count",
        Setting::SnapshotCount,
        // 0.4.6 read the irregular ETCD_SNAPSHOTCOUNT; its docs said the other.
        &["ETCD_SNAPSHOT_COUNT", "ETCD_SNAPSHOTCOUNT"],
        "N",
        "10000",
        "committed entries between two snapshots",
    ),
    flag(
        "max-retry-attempts",
        Setting::MaxRetryAttempts,
        &["ETCD_MAX_RETRY_ATTEMPTS"],
        "N",
        "3",
        "rounds over the peer list when joining, before giving up",
    ),
    flag(
        "retry-interval",
        Setting::RetryInterval,
        &["ETCD_RETRY_INTERVAL"],
        "SECONDS",
        "random, between 2.5 and 5",
        "pause between two join rounds",
    ),
    flag(
        "max-result-buffer",
        Setting::MaxResultBuffer,
        &["ETCD_MAX_RESULT_BUFFER"],
        "N",
        "1024",
        "kept for compatibility with etcd 0.4; has no effect",
    ),
    flag(
        "http-read-timeout",
        Setting::HttpReadTimeout,
        // The second name is the one etcd 0.4's configuration.md printed.
        &["ETCD_HTTP_READ_TIMEOUT", "ETCD_CLUSTER_HTTP_READ_TIMEOUT"],
        "SECONDS",
        "300",
        "time allowed to read a request on the client port",
    ),
    flag(
        "http-write-timeout",
        Setting::HttpWriteTimeout,
        &["ETCD_HTTP_WRITE_TIMEOUT", "ETCD_CLUSTER_HTTP_WRITE_TIMEOUT"],
        "SECONDS",
        "300",
        "time allowed to write a response on the client port (watches are exempt)",
    ),
    flag(
        "max-connections",
        Setting::MaxConnections,
        &["ETCD_MAX_CONNECTIONS"],
        "N",
        "the open-file limit (raised to its hard limit) less 512, or less if memory \
         (one per 64 KiB of half of it) or the kernel's thread limits (threads-max, pid_max, \
         a quarter of vm.max_map_count, less 512) allow fewer, at least 64; the start-up log says which",
        "client connections open at once, idle watchers included; past it a new one gets 503",
    ),
    flag(
        "cors",
        Setting::Cors,
        &["ETCD_CORS", "ETCD_CORS_ORIGINS"],
        "ORIGIN,...",
        NONE,
        "origins allowed to make cross-origin requests; * allows any",
    ),
    flag(
        "cluster-active-size",
        Setting::ClusterActiveSize,
        &["ETCD_CLUSTER_ACTIVE_SIZE", "ETCD_MAX_CLUSTER_SIZE"],
        "N",
        "9",
        "voting members of a new cluster (at least 3); more machines wait as standbys",
    ),
    flag(
        "cluster-remove-delay",
        Setting::ClusterRemoveDelay,
        &["ETCD_CLUSTER_REMOVE_DELAY"],
        "SECONDS",
        "1800",
        "a new cluster's delay before the leader removes an unreachable member (at least 2)",
    ),
    flag(
        "cluster-sync-interval",
        Setting::ClusterSyncInterval,
        &["ETCD_CLUSTER_SYNC_INTERVAL"],
        "SECONDS",
        "5",
        "how often a new cluster's standbys look for room to join (at least 1)",
    ),
    flag(
        "config",
        Setting::ConfigFile,
        &["ETCD_CONFIG"],
        "FILE",
        NONE,
        "TOML file of settings, read after /etc/etcd/etcd.conf",
    ),
    FlagSpec {
        also: &["f"],
        ..flag(
            "force",
            Setting::Force,
            &[],
            "[=BOOL]",
            "false",
            "discard this member's saved state in -data-dir before starting (data loss)",
        )
    },
    flag(
        "restore",
        Setting::Restore,
        &["ETCD_RESTORE"],
        "FILE",
        NONE,
        "start a new cluster of one from this backup file, in a new or empty -data-dir",
    ),
    // The three tools below are flags only: a variable left set would turn
    // every later start into a backup or an inspection.
    flag(
        "backup-data-dir",
        Setting::BackupDataDir,
        &[],
        "DIR",
        NONE,
        "write a backup of the stopped member's data dir DIR to -backup-file, then exit",
    ),
    flag(
        "backup-file",
        Setting::BackupFile,
        &[],
        "FILE",
        NONE,
        "where -backup-data-dir writes the backup (- for standard output)",
    ),
    flag(
        "inspect",
        Setting::Inspect,
        &[],
        "DIR",
        NONE,
        "print what the data dir DIR holds, without changing it, then exit",
    ),
    flag(
        "json",
        Setting::Json,
        &[],
        "[=BOOL]",
        "false",
        "with -inspect: print JSON instead of text",
    ),
    flag(
        "v",
        Setting::Verbose,
        &["ETCD_VERBOSE"],
        "[=BOOL]",
        "false",
        "log debug messages",
    ),
    flag(
        "vv",
        Setting::VeryVerbose,
        &["ETCD_VERY_VERBOSE"],
        "[=BOOL]",
        "false",
        "log debug messages, consensus ones included",
    ),
    flag(
        "vvv",
        Setting::VeryVeryVerbose,
        &["ETCD_VERY_VERY_VERBOSE"],
        "[=BOOL]",
        "false",
        "log everything, consensus tracing included",
    ),
    flag(
        "version",
        Setting::Version,
        &[],
        "",
        "",
        "print the version and exit",
    ),
    FlagSpec {
        also: &["h"],
        ..flag(
            "help",
            Setting::Help,
            &[],
            "",
            "",
            "print this help and exit",
        )
    },
    flag(
        "cpuprofile",
        Setting::CpuProfile,
        &[],
        "FILE",
        NONE,
        "kept for compatibility with etcd 0.4; ignored",
    ),
    flag(
        "trace",
        Setting::Trace,
        &["ETCD_TRACE"],
        "STRING",
        NONE,
        "kept for compatibility with etcd 0.4; ignored",
    ),
    flag(
        "graphite-host",
        Setting::GraphiteHost,
        &["ETCD_GRAPHITE_HOST"],
        "HOST:PORT",
        NONE,
        "kept for compatibility with etcd 0.4; ignored",
    ),
];

pub(crate) const DEPRECATED: &[Deprecated] = &[
    Deprecated {
        old: "C",
        new: "peers",
    },
    Deprecated {
        old: "CF",
        new: "peers-file",
    },
    Deprecated {
        old: "n",
        new: "name",
    },
    Deprecated {
        old: "c",
        new: "addr",
    },
    Deprecated {
        old: "cl",
        new: "bind-addr",
    },
    Deprecated {
        old: "s",
        new: "peer-addr",
    },
    Deprecated {
        old: "sl",
        new: "peer-bind-addr",
    },
    Deprecated {
        old: "clientCAFile",
        new: "ca-file",
    },
    Deprecated {
        old: "clientCert",
        new: "cert-file",
    },
    Deprecated {
        old: "clientKey",
        new: "key-file",
    },
    Deprecated {
        old: "serverCAFile",
        new: "peer-ca-file",
    },
    Deprecated {
        old: "serverCert",
        new: "peer-cert-file",
    },
    Deprecated {
        old: "serverKey",
        new: "peer-key-file",
    },
    Deprecated {
        old: "d",
        new: "data-dir",
    },
    Deprecated {
        old: "m",
        new: "max-result-buffer",
    },
    Deprecated {
        old: "r",
        new: "max-retry-attempts",
    },
    Deprecated {
        old: "snapshotCount",
        new: "snapshot-count",
    },
    Deprecated {
        old: "peer-heartbeat-timeout",
        new: "peer-heartbeat-interval",
    },
    Deprecated {
        old: "max-cluster-size",
        new: "cluster-active-size",
    },
    Deprecated {
        old: "maxsize",
        new: "cluster-active-size",
    },
];

/// The flag whose canonical spelling is `name`.
pub(crate) fn flag_named(name: &str) -> Option<&'static FlagSpec> {
    FLAGS.iter().find(|spec| spec.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_deprecated_spelling_points_at_an_existing_flag() {
        for old in DEPRECATED {
            assert!(
                flag_named(old.new).is_some(),
                "-{} -> -{}",
                old.old,
                old.new
            );
        }
    }

    #[test]
    fn no_spelling_is_used_twice() {
        let mut all: Vec<&str> = FLAGS
            .iter()
            .flat_map(|spec| std::iter::once(spec.name).chain(spec.also.iter().copied()))
            .chain(DEPRECATED.iter().map(|d| d.old))
            .collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count);
    }

    #[test]
    fn regular_env_name_comes_first_for_every_flag_that_has_one() {
        for spec in FLAGS.iter().filter(|spec| !spec.env.is_empty()) {
            let regular = format!("ETCD_{}", spec.name.to_uppercase().replace('-', "_"));
            // -v/-vv/-vvv keep 0.4's spelled-out names.
            if spec.name.starts_with('v') && spec.name.chars().all(|c| c == 'v') {
                continue;
            }
            assert_eq!(spec.env[0], regular, "-{}", spec.name);
        }
    }
}
