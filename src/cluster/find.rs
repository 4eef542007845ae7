//! How a machine starts: found a new cluster, join one, restart as the
//! member its data dir says it is, or wait as a standby.
//!
//! In 0.4's order: what the data dir says first (a restarted machine never
//! founds or joins anew), then `-discovery` (whose winner of `_state` founds
//! the cluster and whose registry names the peers), then `-peers`. A new
//! machine whose discovery fails falls back to `-peers`, or stops: it never
//! founds a second cluster by mistake.

use std::time::Duration;

use log::{info, warn};

use crate::discovery::{Discoverer, Outcome};
use crate::membership::{MachineEntry, Member};
use crate::transport::Connector;
use crate::transport::join::{JoinError, JoinPlan, join};

use super::standby_info::StandbyInfo;

/// What the data dir holds, as far as finding the cluster goes.
#[derive(Debug, Clone, Default)]
pub struct DataDirState {
    /// Nothing was ever written: a new machine.
    pub fresh: bool,
    /// The committed log lists this machine as a member.
    pub member: bool,
    /// Peer addresses (`host:port`) of the members the log knows.
    pub known_peers: Vec<String>,
    /// The machine was a standby when it stopped.
    pub standby: Option<StandbyInfo>,
}

pub struct Finder<'a> {
    pub me: &'a Member,
    /// `-peers` (`host:port`), this machine left out.
    pub peers: &'a [String],
    pub discovery: Option<&'a Discoverer>,
    pub attempts: u32,
    pub retry_interval: Duration,
    pub connector: Connector,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum Start {
    /// Found a new cluster of one.
    NewCluster,
    /// Joined; the members to reach until the log arrives.
    Joined { members: Vec<Member> },
    /// A member per the data dir; these peers may know the cluster.
    Restart { peers: Vec<String> },
    /// Wait as a standby, looking at the cluster through `peers`.
    Standby {
        peers: Vec<String>,
        cluster: Vec<MachineEntry>,
        why: String,
    },
}

impl Finder<'_> {
    /// Decide how to start. The error is the one line to stop with.
    pub fn find(&self, data: DataDirState) -> Result<Start, String> {
        if let Some(info) = data.standby.filter(|i| i.running) {
            self.refresh_registration();
            return Ok(Start::Standby {
                peers: merge(&[&info.peers(), &data.known_peers, self.peers]),
                cluster: info.cluster,
                why: "it was a standby when it stopped".into(),
            });
        }
        if !data.fresh {
            let discovered = self.discover_for_restart();
            let peers = merge(&[&data.known_peers, &discovered, self.peers]);
            if data.member {
                return Ok(Start::Restart { peers });
            }
            return Ok(Start::Standby {
                peers,
                cluster: Vec::new(),
                why: "its log says it is no longer a member".into(),
            });
        }
        let mut peers = self.peers.to_vec();
        if let Some(d) = self.discovery {
            match d.run() {
                Ok(Outcome::StartNewCluster) => return Ok(Start::NewCluster),
                Ok(Outcome::Peers(found)) => peers = self.without_me(found),
                Err(e) if self.peers.is_empty() => {
                    return Err(format!("{e}; no -peers to fall back to"));
                }
                Err(e) => warn!("{e}; falling back to -peers {}", self.peers.join(",")),
            }
        }
        if peers.is_empty() {
            return Ok(Start::NewCluster);
        }
        let plan = JoinPlan {
            me: self.me,
            peers: &peers,
            attempts: self.attempts,
            retry_interval: self.retry_interval,
            connector: self.connector.clone(),
            timeout: self.timeout,
        };
        match join(&plan) {
            Ok(members) => Ok(Start::Joined { members }),
            Err(JoinError::Full(why)) => Ok(Start::Standby {
                peers,
                cluster: Vec::new(),
                why,
            }),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A restarted machine refreshes its registration and learns whom
    /// discovery lists; a failure only costs it that.
    fn discover_for_restart(&self) -> Vec<String> {
        let Some(d) = self.discovery else {
            return Vec::new();
        };
        match d.run() {
            Ok(Outcome::Peers(found)) => self.without_me(found),
            Ok(Outcome::StartNewCluster) => Vec::new(),
            Err(e) => {
                warn!("{e}; restarting from the data dir");
                Vec::new()
            }
        }
    }

    fn refresh_registration(&self) {
        if let Some(d) = self.discovery
            && let Err(e) = d.register()
        {
            warn!("{e}");
        }
    }

    fn without_me(&self, peers: Vec<String>) -> Vec<String> {
        let own = crate::transport::host_port(&self.me.peer_url);
        let kept: Vec<String> = peers.into_iter().filter(|p| p != own).collect();
        info!("{}: joining through {}", self.me.name, kept.join(","));
        kept
    }
}

/// The lists in order, each address once.
fn merge(lists: &[&[String]]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in lists.iter().flat_map(|l| l.iter()) {
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Member {
        Member::new("m1", "http://127.0.0.1:7001", "http://127.0.0.1:4001")
    }

    fn finder<'a>(me: &'a Member, peers: &'a [String]) -> Finder<'a> {
        Finder {
            me,
            peers,
            discovery: None,
            attempts: 1,
            retry_interval: Duration::ZERO,
            connector: std::sync::Arc::new(crate::httpd::plain),
            timeout: Duration::from_millis(200),
        }
    }

    #[test]
    fn the_data_dir_decides_before_any_peer_is_asked() {
        let me = me();
        let peers = vec!["127.0.0.1:1".to_string()];
        let f = finder(&me, &peers);
        let restart = f
            .find(DataDirState {
                fresh: false,
                member: true,
                known_peers: vec!["127.0.0.1:7002".into()],
                standby: None,
            })
            .unwrap();
        match restart {
            Start::Restart { peers } => assert_eq!(peers, vec!["127.0.0.1:7002", "127.0.0.1:1"]),
            other => panic!("{other:?}"),
        }
        let standby = f
            .find(DataDirState {
                fresh: true,
                member: false,
                known_peers: vec![],
                standby: Some(StandbyInfo {
                    running: true,
                    cluster: vec![],
                    sync_interval: 5.0,
                }),
            })
            .unwrap();
        assert!(matches!(standby, Start::Standby { .. }));
        let removed = f
            .find(DataDirState {
                fresh: false,
                member: false,
                ..DataDirState::default()
            })
            .unwrap();
        assert!(matches!(removed, Start::Standby { .. }));
    }

    #[test]
    fn a_new_machine_without_peers_founds_a_cluster() {
        let me = me();
        let f = finder(&me, &[]);
        let start = f
            .find(DataDirState {
                fresh: true,
                ..DataDirState::default()
            })
            .unwrap();
        assert!(matches!(start, Start::NewCluster));
    }

    #[test]
    fn a_new_machine_whose_peers_never_answer_stops() {
        let me = me();
        // Nobody listens on port 1.
        let peers = vec!["127.0.0.1:1".to_string()];
        let f = finder(&me, &peers);
        let err = f
            .find(DataDirState {
                fresh: true,
                ..DataDirState::default()
            })
            .unwrap_err();
        assert!(err.contains("fail joining the cluster"), "{err}");
    }
}
