//! A known member restarted at new addresses tells the leader, which
//! rewrites its registry entry (an `update`); this needs a majority alive,
//! so it keeps asking until the cluster has recorded them.

use std::thread;
use std::time::Duration;

use log::{debug, info};

use crate::membership::Member;
use crate::transport::Connector;
use crate::transport::join::{JoinPlan, join};

/// Ask through `via` (`host:port` of the other members) on a thread of its
/// own until the cluster knows `me` at its new addresses.
pub fn spawn(me: Member, via: Vec<String>, connector: Connector) -> std::io::Result<()> {
    thread::Builder::new()
        .name("announce".into())
        .spawn(move || {
            loop {
                let plan = JoinPlan {
                    me: &me,
                    peers: &via,
                    attempts: 1,
                    retry_interval: Duration::ZERO,
                    connector: connector.clone(),
                    timeout: Duration::from_secs(5),
                };
                match join(&plan) {
                    Ok(_) => {
                        info!(
                            "{}: the cluster now knows this machine at {}",
                            me.name, me.peer_url
                        );
                        return;
                    }
                    Err(e) => debug!("announcing the new address failed: {e}"),
                }
                thread::sleep(Duration::from_millis(500));
            }
        })
        .map(|_| ())
}
