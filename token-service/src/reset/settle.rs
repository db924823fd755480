//! Settling a reset whose outcome is open (interrupted, or lost Redis midway): finished if its
//! password was set, the token given back if not; in the background for a while, then by the
//! sweeper, which also covers a process that died.

use std::time::Duration;

use super::{Changed, Pending, Resets};
use crate::{
    Error, accounts::HashedPassword, clock::UnixMillis, directory::Users, events::AccountEvent,
};

/// How many times a redemption that lost Redis settles itself in the background (about two
/// minutes with the back-off) before it leaves that to the sweeper.
const BACKGROUND_ATTEMPTS: usize = 30;
/// How many lapsed claims one sweep settles at most.
const SWEEP_BATCH: usize = 100;

/// How [`Resets::settle`] decided a claim.
#[derive(Debug)]
pub(super) enum Settled {
    /// The password had been set: the bookkeeping is done. With the hash of the password it
    /// set, so that a retry of it can be told from another password.
    Finished(Changed, HashedPassword),
    /// It had not: the token is usable again.
    Released,
}

impl Resets {
    /// Decides a claim whose outcome is open: if its password change landed, finishes the
    /// bookkeeping; if not, gives the token back (and the change can no longer land).
    pub(super) async fn settle(&self, pending: &Pending) -> Result<Settled, Error> {
        let landed = match &self.users {
            Users::BuiltIn(directory) => directory
                .settle_reset(&pending.record.account_id, &pending.claim.0)
                .await?
                .map(|record| (Changed::from(&record), record.password_hash)),
            Users::External(external) => self.landed_external(external, pending).await?,
        };
        match landed {
            Some((account, hash)) => {
                self.finish(pending, &account).await?;
                Ok(Settled::Finished(account, hash))
            }
            None => {
                self.tokens.release(&pending.digest, &pending.claim).await?;
                tracing::info!(
                    account_id = pending.record.account_id,
                    "an interrupted reset did not set the password, its token is usable again"
                );
                Ok(Settled::Released)
            }
        }
    }

    /// The bookkeeping of a reset whose password was set, each step safe to repeat: the
    /// `password_changed` event (once per reset), then the token spent and the account's
    /// other tokens revoked.
    pub(super) async fn finish(&self, pending: &Pending, account: &Changed) -> Result<(), Error> {
        let event = AccountEvent {
            kind: "password_changed",
            account_id: account.id.clone(),
            at: account.changed_at,
            surface: pending.surface.clone(),
            email: account.email.to_string(),
            locale: account.locale.clone(),
            reset_id: pending.claim.0.clone(),
            remember_until: pending.record.forget_at(),
        };
        self.events.publish(&event).await?;
        if !self
            .tokens
            .finalize(&pending.digest, &pending.claim, UnixMillis::now())
            .await?
        {
            tracing::warn!(
                account_id = account.id,
                "a reset's token was revoked before it was marked spent"
            );
        }
        Ok(())
    }

    /// Keeps settling `pending` for a while, backing off: Redis is usually back within
    /// seconds. After that the sweeper takes over (it also covers a process that died).
    pub(super) fn settle_in_background(&self, pending: Pending) {
        let flows = self.clone();
        tokio::spawn(async move {
            let mut pause = Duration::from_millis(200);
            for _ in 0..BACKGROUND_ATTEMPTS {
                tokio::time::sleep(pause).await;
                match flows.settle(&pending).await {
                    Ok(_) => return,
                    Err(error) => tracing::debug!(
                        account_id = pending.record.account_id,
                        %error,
                        "an interrupted reset is not settled yet"
                    ),
                }
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            tracing::warn!(
                account_id = pending.record.account_id,
                "an interrupted reset is left to the sweeper"
            );
        });
    }

    /// Settles the claims that lapsed by `now` without finishing (their redemption died or
    /// lost Redis): the event is written and the token spent if the password was set, else
    /// the token is usable again. Returns how many were settled.
    pub(crate) async fn sweep(&self, now: UnixMillis) -> Result<usize, Error> {
        let lapsed = self.tokens.lapsed(now, SWEEP_BATCH).await?;
        let mut settled = 0;
        for pending in lapsed {
            match self.settle(&pending).await {
                Ok(_) => settled += 1,
                Err(error) => tracing::warn!(
                    account_id = pending.record.account_id,
                    %error,
                    "could not settle a lapsed reset"
                ),
            }
        }
        Ok(settled)
    }
}
