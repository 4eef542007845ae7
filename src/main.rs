//! The `etcd` binary: reads the configuration, opens the data dir and wires
//! the threads of DESIGN.md together. No logic of its own.

use std::io::Write;
use std::process::exit;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use crossbeam_channel::unbounded;
use log::{error, info, warn};

use etcd::auth::{SharedAuth, Verifier};
use etcd::backup;
use etcd::capacity;
use etcd::cluster::find::{DataDirState, Finder, Start};
use etcd::cluster::keeper::Keeper;
use etcd::cluster::{announce, standby_info};
use etcd::config::{self, Config, RealFs, Startup};
use etcd::datadir;
use etcd::discovery::{Discoverer, DiscoveryUrl};
use etcd::http::auth::guard::Guard;
use etcd::http::client_api::ClientApi;
use etcd::http::gateway::Gateway;
use etcd::http::health::HealthCheck;
use etcd::http::peer_api::PeerApi;
use etcd::http::reply;
use etcd::httpd::{self, BusyReply, ServerConfig, Wrap};
use etcd::membership::{ClusterConfig, Member};
use etcd::raft::{self, Raft};
use etcd::server::mode::{LeaderUrls, Mode, ModeCell};
use etcd::server::state::{Inputs, StateConfig, StateThread};
use etcd::server::{boot, clock, heap, snapshotter, wal_thread};
use etcd::tls::{self, Side};
use etcd::transport::PeerSenders;
use etcd::wal::WalOptions;

/// A write or linearizable read that cannot commit within this time gets
/// 500 / errorCode 300 instead of hanging.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// Bounds each request to another machine's peer port outside Raft
/// traffic (the version handshake, joins, member lists).
const PEER_TIMEOUT: Duration = Duration::from_secs(5);
/// `/health` answers within this: a read through the leader, or "false".
const HEALTH_BUDGET: Duration = Duration::from_secs(1);
/// Bounds each request to the discovery service: a hang costs this long.
const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);

fn main() {
    heap::tune_malloc();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let env: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let system_file = std::fs::read_to_string("/etc/etcd/etcd.conf").ok();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "default".into());
    match config::load(&args, &env, system_file.as_deref(), &RealFs, &hostname) {
        Err(e) => {
            eprintln!("etcd: {e}");
            exit(1);
        }
        // A closed stdout (`etcd -help | head`) is not an error worth a panic.
        Ok(Startup::Version) => {
            let _ = writeln!(
                std::io::stdout(),
                "etcd version {}",
                env!("CARGO_PKG_VERSION")
            );
        }
        Ok(Startup::Help(usage)) => {
            let _ = writeln!(std::io::stdout(), "{usage}");
        }
        Ok(Startup::Inspect { data_dir, json }) => {
            let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
            exit(datadir::inspect_command(
                &data_dir, json, &mut out, &mut err,
            ));
        }
        Ok(Startup::BackupDataDir { data_dir, file }) => {
            let mut err = std::io::stderr();
            exit(backup::offline::backup_command(&data_dir, &file, &mut err));
        }
        Ok(Startup::Run(cfg)) => {
            init_logging(cfg.verbosity);
            for w in &cfg.warnings {
                eprintln!("{w}");
            }
            if let Err(e) = run(cfg) {
                error!("{e}");
                exit(1);
            }
        }
    }
}

fn init_logging(verbosity: u8) {
    let level = match verbosity {
        0 => log::LevelFilter::Info,
        1 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    };
    let config = simplelog::ConfigBuilder::new()
        .set_time_format_rfc3339()
        .set_target_level(log::LevelFilter::Off)
        .set_thread_level(log::LevelFilter::Off)
        .build();
    let _ = simplelog::WriteLogger::init(level, config, std::io::stderr());
}

fn run(cfg: Config) -> Result<(), String> {
    let me = Member::new(&cfg.name, &cfg.peer.url(), &cfg.client.url());
    let mut wal_options = WalOptions::default();
    // A tuning knob, not a 0.4 flag: smaller segments are removed sooner
    // after a snapshot (the tests use it to see compaction at work).
    if let Some(bytes) = std::env::var("ETCD_WAL_SEGMENT_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        wal_options.segment_bytes = bytes;
    }
    // Certificate files are checked before anything else happens, so a bad
    // one stops the machine with one line and leaves no port open.
    let plain: Wrap = Arc::new(httpd::plain);
    let client_wrap = tls::server_wrap(Side::Client, &cfg.client_tls)?.unwrap_or(plain.clone());
    let peer_wrap = tls::server_wrap(Side::Peer, &cfg.peer_tls)?.unwrap_or(plain);
    let peer_connector = tls::client_connector(Side::Peer, &cfg.peer_tls)?;
    let discoverer = match &cfg.discovery {
        Some(url) => Some(discoverer(url, &me, &cfg)?),
        None => None,
    };

    if let Some(file) = &cfg.restore {
        // Checked whole before the data dir is made; refused, nothing is.
        let restored = backup::restore(file, &cfg.data_dir, &me, &mut |line| info!("{line}"))
            .map_err(|e| e.to_string())?;
        info!(
            "{}: restored {} ({} keys at store index {}, taken by {} at {}) into {}; \
             starting a new cluster of one",
            cfg.name,
            file.display(),
            restored.nodes,
            restored.store_index,
            restored.taken_by,
            restored.taken_at,
            cfg.data_dir.display()
        );
    }
    let mut rec = boot::open(&cfg.data_dir, &cfg.name, cfg.force, wal_options)?;
    let standby = match standby_info::load(&cfg.data_dir) {
        Ok(info) => info,
        Err(e) => {
            warn!("{e}");
            None
        }
    };

    let bind = |addr: &str, what: &str| {
        httpd::listen(addr).map_err(|e| format!("Failed to create {what} listener on {addr}: {e}"))
    };
    let client_listener = bind(&cfg.client_bind, "client")?;
    let peer_listener = bind(&cfg.peer_bind, "peer")?;

    let heartbeat = Duration::from_millis(cfg.heartbeat_interval_ms);
    let (client_tx, client_rx) = unbounded();
    let (peer_tx, peer_rx) = unbounded();
    let http_cfg = ServerConfig {
        read_timeout: cfg.http_read_timeout,
        write_timeout: cfg.http_write_timeout,
        max_connections: capacity::PEER_CONNECTIONS,
        name: "peer".into(),
        ..ServerConfig::default()
    };
    let max_connections = client_connection_limit(cfg.max_connections);
    let mode = ModeCell::new(Mode::Starting);
    // Users and roles as of the committed log, from the first request on;
    // the state thread publishes every change it applies after that.
    let auth_view = SharedAuth::new(rec.auth_committed.clone());
    let guard = Guard::new(Arc::new(Verifier::new(auth_view.clone())));

    // The peer port opens first: once the leader commits our join it must
    // be able to reach us.
    let peer_api = PeerApi {
        state: peer_tx.clone(),
        mode: mode.clone(),
        answer_timeout: REQUEST_TIMEOUT + Duration::from_secs(2),
        auth: guard.clone(),
    };
    httpd::serve(
        peer_listener,
        http_cfg.clone(),
        peer_wrap,
        Arc::new(peer_api),
    )
    .map_err(|e| format!("cannot start the peer server: {e}"))?;
    info!(
        "peer server [name {}, listen on {}, advertised url {}]",
        cfg.name, cfg.peer_bind, me.peer_url
    );

    let own_peer = etcd::transport::host_port(&me.peer_url).to_string();
    let peers: Vec<String> = cfg
        .peers
        .iter()
        .filter(|p| **p != own_peer)
        .cloned()
        .collect();
    let known_peers: Vec<String> = rec
        .members
        .iter()
        .filter(|m| m.name != me.name)
        .map(|m| etcd::transport::host_port(&m.peer_url).to_string())
        .collect();
    let finder = Finder {
        me: &me,
        peers: &peers,
        discovery: discoverer.as_ref(),
        attempts: cfg.max_retry_attempts,
        retry_interval: Duration::from_secs_f64(cfg.retry_interval.unwrap_or(1.0)),
        connector: peer_connector.clone(),
        timeout: PEER_TIMEOUT,
    };
    let start = finder.find(DataDirState {
        fresh: rec.fresh,
        member: rec.members.get(&me.name).is_some(),
        known_peers,
        standby,
    })?;
    let flags_config = ClusterConfig {
        active_size: cfg.cluster_active_size,
        remove_delay: cfg.cluster_remove_delay,
        sync_interval: cfg.cluster_sync_interval,
    }
    .raised();
    let mut register_self = false;
    let mut seed_config = None;
    let mut routes = Vec::new();
    let mut keeper_peers = peers.clone();
    let mut keeper_cluster = Vec::new();
    match start {
        Start::NewCluster => {
            info!("{}: starting a new cluster", cfg.name);
            rec.bootstrap.conf.voters = vec![me.id];
            register_self = true;
            seed_config = Some(flags_config);
        }
        Start::Joined { members } => {
            info!(
                "{}: joined the cluster ({} members)",
                cfg.name,
                members.len()
            );
            routes = members;
        }
        Start::Restart { peers: via } => {
            // A known member restarted with new addresses tells the leader.
            if let Some(recorded) = rec.members.get(&me.name)
                && *recorded != me
            {
                announce::spawn(me.clone(), via.clone(), peer_connector.clone())
                    .map_err(|e| format!("cannot start the announce thread: {e}"))?;
            }
            keeper_peers = via;
        }
        Start::Standby {
            peers: via,
            cluster,
            why,
        } => {
            info!("{}: waiting as a standby: {why}", cfg.name);
            let leader = cluster
                .iter()
                .find(|m| m.is_leader())
                .map(|l| LeaderUrls::from(&l.member()));
            mode.set(Mode::Standby { leader });
            keeper_peers = via;
            keeper_cluster = cluster;
        }
    }
    if let Some(d) = discoverer {
        d.spawn_refresh(etcd::discovery::REFRESH_EVERY)
            .map_err(|e| format!("cannot start the discovery thread: {e}"))?;
    }

    let election_tick = (cfg.election_timeout_ms / cfg.heartbeat_interval_ms).max(2) as usize;
    let raft_cfg = raft::Config {
        id: me.id,
        election_tick,
        heartbeat_tick: 1,
        check_quorum: true,
        pre_vote: true,
        max_inflight: 256,
        max_batch_bytes: 1 << 20,
        seed: me.id ^ clock::now_nanos() as u64,
    };
    let sole_voter = rec.bootstrap.conf.voters == [me.id];
    let mut raft = Raft::new(raft_cfg, rec.bootstrap);
    if let Some(snapshot) = rec.snapshot {
        // The store holds what the data held; Raft keeps the position and
        // the peer senders read the file when a follower needs it.
        raft.compact(etcd::wal::snapshot_file::stub(snapshot.meta));
    }
    // Reading and parsing the snapshot file left its buffers free.
    heap::release_free_memory();
    if sole_voter {
        // Alone, there is nobody to wait for: lead at once.
        raft.campaign();
    }

    let (wal_tx, wal_rx) = unbounded();
    let (persisted_tx, persisted_rx) = unbounded();
    let wal = rec.wal;
    let last = rec.last;
    let outbox = PeerSenders::new(me.id, peer_connector.clone(), heartbeat * 7)
        .with_snapshot_dir(cfg.data_dir.join("snap"));
    let acks = outbox.direct();
    spawn("wal", move || {
        wal_thread::run(wal, last, wal_rx, persisted_tx, |msgs| acks.send(msgs))
    })?;

    let ticks_per_sec = 1000 / cfg.heartbeat_interval_ms.max(1);
    let state_cfg = StateConfig {
        me: me.clone(),
        snapshot_count: if cfg.snapshot { cfg.snapshot_count } else { 0 },
        request_timeout_ticks: (REQUEST_TIMEOUT.as_secs() * ticks_per_sec).max(1),
        register_self,
        seed_config,
        mode: mode.clone(),
        routes,
        election_ticks: election_tick as u64,
        tick_interval: heartbeat,
        auth_view,
    };
    let (snapshot_tx, snapshot_rx) = unbounded();
    let (written_tx, written_rx) = unbounded();
    let snap_dir = cfg.data_dir.join("snap");
    spawn("snapshot", move || {
        snapshotter::run(snap_dir, snapshot_rx, written_tx)
    })?;

    let store_index = Arc::new(AtomicU64::new(rec.store.index()));
    let sync_interval = Duration::from_secs_f64(rec.config.sync_interval);
    let state = StateThread::new(
        state_cfg,
        raft,
        rec.store,
        (rec.members, rec.config, rec.auth),
        rec.applied,
        store_index.clone(),
        Box::new(outbox),
        wal_tx,
        snapshot_tx,
    );
    let inputs = Inputs {
        client: client_rx,
        peer: peer_rx,
        tick: crossbeam_channel::tick(heartbeat),
        persisted: persisted_rx,
        snapshots: written_rx,
    };
    if !mode.is_standby() {
        mode.set(Mode::Member);
    }
    let state_thread = spawn("state", move || state.run(inputs))?;

    Keeper {
        me: me.clone(),
        mode: mode.clone(),
        state: peer_tx,
        connector: peer_connector,
        timeout: PEER_TIMEOUT,
        data_dir: cfg.data_dir.clone(),
        extra_peers: keeper_peers,
        sync_interval,
        // Several election timeouts: an election in progress is not a removal.
        leaderless_grace: Duration::from_millis(cfg.election_timeout_ms * 10)
            .max(Duration::from_secs(1)),
        cluster: keeper_cluster,
    }
    .spawn()
    .map_err(|e| format!("cannot start the keeper thread: {e}"))?;

    let gateway = Gateway::new(
        client_tx,
        store_index.clone(),
        cfg.cors.clone(),
        REQUEST_TIMEOUT + Duration::from_secs(2),
        mode,
    )
    .with_auth(guard);
    let busy_index = store_index.clone();
    let client_http = ServerConfig {
        max_connections,
        name: "client".into(),
        busy: BusyReply(Arc::new(move |limit| {
            reply::too_many_connections(limit, busy_index.load(Ordering::Acquire))
        })),
        ..http_cfg
    };
    httpd::serve(
        client_listener,
        client_http,
        client_wrap,
        Arc::new(ClientApi {
            gw: gateway,
            health: HealthCheck {
                budget: HEALTH_BUDGET,
            },
        }),
    )
    .map_err(|e| format!("cannot start the client server: {e}"))?;
    info!(
        "etcd server [name {}, listen on {}, advertised url {}]",
        cfg.name, cfg.client_bind, me.client_url
    );

    let _lock = rec.lock;
    let _ = state_thread.join();
    Err("the state thread stopped".into())
}

/// `-max-connections`, or the default sized from this machine; readies the
/// process for that many threads and says at start what the limit is.
fn client_connection_limit(asked: Option<usize>) -> usize {
    capacity::raise_open_file_limit();
    let resources = capacity::Resources::probe();
    let (default, bound) = capacity::default_max_connections(&resources);
    let limit = asked.unwrap_or(default);
    let room = capacity::descriptor_room(&resources);
    match asked {
        Some(n) if n as u64 > room => warn!(
            "-max-connections {n} exceeds what the open-file limit {} leaves for clients \
             ({room}); connections past that fail to be accepted instead of getting 503",
            resources.open_files
        ),
        Some(n) => info!("client connections: at most {n} (-max-connections)"),
        None => info!(
            "client connections: at most {limit} ({}; set -max-connections to change it)",
            capacity::explain(limit, bound, &resources)
        ),
    }
    capacity::size_futex_hash(limit + capacity::PEER_CONNECTIONS);
    limit
}

/// The discovery client for `-discovery URL`: over TLS for `https://`,
/// trusting `-peer-ca-file` or else the system's roots.
fn discoverer(url: &str, me: &Member, cfg: &Config) -> Result<Discoverer, String> {
    let url = DiscoveryUrl::parse(url).map_err(|e| e.to_string())?;
    let connector = if url.is_https() {
        tls::discovery_connector(url.host(), &cfg.peer_tls)?
    } else {
        Arc::new(httpd::plain)
    };
    Ok(Discoverer::new(
        url,
        &cfg.name,
        &me.peer_url,
        connector,
        DISCOVERY_TIMEOUT,
    ))
}

fn spawn<F: FnOnce() + Send + 'static>(name: &str, f: F) -> Result<thread::JoinHandle<()>, String> {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| format!("cannot start the {name} thread: {e}"))
}
