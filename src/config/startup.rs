//! What loading produces: the checked configuration, a request to print
//! the version or the help text, or one of the data-dir tools (inspection,
//! offline backup) that run instead of a member.

use std::path::PathBuf;
use std::time::Duration;

use super::address::Endpoint;

/// What the caller should do.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once at start-up; boxing would only complicate the caller's match"
)]
pub enum Startup {
    Run(Config),
    /// `-version`: print the version and exit 0.
    Version,
    /// `-h`/`-help`: print this usage text and exit 0.
    Help(String),
    /// `-inspect DIR [-json]`: report what the data dir holds, then exit.
    Inspect {
        data_dir: PathBuf,
        json: bool,
    },
    /// `-backup-data-dir DIR -backup-file FILE`: write a backup of a
    /// stopped member's data dir, then exit.
    BackupDataDir {
        data_dir: PathBuf,
        file: PathBuf,
    },
}

/// Certificate files of one side (client port or peer port).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// With `ca`, connecting parties must present a certificate it signed.
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl TlsFiles {
    /// HTTPS is on exactly when both a certificate and a key are given.
    pub fn enabled(&self) -> bool {
        self.cert.is_some() && self.key.is_some()
    }
}

/// The whole, validated configuration of one member.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub name: String,
    pub data_dir: PathBuf,
    /// Advertised client address, e.g. `http://127.0.0.1:4001`.
    pub client: Endpoint,
    /// `host:port` the client port listens on.
    pub client_bind: String,
    /// Advertised peer address, e.g. `http://127.0.0.1:7001`.
    pub peer: Endpoint,
    /// `host:port` the peer port listens on.
    pub peer_bind: String,
    /// Peer addresses (`host:port`, no scheme) of members to join through.
    pub peers: Vec<String>,
    pub discovery: Option<String>,
    pub client_tls: TlsFiles,
    pub peer_tls: TlsFiles,
    pub snapshot: bool,
    pub snapshot_count: u64,
    pub heartbeat_interval_ms: u64,
    pub election_timeout_ms: u64,
    pub max_retry_attempts: u32,
    /// Seconds between join rounds; `None` = pick at random (2.5 to 5 s).
    pub retry_interval: Option<f64>,
    /// Accepted for compatibility; unused, as in etcd 0.4.6.
    pub max_result_buffer: u64,
    pub http_read_timeout: Duration,
    pub http_write_timeout: Duration,
    /// `-max-connections`: client connections open at once. None: sized
    /// from the machine at start (`capacity::default_max_connections`).
    pub max_connections: Option<usize>,
    /// Allowed CORS origins; `*` allows any. Empty = no CORS headers.
    pub cors: Vec<String>,
    /// `-force`: discard saved state in the data dir before starting.
    pub force: bool,
    /// `-restore FILE`: build the (new or empty) data dir from this backup
    /// first, as a new cluster of one.
    pub restore: Option<PathBuf>,
    /// 0 = info, 1 = `-v`, 2 = `-vv`, 3 = `-vvv`.
    pub verbosity: u8,
    /// At least 3.
    pub cluster_active_size: u32,
    /// Seconds; at least 2.
    pub cluster_remove_delay: f64,
    /// Seconds; at least 1.
    pub cluster_sync_interval: f64,
    /// Things the operator should hear about (deprecated flags, ignored
    /// arguments, raised minimums); the caller prints them.
    pub warnings: Vec<String>,
}
