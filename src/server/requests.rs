//! The messages the HTTP threads send to the state thread, and its answers.
//! Every request carries its own reply channel; the state thread never
//! blocks on one (replies go into unbounded or one-slot channels).

use crossbeam_channel::Sender;

use crate::auth::{AuthCommand, AuthError, AuthOutcome};
use crate::raft::types::{Index, Term};
use crate::store::{EtcdError, Event, KeyPath, StoreCommand, WatcherId};

use super::stats::{LeaderStats, SelfStats};
use crate::membership::{ClusterConfig, ConfigPatch, Member};

/// Where the answering machine stood when it answered: the headers
/// `X-Etcd-Index`, `X-Raft-Index` and `X-Raft-Term`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub etcd_index: u64,
    pub raft_index: Index,
    pub raft_term: Term,
}

/// The answer to a write or a read of the key tree.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "sent once per request; boxing would add an allocation"
)]
pub enum Reply {
    Done {
        event: Event,
        at: Position,
    },
    Failed(EtcdError),
    /// This machine is not the leader: send the client there (307).
    Redirect {
        leader_client_url: String,
    },
}

/// What a watching client receives: first `Started` or an immediate
/// `Event` (from history), then, for a waiting watch, events as they come.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "events dominate; boxing would add an allocation each"
)]
pub enum WatchMessage {
    Started { id: WatcherId, at: Position },
    Event(Event),
    Failed(EtcdError),
}

/// A request from the client API.
pub enum ClientRequest {
    /// A write: proposed to Raft on the leader, answered once applied.
    Write {
        cmd: StoreCommand,
        reply: Sender<Reply>,
    },
    /// A read. `linearizable` (consistent/quorum) waits for a ReadIndex
    /// round (the leader confirms with a quorum; a follower asks the leader)
    /// and for this machine to apply up to that index; it is never redirected.
    Read {
        key: KeyPath,
        recursive: bool,
        sorted: bool,
        linearizable: bool,
        reply: Sender<Reply>,
    },
    Watch {
        key: KeyPath,
        recursive: bool,
        stream: bool,
        since: Option<u64>,
        events: Sender<WatchMessage>,
    },
    CancelWatch(WatcherId),
    Cluster {
        reply: Sender<ClusterView>,
    },
    StoreStats {
        reply: Sender<crate::store::StoreStats>,
    },
    /// A change of users, roles or the auth flag (`/v2/auth`): proposed on
    /// the leader, answered once applied. Any password in it is hashed.
    Auth {
        cmd: AuthCommand,
        reply: Sender<AuthReply>,
    },
}

/// The answer to an auth change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthReply {
    Done(AuthOutcome),
    /// Applied, and refused by etcd 2.x's rules (nothing changed).
    Refused(AuthError),
    /// This machine is not the leader: send the client there (307).
    Redirect {
        leader_client_url: String,
    },
    /// No leader, or the change could not commit in time.
    Failed(EtcdError),
}

/// A request from the peer API (and from this machine's own standby loop).
pub enum PeerRequest {
    /// Raft messages from another member.
    Raft(Vec<crate::raft::Message>),
    /// A machine asks to join (or to refresh its URLs).
    Join {
        member: Member,
        reply: Sender<JoinReply>,
    },
    /// Remove a member by name.
    Remove {
        name: String,
        reply: Sender<JoinReply>,
    },
    /// `PUT /v2/admin/config`: change the cluster-wide settings.
    SetConfig {
        patch: ConfigPatch,
        reply: Sender<ConfigReply>,
    },
    Cluster {
        reply: Sender<ClusterView>,
    },
    /// A linearizable read of `/` (`GET /v2/admin/health` on the peer port).
    QuorumRead {
        reply: Sender<Reply>,
    },
    /// `GET /v2/admin/backup`: a copy of the data at the applied index.
    Backup {
        reply: Sender<crate::backup::Source>,
    },
    /// What this machine's standby loop learned from the cluster.
    News(MembershipNews),
}

/// Facts about this machine's own membership, learned outside the log.
#[derive(Debug, Clone, PartialEq)]
pub enum MembershipNews {
    /// The leader (these URLs) answered without us: we were removed while
    /// away. Become a standby.
    Removed { leader: Member },
    /// The cluster lists us as a member while we wait as a standby.
    Listed,
    /// Our join was accepted; these members are where the leader's
    /// messages come from until the log says so itself.
    Admitted { members: Vec<Member> },
}

#[derive(Debug, Clone, PartialEq)]
pub enum JoinReply {
    /// Done; the cluster's members after the change.
    Accepted {
        members: Vec<Member>,
    },
    /// Not the leader: ask this peer URL instead.
    Redirect {
        leader_peer_url: String,
    },
    Failed(EtcdError),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConfigReply {
    /// Committed; the settings now in force.
    Done(ClusterConfig),
    Redirect {
        leader_peer_url: String,
    },
    Failed(EtcdError),
}

/// A consistent picture of the cluster for the status endpoints.
#[derive(Debug, Clone)]
pub struct ClusterView {
    pub me: Member,
    pub leader: Option<Member>,
    /// Leader first, then the others by name.
    pub members: Vec<Member>,
    pub position: Position,
    pub self_stats: SelfStats,
    pub leader_stats: Option<LeaderStats>,
    pub config: ClusterConfig,
    /// How long this machine has known no leader (None while it knows one).
    pub leaderless_for: Option<std::time::Duration>,
}
