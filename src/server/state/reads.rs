//! The clients waiting for linearizable reads on this machine, leader or
//! follower: first for Raft's `ReadState` (the leader confirmed its read
//! index with a quorum), then for the apply loop to reach that index. Every
//! one of them is answered exactly once: with the data, or with an error
//! when Raft drops the read (the leadership it was asked of ended) or when
//! its deadline passes. Never with a copy older than its read index.
//! The `StateThread` methods below ask Raft for those reads and answer
//! them, plain reads too.

use std::collections::BTreeMap;

use crate::raft::ReadState;
use crate::raft::types::Index;
use crate::server::clock::now_nanos;
use crate::server::oneshot::ReplySender;
use crate::server::requests::Reply;
use crate::store::{ErrorCode, EtcdError, KeyPath};

use super::StateThread;

pub(super) struct PendingRead {
    pub key: KeyPath,
    pub recursive: bool,
    pub sorted: bool,
    pub reply: ReplySender<Reply>,
    /// In ticks of the state thread.
    pub deadline: u64,
}

pub(super) struct ReadWaiters {
    next_ctx: u64,
    /// Asked of Raft, by context.
    asked: BTreeMap<u64, PendingRead>,
    /// Confirmed at a read index not applied yet.
    applying: Vec<(Index, PendingRead)>,
}

impl Default for ReadWaiters {
    fn default() -> ReadWaiters {
        ReadWaiters {
            next_ctx: 1,
            asked: BTreeMap::new(),
            applying: Vec::new(),
        }
    }
}

impl ReadWaiters {
    /// A fresh context for `Raft::read_index`.
    pub fn next_ctx(&mut self) -> u64 {
        let ctx = self.next_ctx;
        self.next_ctx += 1;
        ctx
    }

    pub fn asked(&mut self, ctx: u64, read: PendingRead) {
        self.asked.insert(ctx, read);
    }

    /// Raft confirmed `rs`: the read to answer now, if `applied` reaches
    /// its index (otherwise it waits for `take_applied`).
    pub fn confirmed(&mut self, rs: ReadState, applied: Index) -> Option<PendingRead> {
        let read = self.asked.remove(&rs.ctx)?;
        if rs.index <= applied {
            return Some(read);
        }
        self.applying.push((rs.index, read));
        None
    }

    /// A read to answer once `index` is applied (a plain read on a leader
    /// that has not applied its whole log yet).
    pub fn wait_for_apply(&mut self, index: Index, read: PendingRead) {
        self.applying.push((index, read));
    }

    /// Raft gave up on `ctx`.
    pub fn dropped(&mut self, ctx: u64) -> Option<PendingRead> {
        self.asked.remove(&ctx)
    }

    /// The confirmed reads whose index is now applied.
    pub fn take_applied(&mut self, applied: Index) -> Vec<PendingRead> {
        self.applying
            .extract_if(.., |(index, _)| *index <= applied)
            .map(|(_, r)| r)
            .collect()
    }

    /// Every read past its deadline at tick `now`, wherever it waits.
    pub fn take_overdue(&mut self, now: u64) -> Vec<PendingRead> {
        let asked = self.asked.extract_if(.., |_, r| r.deadline <= now);
        let applying = self.applying.extract_if(.., |(_, r)| r.deadline <= now);
        asked
            .map(|(_, r)| r)
            .chain(applying.map(|(_, r)| r))
            .collect()
    }
}

impl StateThread {
    pub(super) fn answer_read(&mut self, read: PendingRead) {
        let at = self.position();
        let reply = match self
            .store
            .get(&read.key, read.recursive, read.sorted, now_nanos())
        {
            Ok(event) => Reply::Done { event, at },
            Err(e) => Reply::Failed(e),
        };
        let _ = read.reply.send(reply);
    }

    /// ReadIndex, on the leader or a follower (which asks the leader):
    /// answered once a quorum has confirmed the leader's commit index and
    /// this machine has applied up to it.
    pub(super) fn start_linearizable_read(&mut self, read: PendingRead) {
        let ctx = self.reads.next_ctx();
        match self.raft.read_index(ctx) {
            Ok(()) => self.reads.asked(ctx, read),
            // No leader known: nobody can confirm anything now (ruling 9).
            Err(_) => {
                let _ = read.reply.send(self.read_refused());
            }
        }
    }

    /// Why a linearizable read cannot be served: 301 while no leader is
    /// known, else 300 (the leader it was asked of is gone, or too slow).
    fn read_refused(&self) -> Reply {
        let code = match self.raft.status().leader {
            None => ErrorCode::LeaderElect,
            Some(_) => ErrorCode::RaftInternal,
        };
        Reply::Failed(EtcdError::new(code, "", self.store.index()))
    }

    pub(super) fn on_read_state(&mut self, rs: ReadState) {
        if let Some(read) = self.reads.confirmed(rs, self.applied) {
            self.answer_read(read);
        }
    }

    pub(super) fn on_read_dropped(&mut self, ctx: u64) {
        if let Some(read) = self.reads.dropped(ctx) {
            let _ = read.reply.send(self.read_refused());
        }
    }

    pub(super) fn answer_reads_now_applied(&mut self) {
        for read in self.reads.take_applied(self.applied) {
            self.answer_read(read);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(deadline: u64) -> (PendingRead, crate::server::oneshot::ReplyReceiver<Reply>) {
        let (tx, rx) = crate::server::oneshot::oneshot();
        let r = PendingRead {
            key: KeyPath::parse("/k"),
            recursive: false,
            sorted: false,
            reply: tx,
            deadline,
        };
        (r, rx)
    }

    #[test]
    fn a_read_is_answered_only_once_its_index_is_applied() {
        let mut w = ReadWaiters::default();
        let ctx = w.next_ctx();
        w.asked(ctx, read(100).0);
        assert!(w.confirmed(ReadState { ctx, index: 7 }, 6).is_none());
        assert!(w.take_applied(6).is_empty());
        assert_eq!(w.take_applied(7).len(), 1);
        assert!(w.take_applied(8).is_empty());
    }

    #[test]
    fn a_confirmed_read_already_applied_is_answered_at_once() {
        let mut w = ReadWaiters::default();
        let ctx = w.next_ctx();
        w.asked(ctx, read(100).0);
        assert!(w.confirmed(ReadState { ctx, index: 7 }, 7).is_some());
        assert!(w.dropped(ctx).is_none(), "answered once only");
    }

    #[test]
    fn overdue_reads_are_taken_wherever_they_wait() {
        let mut w = ReadWaiters::default();
        let (a, b, c) = (w.next_ctx(), w.next_ctx(), w.next_ctx());
        w.asked(a, read(5).0);
        w.asked(b, read(5).0);
        w.asked(c, read(50).0);
        assert!(w.confirmed(ReadState { ctx: b, index: 9 }, 1).is_none());
        assert_eq!(w.take_overdue(4).len(), 0);
        assert_eq!(w.take_overdue(5).len(), 2);
        assert!(w.dropped(c).is_some());
    }
}
