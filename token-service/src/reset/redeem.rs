//! Redeeming a token: the policy judged before anything changes, then claim -> set -> finish,
//! run to the end even if the caller hangs up.

use secrecy::SecretString;

use super::{Changed, Origin, PasswordToSet, Pending, Redeemed, Resets, settle::Settled};
use crate::{
    Error,
    accounts::{Directory, HashedPassword, NormalizedEmail, password},
    clock::UnixMillis,
    directory::Users,
    tokens::{CLAIM_TIMEOUT, Claim, ClaimId, codec::Digest},
};

/// How [`Resets::claim_and_set`] ended.
#[derive(Debug)]
enum Done {
    /// This redemption set the password.
    Set(Changed),
    /// An interrupted earlier redemption of the token had set it, to the password of this hash.
    Earlier(Changed, HashedPassword),
}

impl Resets {
    /// Spends the token and sets the new password. The policy is checked before anything
    /// changes; the token stays usable if the password is not set (too busy to hash it, or the
    /// write failed).
    /// Refused without a look at the token once the caller's IP has used up its failures.
    pub(crate) async fn redeem(
        &self,
        presented: &str,
        new_password: PasswordToSet,
        origin: Origin<'_>,
    ) -> Result<Redeemed, Error> {
        self.admit_token_attempt("redeem", origin).await?;
        let redeemed = self
            .redeem_admitted(presented, new_password, origin.surface)
            .await;
        self.settle_attempt(&redeemed, origin).await;
        redeemed
    }

    async fn redeem_admitted(
        &self,
        presented: &str,
        new_password: PasswordToSet,
        surface: &str,
    ) -> Result<Redeemed, Error> {
        let digest = self.digest_of(presented)?;
        // Refuse an unusable token before judging the password, and learn the address the
        // policy compares against.
        let record = self.tokens.check(&digest, UnixMillis::now()).await?;
        let email = NormalizedEmail::from_stored(record.email);
        let (password, generated) = match new_password {
            PasswordToSet::Chosen(password) => (password, false),
            PasswordToSet::Generate => (password::generate()?, true),
        };
        // A reset the full hashing queue would refuse is refused before it is scored.
        if !self.hashing.has_room() {
            return Err(Error::Busy);
        }
        // Judged on a scoring thread: zxcvbn costs milliseconds of CPU, and a burst of resets
        // scoring on the request threads would delay every token check queued behind them.
        // Without a hashing permit, so concurrent attempts on one token still reach the claim
        // (token_in_use) rather than a full queue.
        let (policy, judged) = (self.policy, password.clone());
        self.hashing
            .score(move || policy.check(&judged, &email))
            .await?
            .map_err(Error::weak_new_password)?;

        // From the claim on, run to the end even if the caller hangs up: a half-done
        // redemption would leave the token claimed and the password changed.
        let flows = self.clone();
        let surface = surface.to_owned();
        let chosen = password.clone();
        let done = tokio::spawn(async move { flows.claim_and_set(digest, chosen, surface).await })
            .await
            .map_err(|error| Error::Internal(format!("redeem task: {error}")))??;
        match done {
            Done::Set(account) => Ok(Redeemed {
                account,
                generated: generated.then_some(password),
            }),
            // An earlier attempt with this token set the password and was interrupted before
            // its answer: a retry of it succeeds, another password cannot.
            Done::Earlier(account, hash) if !generated => {
                if self.hashing.verify(Some(hash), password).await? {
                    Ok(Redeemed {
                        account,
                        generated: None,
                    })
                } else {
                    Err(Error::TokenSpent)
                }
            }
            Done::Earlier(..) => Err(Error::TokenSpent),
        }
    }

    /// Claims the token, hashes and sets the password; settles an earlier redemption's lapsed
    /// claim first, if one is found. Only the claim's holder hashes, so concurrent attempts on
    /// one token cost one hash.
    async fn claim_and_set(
        &self,
        digest: Digest,
        password: SecretString,
        surface: String,
    ) -> Result<Done, Error> {
        // Twice at most: a lapsed claim settled as not landed gives the token back once.
        for _ in 0..2 {
            let claim = ClaimId::generate()?;
            let now = UnixMillis::now();
            let claimed = self
                .tokens
                .claim(&digest, &claim, &surface, now, now.plus(CLAIM_TIMEOUT))
                .await?;
            let pending = match claimed {
                Claim::Held(record) => Pending {
                    digest,
                    claim,
                    record,
                    surface,
                },
                Claim::Lapsed(lapsed) => match self.settle(&lapsed).await? {
                    Settled::Finished(account, hash) => return Ok(Done::Earlier(account, hash)),
                    Settled::Released => continue,
                },
            };
            let directory = match &self.users {
                Users::BuiltIn(directory) => directory,
                Users::External(external) => {
                    return self
                        .set_external(external, pending, password)
                        .await
                        .map(Done::Set);
                }
            };
            let hash = match directory.hash(password).await {
                Ok(hash) => hash,
                Err(error) => {
                    // Nothing was written (too busy to hash, most likely): give the token back.
                    self.release_after_failure(&pending).await;
                    return Err(error);
                }
            };
            return self
                .set_and_finish(directory, pending, &hash)
                .await
                .map(Done::Set);
        }
        Err(Error::TokenInUse)
    }

    /// Gives back a token whose password is known not to have been set.
    pub(super) async fn release_after_failure(&self, pending: &Pending) {
        if let Err(error) = self.tokens.release(&pending.digest, &pending.claim).await {
            tracing::error!(
                account_id = pending.record.account_id,
                %error,
                "could not release a token after a failed password change"
            );
        }
    }

    /// Sets the password under `pending`'s claim, then does the bookkeeping. Once the password
    /// is known to be set this is a success: bookkeeping that fails is finished later (here in
    /// the background, by a retry of the token, or by the sweeper), never by setting the
    /// password again.
    async fn set_and_finish(
        &self,
        directory: &Directory,
        pending: Pending,
        hash: &HashedPassword,
    ) -> Result<Changed, Error> {
        let set = directory
            .set_password(&pending.record.account_id, hash, &pending.claim.0)
            .await;
        let account = match set {
            Ok(account) => account,
            Err(error @ (Error::AccountNotFound | Error::ResetInterrupted)) => {
                // Known not to have been set: the token is usable again.
                self.release_after_failure(&pending).await;
                return Err(match error {
                    // The account is gone: the token can reset nothing.
                    Error::AccountNotFound => Error::TokenUnknown,
                    other => other,
                });
            }
            Err(error) => {
                // Whether the write landed is unknown: ask (which fences off a write still on
                // its way), and give the token back only if it did not.
                return match self.settle(&pending).await {
                    Ok(Settled::Finished(account, _)) => Ok(account),
                    Ok(Settled::Released) => Err(error),
                    Err(settle_error) => {
                        tracing::warn!(
                            account_id = pending.record.account_id,
                            error = %settle_error,
                            "a password change of unknown outcome is left to settle later"
                        );
                        self.settle_in_background(pending);
                        Err(error)
                    }
                };
            }
        };
        let account = Changed::from(&account);
        if let Err(error) = self.finish(&pending, &account).await {
            tracing::warn!(
                account_id = account.id,
                %error,
                "password set, its bookkeeping is left to finish later"
            );
            self.settle_in_background(pending);
        }
        Ok(account)
    }
}
