//! End-to-end rules of loading, through the public `load`.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

/// Files held in memory; anything else is "not found".
#[derive(Default)]
struct MemoryFs(HashMap<PathBuf, String>);

impl MemoryFs {
    fn with(mut self, path: &str, text: &str) -> Self {
        self.0.insert(PathBuf::from(path), text.to_owned());
        self
    }
}

impl ConfigFs for MemoryFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
}

/// Everything `load` takes, with nothing set and host name "host1".
struct Inputs {
    args: Vec<String>,
    env: Vec<(String, String)>,
    system: Option<String>,
    fs: MemoryFs,
    hostname: String,
}

fn inputs(args: &[&str]) -> Inputs {
    Inputs {
        args: args.iter().map(|a| a.to_string()).collect(),
        env: Vec::new(),
        system: None,
        fs: MemoryFs::default(),
        hostname: "host1".into(),
    }
}

impl Inputs {
    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }
    fn system(mut self, text: &str) -> Self {
        self.system = Some(text.into());
        self
    }
    fn file(mut self, path: &str, text: &str) -> Self {
        self.fs = self.fs.with(path, text);
        self
    }
    fn hostname(mut self, name: &str) -> Self {
        self.hostname = name.into();
        self
    }
    fn load(&self) -> Result<Startup, ConfigError> {
        load(
            &self.args,
            &self.env,
            self.system.as_deref(),
            &self.fs,
            &self.hostname,
        )
    }
    fn config(&self) -> Config {
        match self.load() {
            Ok(Startup::Run(config)) => config,
            other => panic!("{:?}: expected a config, got {other:?}", self.args),
        }
    }
    fn error(&self) -> String {
        match self.load() {
            Err(error) => error.0,
            Ok(other) => panic!("{:?}: expected an error, got {other:?}", self.args),
        }
    }
}

fn config(args: &[&str]) -> Config {
    inputs(args).config()
}

fn error(args: &[&str]) -> String {
    inputs(args).error()
}

#[test]
fn defaults_are_those_of_etcd_0_4_except_listening_on_the_advertised_host() {
    let config = config(&[]);
    assert_eq!(config.name, "host1");
    assert_eq!(config.data_dir, PathBuf::from("host1.etcd"));
    assert_eq!(config.client.url(), "http://127.0.0.1:4001");
    assert_eq!(config.client_bind, "127.0.0.1:4001");
    assert_eq!(config.peer.url(), "http://127.0.0.1:7001");
    assert_eq!(config.peer_bind, "127.0.0.1:7001");
    assert!(config.peers.is_empty());
    assert_eq!(config.discovery, None);
    assert_eq!(config.client_tls, TlsFiles::default());
    assert_eq!(config.peer_tls, TlsFiles::default());
    assert!(config.snapshot);
    assert_eq!(config.snapshot_count, 10_000);
    assert_eq!(config.heartbeat_interval_ms, 50);
    assert_eq!(config.election_timeout_ms, 200);
    assert_eq!(config.max_retry_attempts, 3);
    assert_eq!(config.retry_interval, None);
    assert_eq!(config.max_result_buffer, 1024);
    assert_eq!(config.http_read_timeout, Duration::from_secs(300));
    assert_eq!(config.http_write_timeout, Duration::from_secs(300));
    assert!(config.cors.is_empty());
    assert!(!config.force);
    assert_eq!(config.verbosity, 0);
    assert_eq!(config.cluster_active_size, 9);
    assert_eq!(config.cluster_remove_delay, 1800.0);
    assert_eq!(config.cluster_sync_interval, 5.0);
}

#[test]
fn flags_take_one_or_two_dashes_and_a_space_or_equals() {
    for args in [
        &["-name", "x"][..],
        &["-name=x"],
        &["--name", "x"],
        &["--name=x"],
    ] {
        assert_eq!(config(args).name, "x", "{args:?}");
    }
}

#[test]
fn every_value_flag_reaches_the_config() {
    let config = config(&[
        "-addr=10.0.0.1:4001",
        "-peer-addr=10.0.0.1:7001",
        "-peers=10.0.0.2:7001,10.0.0.3:7001",
        "-discovery=https://discovery.etcd.io/tok",
        "-peer-heartbeat-interval=10",
        "-peer-election-timeout=100",
        "-snapshot-count=5",
        "-max-retry-attempts=7",
        "-retry-interval=0.5",
        "-max-result-buffer=9",
        "-http-read-timeout=1.5",
        "-http-write-timeout=2",
        "-cors=http://a,*",
        "-cluster-active-size=5",
        "-cluster-remove-delay=60",
        "-cluster-sync-interval=2.5",
        "-f",
    ]);
    assert_eq!(config.client.url(), "http://10.0.0.1:4001");
    assert_eq!(config.peer.url(), "http://10.0.0.1:7001");
    assert_eq!(config.peers, vec!["10.0.0.2:7001", "10.0.0.3:7001"]);
    assert_eq!(
        config.discovery.as_deref(),
        Some("https://discovery.etcd.io/tok")
    );
    assert_eq!(config.heartbeat_interval_ms, 10);
    assert_eq!(config.election_timeout_ms, 100);
    assert_eq!(config.snapshot_count, 5);
    assert_eq!(config.max_retry_attempts, 7);
    assert_eq!(config.retry_interval, Some(0.5));
    assert_eq!(config.max_result_buffer, 9);
    assert_eq!(config.http_read_timeout, Duration::from_millis(1500));
    assert_eq!(config.http_write_timeout, Duration::from_secs(2));
    assert_eq!(config.cors, vec!["http://a", "*"]);
    assert_eq!(config.cluster_active_size, 5);
    assert_eq!(config.cluster_remove_delay, 60.0);
    assert_eq!(config.cluster_sync_interval, 2.5);
    assert!(config.force);
}

#[test]
fn booleans_are_go_style() {
    assert!(!config(&["-snapshot=false"]).snapshot);
    assert!(config(&["-snapshot=false", "-snapshot"]).snapshot);
    assert!(config(&["-snapshot=true"]).snapshot);
    assert!(config(&["-force"]).force);
    assert!(!config(&["-f=false"]).force);
}

#[test]
fn a_word_after_a_boolean_ends_the_flags_with_a_warning() {
    let config = config(&["-snapshot", "false", "-name", "ignored"]);
    assert!(config.snapshot);
    assert_eq!(config.name, "host1");
    assert!(
        config.warnings.iter().any(|w| w.contains("\"false\"")),
        "{:?}",
        config.warnings
    );
}

#[test]
fn verbosity_counts_the_strongest_level_asked_for() {
    assert_eq!(config(&["-v"]).verbosity, 1);
    assert_eq!(config(&["-vv"]).verbosity, 2);
    assert_eq!(config(&["-vvv", "-v"]).verbosity, 3);
    let env_then_flag = inputs(&["-vv=false"]).env("ETCD_VERY_VERBOSE", "true");
    assert_eq!(env_then_flag.config().verbosity, 0);
    assert_eq!(inputs(&[]).env("ETCD_VERBOSE", "1").config().verbosity, 1);
}

#[test]
fn flags_beat_environment_beats_config_file_beats_system_file() {
    let all = || {
        inputs(&["-config", "my.toml", "-name", "from-flag"])
            .env("ETCD_NAME", "from-env")
            .file("my.toml", "name = \"from-file\"")
            .system("name = \"from-system\"")
    };
    assert_eq!(all().config().name, "from-flag");

    let mut no_flag = all();
    no_flag.args.truncate(2);
    assert_eq!(no_flag.config().name, "from-env");

    no_flag.env.clear();
    assert_eq!(no_flag.config().name, "from-file");

    no_flag.fs = MemoryFs::default().with("my.toml", "");
    assert_eq!(no_flag.config().name, "from-system");
}

#[test]
fn lower_layers_still_supply_what_upper_layers_leave_out() {
    let config = inputs(&["-config", "my.toml", "-name", "a"])
        .env("ETCD_SNAPSHOT_COUNT", "3")
        .file("my.toml", "max_retry_attempts = 4")
        .system("max_result_buffer = 5")
        .config();
    assert_eq!(
        (
            config.name.as_str(),
            config.snapshot_count,
            config.max_retry_attempts,
            config.max_result_buffer
        ),
        ("a", 3, 4, 5)
    );
}

#[test]
fn the_config_file_can_be_named_by_environment_and_the_flag_wins() {
    let both = inputs(&["-config", "flag.toml"])
        .env("ETCD_CONFIG", "env.toml")
        .file("flag.toml", "name = \"flag\"")
        .file("env.toml", "name = \"env\"");
    assert_eq!(both.config().name, "flag");
    let env_only = inputs(&[])
        .env("ETCD_CONFIG", "env.toml")
        .file("env.toml", "name = \"env\"");
    assert_eq!(env_only.config().name, "env");
}

#[test]
fn an_unreadable_config_file_is_an_error_naming_it() {
    let message = error(&["-config", "missing.toml"]);
    assert!(
        message.starts_with("cannot read -config file missing.toml"),
        "{message}"
    );
}

#[test]
fn the_toml_example_of_the_spec_loads() {
    let example = "name = \"machine1\"\naddr = \"127.0.0.1:4001\"\ndata_dir = \"machines/machine1\"\n\
                   peers = [\"127.0.0.1:7002\", \"127.0.0.1:7003\"]\nsnapshot_count = 10000\n\n\
                   [peer]\naddr = \"127.0.0.1:7001\"\nheartbeat_interval = 50\nelection_timeout = 200\n\n\
                   [cluster]\nactive_size = 9\nremove_delay = 1800.0\nsync_interval = 5.0\n";
    let config = inputs(&["-config", "etcd.toml"])
        .file("etcd.toml", example)
        .config();
    assert_eq!(config.name, "machine1");
    assert_eq!(config.data_dir, PathBuf::from("machines/machine1"));
    assert_eq!(config.client.url(), "http://127.0.0.1:4001");
    assert_eq!(config.peer.url(), "http://127.0.0.1:7001");
    assert_eq!(config.peers, vec!["127.0.0.1:7002", "127.0.0.1:7003"]);
    assert_eq!(config.cluster_remove_delay, 1800.0);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn a_broken_system_file_is_one_line_naming_it() {
    let message = inputs(&[]).system("name = = 1").error();
    assert!(
        message.starts_with("/etc/etcd/etcd.conf: line 1: "),
        "{message}"
    );
    assert!(!message.contains('\n'));
}

#[test]
fn the_peers_file_replaces_peers_from_every_source() {
    let config = inputs(&["-peers", "10.0.0.9:7001", "-peers-file", "peers.txt"])
        .env("ETCD_PEERS", "10.0.0.8:7001")
        .file("peers.txt", "10.0.0.2:7001,10.0.0.3:7001\n")
        .config();
    assert_eq!(config.peers, vec!["10.0.0.2:7001", "10.0.0.3:7001"]);

    let from_env = inputs(&["-peers", "10.0.0.9:7001"])
        .env("ETCD_PEERS_FILE", "peers.txt")
        .file("peers.txt", "http://10.0.0.4:7001")
        .config();
    assert_eq!(from_env.peers, vec!["10.0.0.4:7001"]);

    let message = error(&["-peers-file", "nope"]);
    assert!(
        message.starts_with("cannot read -peers-file nope"),
        "{message}"
    );
}

#[test]
fn peers_must_be_host_port() {
    let message = error(&["-peers", "10.0.0.2"]);
    assert!(message.contains("\"10.0.0.2\""), "{message}");
}

#[test]
fn unknown_flags_and_bad_values_are_one_line_errors() {
    assert_eq!(error(&["-bogus"]), "flag provided but not defined: -bogus");
    assert!(
        error(&["-snapshot-count", "abc"])
            .starts_with("invalid value \"abc\" for flag -snapshot-count")
    );
    assert!(error(&["-snapshot=nope"]).starts_with("invalid value \"nope\" for flag -snapshot"));
}

#[test]
fn bad_environment_values_name_the_variable() {
    let message = inputs(&[]).env("ETCD_SNAPSHOT", "no").error();
    assert!(
        message.starts_with("invalid value \"no\" in ETCD_SNAPSHOT"),
        "{message}"
    );
    let message = inputs(&[]).env("ETCD_PEER_ELECTION_TIMEOUT", "1e9").error();
    assert!(message.contains("ETCD_PEER_ELECTION_TIMEOUT"), "{message}");
}

#[test]
fn snapshotcount_alias_and_regular_name_both_work() {
    let alias = inputs(&[]).env("ETCD_SNAPSHOTCOUNT", "42");
    assert_eq!(alias.config().snapshot_count, 42);
    let regular = inputs(&[]).env("ETCD_SNAPSHOT_COUNT", "43");
    assert_eq!(regular.config().snapshot_count, 43);
}

#[test]
fn blank_environment_values_are_ignored() {
    let blank = inputs(&[]).env("ETCD_NAME", " ").env("ETCD_ADDR", "");
    let config = blank.config();
    assert_eq!(config.name, "host1");
    assert_eq!(config.client.url(), "http://127.0.0.1:4001");
}

#[test]
fn addresses_may_carry_a_matching_scheme() {
    let config = config(&[
        "-addr",
        "http://10.0.0.1:4001",
        "-peer-addr",
        "http://10.0.0.1:7001/",
    ]);
    assert_eq!(config.client.url(), "http://10.0.0.1:4001");
    assert_eq!(config.peer.url(), "http://10.0.0.1:7001");
    assert_eq!(config.client_bind, "10.0.0.1:4001");
}

#[test]
fn a_side_with_cert_and_key_is_advertised_as_https() {
    let config = config(&[
        "-addr",
        "10.0.0.1:4001",
        "-cert-file",
        "c.pem",
        "-key-file",
        "k.pem",
        "-ca-file",
        "ca.pem",
        "-peer-addr",
        "https://10.0.0.1:7001",
        "-peer-cert-file",
        "pc.pem",
        "-peer-key-file",
        "pk.pem",
    ]);
    assert_eq!(config.client.url(), "https://10.0.0.1:4001");
    assert_eq!(config.peer.url(), "https://10.0.0.1:7001");
    assert_eq!(
        config.client_tls,
        TlsFiles {
            ca: Some("ca.pem".into()),
            cert: Some("c.pem".into()),
            key: Some("k.pem".into()),
        }
    );
    assert!(config.peer_tls.enabled());
}

#[test]
fn a_scheme_that_disagrees_with_tls_is_refused_with_the_reason() {
    let message = error(&["-addr", "https://10.0.0.1:4001"]);
    assert!(message.contains("asks for https"), "{message}");
    assert!(message.contains("-cert-file and -key-file"), "{message}");
    let message = error(&[
        "-peer-addr",
        "http://10.0.0.1:7001",
        "-peer-cert-file",
        "c",
        "-peer-key-file",
        "k",
    ]);
    assert!(message.starts_with("-peer-addr"), "{message}");
    assert!(message.contains("asks for http,"), "{message}");
}

#[test]
fn a_missing_port_is_refused() {
    assert!(error(&["-addr", "10.0.0.1"]).contains("a port is required"));
    assert!(error(&["-peer-addr", "http://10.0.0.1"]).contains("a port is required"));
}

#[test]
fn a_certificate_without_its_key_is_refused_naming_the_flag() {
    let message = error(&["-cert-file", "c.pem"]);
    assert!(message.contains("-key-file"), "{message}");
    let message = error(&["-peer-key-file", "k.pem"]);
    assert!(message.contains("-peer-cert-file"), "{message}");
}

#[test]
fn listening_follows_ruling_1() {
    let advertised = config(&["-addr", "10.0.0.1:4001", "-peer-addr", "10.0.0.1:7001"]);
    assert_eq!(advertised.client_bind, "10.0.0.1:4001");
    assert_eq!(advertised.peer_bind, "10.0.0.1:7001");

    let all = config(&["-bind-addr", "0.0.0.0", "-peer-bind-addr", "0.0.0.0"]);
    assert_eq!(all.client_bind, "0.0.0.0:4001");
    assert_eq!(all.peer_bind, "0.0.0.0:7001");

    let explicit = config(&["-bind-addr", "127.0.0.1:5001"]);
    assert_eq!(explicit.client_bind, "127.0.0.1:5001");

    let message = error(&["-bind-addr", ":4001"]);
    assert!(
        message.ends_with("Listen Host: IP required can't use a port only"),
        "{message}"
    );
    let message = error(&["-peer-bind-addr", ":7001"]);
    assert!(
        message.ends_with("Listen Host: IP required can't use a port only"),
        "{message}"
    );
}

#[test]
fn the_name_comes_from_the_data_dir_when_not_given() {
    let recorded = inputs(&["-data-dir", "/var/lib/etcd"]).file("/var/lib/etcd/name", "machine7\n");
    let config = recorded.config();
    assert_eq!(config.name, "machine7");
    assert_eq!(config.data_dir, PathBuf::from("/var/lib/etcd"));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);

    let given = inputs(&["-data-dir", "/var/lib/etcd", "-name", "other"])
        .file("/var/lib/etcd/name", "machine7");
    assert_eq!(given.config().name, "other");
}

#[test]
fn a_data_dir_without_name_and_nothing_recorded_uses_the_host_name() {
    let config = config(&["-data-dir", "/var/lib/etcd"]);
    assert_eq!(config.name, "host1");
    assert_eq!(config.data_dir, PathBuf::from("/var/lib/etcd"));
    assert!(config.warnings.iter().any(|w| w.contains("host1")));
}

#[test]
fn the_data_dir_defaults_to_the_name_dot_etcd() {
    assert_eq!(config(&["-name", "m1"]).data_dir, PathBuf::from("m1.etcd"));
    let unknown_host = inputs(&[]).hostname("");
    assert!(unknown_host.error().contains("-name"));
}

#[test]
fn deprecated_flags_work_and_leave_a_warning() {
    let config = config(&["-n", "old", "-snapshotCount", "12"]);
    assert_eq!(config.name, "old");
    assert_eq!(config.snapshot_count, 12);
    assert_eq!(
        config.warnings,
        vec![
            "[deprecated] use -name, not -n".to_string(),
            "[deprecated] use -snapshot-count, not -snapshotCount".to_string(),
        ]
    );
}

#[test]
fn version_and_help_are_answered_once_the_configuration_is_valid() {
    assert_eq!(inputs(&["-version"]).load(), Ok(Startup::Version));
    assert_eq!(inputs(&["-h"]).load(), Ok(Startup::Help(usage())));
    assert_eq!(inputs(&["--help"]).load(), Ok(Startup::Help(usage())));
    assert_eq!(inputs(&["-help", "-version"]).load(), Ok(Startup::Version));
    assert!(inputs(&["-version", "-addr", "x"]).load().is_err());
}

#[test]
fn election_timeout_must_exceed_the_heartbeat() {
    let message = error(&[
        "-peer-heartbeat-interval",
        "100",
        "-peer-election-timeout",
        "100",
    ]);
    assert!(message.contains("must be greater than"), "{message}");
    assert!(error(&["-peer-heartbeat-interval", "0"]).contains("at least 1"));
    assert!(error(&["-peer-election-timeout", "0"]).contains("must be greater than"));
}

#[test]
fn snapshot_count_and_timeouts_must_be_positive() {
    assert!(error(&["-snapshot-count", "0"]).contains("-snapshot-count"));
    assert!(error(&["-http-read-timeout", "0"]).contains("-http-read-timeout"));
    assert!(error(&["-http-write-timeout", "-1"]).contains("-http-write-timeout"));
    assert!(error(&["-retry-interval", "-1"]).contains("-retry-interval"));
}

#[test]
fn the_write_timeout_does_not_follow_the_read_timeout() {
    let both = inputs(&["-http-read-timeout", "7"])
        .env("ETCD_HTTP_WRITE_TIMEOUT", "9")
        .config();
    assert_eq!(both.http_read_timeout, Duration::from_secs(7));
    assert_eq!(both.http_write_timeout, Duration::from_secs(9));
    let read_only = config(&["-http-read-timeout", "7"]);
    assert_eq!(read_only.http_write_timeout, Duration::from_secs(300));
}

#[test]
fn cluster_minimums_are_raised_with_a_warning() {
    let config = config(&[
        "-name",
        "m",
        "-cluster-active-size",
        "1",
        "-cluster-remove-delay",
        "0",
        "-cluster-sync-interval",
        "0.1",
    ]);
    assert_eq!(config.cluster_active_size, 3);
    assert_eq!(config.cluster_remove_delay, 2.0);
    assert_eq!(config.cluster_sync_interval, 1.0);
    assert_eq!(config.warnings.len(), 3, "{:?}", config.warnings);
}

#[test]
fn non_finite_numbers_from_toml_are_refused() {
    let message = inputs(&[])
        .system("[cluster]\nremove_delay = inf\n")
        .error();
    assert!(message.contains("-cluster-remove-delay"), "{message}");
    let message = inputs(&[]).system("http_read_timeout = nan\n").error();
    assert!(message.contains("-http-read-timeout"), "{message}");
}

#[test]
fn unsupported_0_4_extras_are_accepted_and_reported_as_ignored() {
    let config = inputs(&["-name", "m", "-cpuprofile", "x.prof"])
        .env("ETCD_TRACE", "*")
        .config();
    assert_eq!(config.warnings.len(), 2, "{:?}", config.warnings);
}

#[test]
fn a_discovery_url_must_be_http() {
    assert!(error(&["-discovery", "discovery.etcd.io/x"]).contains("-discovery"));
}

#[test]
fn odd_command_lines_and_environments_give_errors_or_warnings_never_panics() {
    let odd_args: &[&[&str]] = &[
        &["-"],
        &["--"],
        &["-="],
        &["--=x"],
        &["---"],
        &["-é"],
        &["-name="],
        &["="],
        &["-snapshot="],
        &["-addr", ""],
        &["-addr", "[::1"],
        &["-addr", "[::1]x"],
        &["-bind-addr", "[]"],
        &["-peers", ",,,"],
        &["-cors", ""],
        &["-http-read-timeout", "1e308"],
        &["-http-read-timeout", "1e-300"],
        &["-cluster-active-size", "99999999999"],
    ];
    for args in odd_args {
        let _ = inputs(args).load();
    }
    for (name, value) in [
        ("ETCD_ADDR", "http://"),
        ("ETCD_PEERS", "\u{0}"),
        ("ETCD_RETRY_INTERVAL", "NaN"),
        ("ETCD_HTTP_WRITE_TIMEOUT", "-0"),
        ("ETCD_CLUSTER_SYNC_INTERVAL", "1e400"),
        ("ETCD_TRACE", "*"),
    ] {
        let _ = inputs(&[]).env(name, value).load();
    }
}

#[test]
fn restore_comes_from_the_flag_the_environment_or_the_file() {
    assert_eq!(config(&[]).restore, None);
    let flag = config(&["-restore", "b.backup", "-name", "r1"]);
    assert_eq!(flag.restore, Some(PathBuf::from("b.backup")));
    let env = inputs(&["-name", "r1"]).env("ETCD_RESTORE", "e.backup");
    assert_eq!(env.config().restore, Some(PathBuf::from("e.backup")));
    let file = inputs(&["-config", "c.toml"]).file("c.toml", "restore = \"f.backup\"\n");
    assert_eq!(file.config().restore, Some(PathBuf::from("f.backup")));
    let both = inputs(&["-restore", "flag.backup"]).env("ETCD_RESTORE", "env.backup");
    assert_eq!(both.config().restore, Some(PathBuf::from("flag.backup")));
}

#[test]
fn restore_founds_a_cluster_so_it_takes_no_peers_discovery_or_force() {
    for (extra, flag) in [
        (&["-peers", "127.0.0.1:7002"][..], "-peers"),
        (
            &["-discovery", "http://127.0.0.1:4001/v2/keys/d"],
            "-discovery",
        ),
        (&["-force"], "-force"),
    ] {
        let mut args = vec!["-restore", "b.backup"];
        args.extend_from_slice(extra);
        let message = error(&args);
        assert!(
            message.starts_with("-restore starts a new cluster"),
            "{message}"
        );
        assert!(message.contains(flag), "{message}");
    }
}

#[test]
fn the_data_dir_tools_are_their_own_startups() {
    let inspect = |args: &[&str]| inputs(args).load();
    assert_eq!(
        inspect(&["-inspect", "d"]),
        Ok(Startup::Inspect {
            data_dir: PathBuf::from("d"),
            json: false
        })
    );
    assert_eq!(
        inspect(&["-inspect=d", "-json"]),
        Ok(Startup::Inspect {
            data_dir: PathBuf::from("d"),
            json: true
        })
    );
    assert_eq!(
        inspect(&["-backup-data-dir", "d", "-backup-file", "-"]),
        Ok(Startup::BackupDataDir {
            data_dir: PathBuf::from("d"),
            file: PathBuf::from("-")
        })
    );
    // A tool ignores the member settings, even ones that could not resolve.
    assert!(matches!(
        inputs(&["-inspect", "d", "-addr", "no-port"]).load(),
        Ok(Startup::Inspect { .. })
    ));
    assert!(matches!(
        inspect(&["-inspect", "d", "-help"]),
        Ok(Startup::Help(_))
    ));
}

#[test]
fn a_tool_given_halfway_or_mixed_is_a_one_line_error() {
    for (args, needle) in [
        (&["-backup-data-dir", "d"][..], "needs -backup-file"),
        (&["-backup-file", "f"], "give -backup-data-dir"),
        (&["-json"], "-json only applies to -inspect"),
        (
            &[
                "-inspect",
                "d",
                "-backup-data-dir",
                "e",
                "-backup-file",
                "f",
            ],
            "separate tools",
        ),
        (
            &["-backup-data-dir", "d", "-backup-file", "f", "-json"],
            "-json only",
        ),
    ] {
        let message = error(args);
        assert!(message.contains(needle), "{args:?}: {message}");
        assert!(!message.contains('\n'));
    }
}

#[test]
fn a_peer_list_item_holding_a_comma_is_refused_not_split() {
    // The `config` fuzz target's crash: a list item of a TOML file that
    // no host can be.
    let error = inputs(&[]).system("peers=[\",:3\"]").load().unwrap_err();
    assert!(error.0.contains("-peers entry \",:3\""), "{error}");
}

#[test]
fn max_connections_comes_from_the_flag_the_environment_or_the_file_and_is_positive() {
    assert_eq!(config(&[]).max_connections, None);
    assert_eq!(
        config(&["-max-connections", "300"]).max_connections,
        Some(300)
    );
    let from_env = inputs(&[]).env("ETCD_MAX_CONNECTIONS", "20").config();
    assert_eq!(from_env.max_connections, Some(20));
    let from_file = inputs(&["-config", "my.toml"])
        .file("my.toml", "max_connections = 7")
        .config();
    assert_eq!(from_file.max_connections, Some(7));
    assert!(error(&["-max-connections", "0"]).contains("-max-connections"));
    assert!(!error(&["-max-connections", "many"]).is_empty());
}
