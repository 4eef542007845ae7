//! The state thread's auth duties: proposing an auth change (the leader
//! only; others send the client to it), applying a committed one to the
//! replicated `AuthState` through the pure `auth` module, and publishing
//! the result for the HTTP threads, which check credentials and
//! permissions against that copy.
//!
//! It never hashes a password (the command carries the hash) and never
//! renders an answer (the HTTP layer does, from the outcome).

use crossbeam_channel::Sender;
use log::debug;

use crate::auth::AuthCommand;
use crate::raft::types::Index;

use super::super::command::Command;
use super::super::requests::{AuthReply, Reply};
use super::{PendingWrite, StateThread, Waiter};

impl StateThread {
    pub(super) fn propose_auth(&mut self, cmd: AuthCommand, reply: Sender<AuthReply>) {
        if !self.is_leader() {
            let _ = reply.send(self.auth_redirect());
            return;
        }
        self.propose(&Command::Auth { cmd }, Waiter::Auth(reply));
    }

    /// `not_leader_reply` for an auth change.
    pub(super) fn auth_redirect(&self) -> AuthReply {
        match self.not_leader_reply() {
            Reply::Redirect { leader_client_url } => AuthReply::Redirect { leader_client_url },
            Reply::Failed(e) => AuthReply::Failed(e),
            Reply::Done { .. } => AuthReply::Failed(crate::store::EtcdError::new(
                crate::store::ErrorCode::RaftInternal,
                "",
                self.store.index(),
            )),
        }
    }

    /// Applies a committed auth change. Entries up to the commit index at
    /// start-up were folded into the published copy already (`boot`), so
    /// re-applying them does not publish: the HTTP threads never see the
    /// state go back in time while the log is replayed.
    pub(super) fn apply_auth(
        &mut self,
        index: Index,
        cmd: &AuthCommand,
        pending: Option<PendingWrite>,
    ) {
        let result = self.auth.apply(cmd);
        match &result {
            Ok(_) => {
                if index > self.replay_end {
                    self.cfg.auth_view.publish(self.auth.clone());
                }
                self.note(index, cmd.describe());
            }
            Err(e) if index > self.replay_end => debug!("{} refused: {e}", cmd.describe()),
            Err(_) => {}
        }
        if let Some(PendingWrite {
            waiter: Waiter::Auth(reply),
            ..
        }) = pending
        {
            let answer = match result {
                Ok(outcome) => AuthReply::Done(outcome),
                Err(e) => AuthReply::Refused(e),
            };
            let _ = reply.send(answer);
        }
    }
}
