//! Bounded, adaptive batching on the state thread: whatever requests are
//! already waiting when it wakes (up to [`MAX_BURST`]) are handled before
//! Raft's next `Ready`, and the writes among them are proposed together.
//! One Ready then carries the whole burst: one append per follower, one
//! WAL job, one acknowledgement back, instead of one of each per write.
//! Nothing waits for a batch to fill: a lone write goes out at once, and a
//! burst is never larger than what queued during the previous round.

use crossbeam_channel::Receiver;

use crate::server::clock::now_nanos;
use crate::server::command::Command;
use crate::server::oneshot::ReplySender;
use crate::server::requests::{ClientRequest, PeerRequest, Reply};
use crate::store::StoreCommand;

use super::{PendingWrite, StateThread, Waiter};

/// At most this many requests per round, so ticks, WAL reports and the
/// replies of the previous round never wait behind a flood.
pub(super) const MAX_BURST: usize = 256;

impl StateThread {
    /// Handles `first` and every client request already queued behind it,
    /// writes grouped into one proposal in arrival order.
    pub(super) fn on_client_burst(&mut self, first: ClientRequest, more: &Receiver<ClientRequest>) {
        let mut writes = Vec::new();
        let mut next = Some(first);
        let mut taken = 1;
        while let Some(req) = next.take() {
            match req {
                ClientRequest::Write { cmd, reply } => writes.push((cmd, reply)),
                other => {
                    // Anything else sees the writes before it proposed.
                    self.propose_writes(std::mem::take(&mut writes));
                    self.on_client(other);
                }
            }
            if taken < MAX_BURST {
                next = more.try_recv().ok();
                taken += 1;
            }
        }
        self.propose_writes(writes);
    }

    /// Handles `first` and the peer batches already queued behind it.
    pub(super) fn on_peer_burst(&mut self, first: PeerRequest, more: &Receiver<PeerRequest>) {
        self.on_peer(first);
        for req in more.try_iter().take(MAX_BURST - 1) {
            self.on_peer(req);
        }
    }

    fn propose_writes(&mut self, writes: Vec<(StoreCommand, ReplySender<Reply>)>) {
        match writes.len() {
            0 => {}
            1 => {
                if let Some((cmd, reply)) = writes.into_iter().next() {
                    self.propose_write(cmd, reply);
                }
            }
            _ if !self.is_leader() => {
                for (cmd, reply) in writes {
                    self.propose_write(cmd, reply);
                }
            }
            _ => {
                let time = now_nanos();
                let (data, waiters): (Vec<_>, Vec<_>) = writes
                    .into_iter()
                    .map(|(cmd, reply)| (Command::Store { time, cmd }.encode(), reply))
                    .unzip();
                let term = self.raft.status().term;
                let deadline = self.ticks + self.cfg.request_timeout_ticks;
                match self.raft.propose_batch(data) {
                    Ok(first) => {
                        for (index, reply) in (first..).zip(waiters) {
                            let waiter = Waiter::Client(reply);
                            let w = PendingWrite {
                                term,
                                waiter,
                                deadline,
                            };
                            self.writes.insert(index, w);
                        }
                    }
                    Err(e) => {
                        log::debug!("proposal dropped: {e:?}");
                        for reply in waiters {
                            crate::metrics::global().proposals_failed.inc();
                            self.fail_waiter(Waiter::Client(reply));
                        }
                    }
                }
            }
        }
    }
}
