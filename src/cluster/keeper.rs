//! The thread that keeps this machine's place in the cluster.
//!
//! While a standby: every `syncInterval` it asks the cluster for its
//! members and settings (through the members it last saw, then `-peers`),
//! saves them in `standby_info`, points the standby's redirects at the
//! leader, and joins through the leader as soon as there is room.
//!
//! While a member: when this machine has known no leader for a while, it
//! asks the others whether it is still a member; if the leader itself says
//! no, it was removed while away and waits as a standby.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

/// How often the keeper notices a switch between member and standby.
const POLL: Duration = Duration::from_millis(100);

use crossbeam_channel::{Sender, bounded};
use log::{debug, warn};

use crate::membership::{
    MachineEntry, Member, MembershipVerdict, StandbyStep, judge_membership, next_standby_step,
};
use crate::server::mode::{LeaderUrls, ModeCell};
use crate::server::requests::{ClusterView, MembershipNews, PeerRequest};
use crate::transport::join::{JoinError, JoinPlan, join};
use crate::transport::{Connector, host_port};

use super::admin_client::{self, ClusterListing};
use super::standby_info::{self, StandbyInfo};

pub struct Keeper {
    pub me: Member,
    pub mode: ModeCell,
    pub state: Sender<PeerRequest>,
    pub connector: Connector,
    /// Bounds every request to another machine.
    pub timeout: Duration,
    pub data_dir: PathBuf,
    /// `-peers` and discovered peers (`host:port`), asked after the members.
    pub extra_peers: Vec<String>,
    /// Until the cluster's settings are known.
    pub sync_interval: Duration,
    /// A member asks whether it was removed after this long without a leader.
    pub leaderless_grace: Duration,
    /// The members as last seen (from `standby_info` or the join answer).
    pub cluster: Vec<MachineEntry>,
}

impl Keeper {
    pub fn spawn(self) -> std::io::Result<thread::JoinHandle<()>> {
        thread::Builder::new()
            .name("keeper".into())
            .spawn(move || self.run())
    }

    fn run(mut self) {
        // What `standby_info` says now (None: not written by us yet).
        let mut saved_running: Option<bool> = None;
        let mut was_standby = self.mode.is_standby();
        // A machine that starts as a standby looks at the cluster at once
        // (to know where to send clients); one removed while running waits
        // one interval first, as 0.4 does.
        let mut next_round = Instant::now();
        loop {
            let standby = self.mode.is_standby();
            if standby != was_standby {
                was_standby = standby;
                if let Some(view) = self.view() {
                    self.sync_interval = view.config.sync_interval();
                }
                let wait = if standby {
                    self.sync_interval
                } else {
                    Duration::ZERO
                };
                next_round = Instant::now() + wait;
            }
            if Instant::now() >= next_round {
                if standby {
                    self.standby_round();
                    saved_running = Some(true);
                } else {
                    if saved_running == Some(true) {
                        self.save(false);
                    }
                    saved_running = Some(false);
                    self.member_round();
                }
                next_round = Instant::now() + self.sync_interval;
            }
            thread::sleep(POLL);
        }
    }

    fn view(&self) -> Option<ClusterView> {
        let (tx, rx) = bounded(1);
        self.state.send(PeerRequest::Cluster { reply: tx }).ok()?;
        rx.recv_timeout(self.timeout).ok()
    }

    /// Where to ask: the members last seen (the leader first), then the
    /// extra peers.
    fn peers(&self, members: &[Member]) -> Vec<String> {
        let own = host_port(&self.me.peer_url).to_string();
        let mut out: Vec<String> = Vec::new();
        let mut seen: Vec<&MachineEntry> = self.cluster.iter().collect();
        seen.sort_by_key(|m| !m.is_leader());
        let listed = seen.iter().map(|m| host_port(&m.peer_url).to_string());
        let known = members.iter().map(|m| host_port(&m.peer_url).to_string());
        for p in listed.chain(known).chain(self.extra_peers.iter().cloned()) {
            if p != own && !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    fn fetch_any(&self, peers: &[String]) -> Option<ClusterListing> {
        for peer in peers {
            match admin_client::fetch(peer, &self.connector, self.timeout) {
                Ok(listing) => return Some(listing),
                Err(e) => debug!("cannot look at the cluster through {peer}: {e}"),
            }
        }
        None
    }

    fn save(&self, running: bool) {
        let info = StandbyInfo {
            running,
            cluster: self.cluster.clone(),
            sync_interval: self.sync_interval.as_secs_f64(),
        };
        if let Err(e) = standby_info::save(&self.data_dir, &info) {
            warn!("{e}");
        }
    }

    fn standby_round(&mut self) {
        // The member table this machine last applied knows who took over
        // (a removed member's view, before any sync).
        let mut known = Vec::new();
        if let Some(view) = self.view() {
            known = view.members;
            // Until the cluster answers: the settings this machine applied.
            if self.cluster.is_empty() {
                self.sync_interval = view.config.sync_interval();
            }
        }
        let peers = self.peers(&known);
        let Some(listing) = self.fetch_any(&peers) else {
            debug!(
                "{}: no member of the cluster answered ({peers:?})",
                self.me.name
            );
            self.save(true);
            return;
        };
        self.cluster = listing.machines.clone();
        self.sync_interval = listing.config.sync_interval();
        self.mode
            .set_standby_leader(listing.leader().map(|l| LeaderUrls::from(&l.member())));
        self.save(true);
        match next_standby_step(&listing.machines, &listing.config, &self.me.name) {
            StandbyStep::AlreadyMember => {
                let _ = self.state.send(PeerRequest::News(MembershipNews::Listed));
            }
            StandbyStep::Join { leader_peer_url } => self.join_through(&leader_peer_url),
            StandbyStep::Wait(why) => debug!("{}: still a standby: {why}", self.me.name),
        }
    }

    fn join_through(&self, leader_peer_url: &str) {
        let peers = vec![host_port(leader_peer_url).to_string()];
        let plan = JoinPlan {
            me: &self.me,
            peers: &peers,
            attempts: 1,
            retry_interval: Duration::ZERO,
            connector: self.connector.clone(),
            timeout: self.timeout,
        };
        match join(&plan) {
            Ok(members) => {
                // The state thread says "joined" once it has applied it.
                debug!(
                    "{}: the leader accepted this machine as a member; catching up",
                    self.me.name
                );
                let news = MembershipNews::Admitted { members };
                let _ = self.state.send(PeerRequest::News(news));
            }
            Err(JoinError::Full(why)) => debug!("{}: still a standby: {why}", self.me.name),
            Err(e @ JoinError::Foreign { .. }) => warn!("{}: {e}", self.me.name),
            Err(e) => debug!("{}: joining failed: {e}", self.me.name),
        }
    }

    fn member_round(&mut self) {
        let Some(view) = self.view() else {
            return;
        };
        self.sync_interval = view.config.sync_interval();
        self.cluster = view
            .members
            .iter()
            .map(|m| MachineEntry::of(m, view.leader.as_ref().is_some_and(|l| l.id == m.id)))
            .collect();
        let lost = view
            .leaderless_for
            .is_some_and(|d| d >= self.leaderless_grace);
        if !lost {
            return;
        }
        let mut queue = self.peers(&view.members);
        let mut next = 0;
        while let Some(peer) = queue.get(next).cloned() {
            next += 1;
            let listing = match admin_client::fetch(&peer, &self.connector, self.timeout) {
                Ok(listing) => listing,
                Err(e) => {
                    debug!("cannot ask {peer} whether this machine is a member: {e}");
                    continue;
                }
            };
            match judge_membership(&listing.answered_by, &listing.machines, &self.me.name) {
                MembershipVerdict::StillMember => return,
                MembershipVerdict::Unknown => {
                    // A follower's answer names the leader: ask it too.
                    if let Some(leader) = listing.leader() {
                        let at = host_port(&leader.peer_url).to_string();
                        if !queue.contains(&at) {
                            queue.push(at);
                        }
                    }
                }
                MembershipVerdict::Removed => {
                    let Some(leader) = listing.leader().map(MachineEntry::member) else {
                        continue;
                    };
                    self.cluster = listing.machines.clone();
                    self.save(true);
                    let news = MembershipNews::Removed { leader };
                    let _ = self.state.send(PeerRequest::News(news));
                    return;
                }
            }
        }
    }
}
