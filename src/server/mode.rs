//! Whether this machine is a member of its cluster or waits as a standby,
//! shared by the state thread (which switches it when it applies its own
//! `Join` or `Remove`), the standby loop (which tells it where the leader
//! is) and the HTTP handlers (which redirect everything while standby).
//!
//! Before either, a machine is `Starting`: still finding its cluster, its
//! peer port open (the leader must reach it once its join commits) but no
//! state thread yet to answer joins or admin requests.
//!
//! Reading it is one atomic load on the hot path; the leader's URLs are
//! behind a mutex that only standby requests touch.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

/// Where a standby sends clients and peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderUrls {
    pub name: String,
    pub client_url: String,
    pub peer_url: String,
}

impl From<&crate::membership::Member> for LeaderUrls {
    fn from(m: &crate::membership::Member) -> LeaderUrls {
        LeaderUrls {
            name: m.name.clone(),
            client_url: m.client_url.clone(),
            peer_url: m.peer_url.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Starting,
    Member,
    /// Not a voter: every client request goes to the leader, if known.
    Standby {
        leader: Option<LeaderUrls>,
    },
}

const STARTING: u8 = 0;
const MEMBER: u8 = 1;
const STANDBY: u8 = 2;

#[derive(Clone, Default)]
pub struct ModeCell {
    mode: Arc<AtomicU8>,
    leader: Arc<Mutex<Option<LeaderUrls>>>,
}

impl ModeCell {
    pub fn new(mode: Mode) -> ModeCell {
        let cell = ModeCell::default();
        cell.set(mode);
        cell
    }

    pub fn is_standby(&self) -> bool {
        self.mode.load(Ordering::Acquire) == STANDBY
    }

    pub fn get(&self) -> Mode {
        match self.mode.load(Ordering::Acquire) {
            STARTING => Mode::Starting,
            STANDBY => Mode::Standby {
                leader: self.lock().clone(),
            },
            _ => Mode::Member,
        }
    }

    pub fn set(&self, mode: Mode) {
        match mode {
            Mode::Starting => self.mode.store(STARTING, Ordering::Release),
            Mode::Member => self.mode.store(MEMBER, Ordering::Release),
            Mode::Standby { leader } => {
                *self.lock() = leader;
                self.mode.store(STANDBY, Ordering::Release);
            }
        }
    }

    /// A standby learned (or lost) the leader; ignored while a member.
    pub fn set_standby_leader(&self, leader: Option<LeaderUrls>) {
        *self.lock() = leader;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<LeaderUrls>> {
        self.leader.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switching_back_and_forth() {
        let cell = ModeCell::default();
        assert_eq!(cell.get(), Mode::Starting);
        cell.set(Mode::Member);
        assert!(!cell.is_standby());
        let leader = LeaderUrls {
            name: "m1".into(),
            client_url: "http://127.0.0.1:4001".into(),
            peer_url: "http://127.0.0.1:7001".into(),
        };
        cell.set(Mode::Standby {
            leader: Some(leader.clone()),
        });
        assert_eq!(
            cell.clone().get(),
            Mode::Standby {
                leader: Some(leader)
            }
        );
        cell.set_standby_leader(None);
        assert_eq!(cell.get(), Mode::Standby { leader: None });
        cell.set(Mode::Member);
        assert_eq!(cell.get(), Mode::Member);
    }
}
