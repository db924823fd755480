//! The reset flows behind `TokenService`: issue a token for an address, check one, redeem one.
//! They decide; `grpc.rs` only translates and audits.

use std::{sync::Arc, time::Duration};

use secrecy::SecretString;

mod external;

use crate::{
    Config, Error,
    accounts::{
        AccountRecord, Directory, HashedPassword, NormalizedEmail,
        password::{self, HashPool},
        policy::PasswordPolicy,
    },
    clock::UnixMillis,
    directory::Users,
    events::{AccountEvent, EventSink},
    limits::{LimitStore, Limits, Refusal},
    tokens::{
        CLAIM_TIMEOUT, Claim, ClaimId, LapsedClaim, Token, TokenHasher, TokenRecord, TokenStore,
        codec::Digest,
    },
};

/// How many times a redemption that lost Redis settles itself in the background (about two
/// minutes with the back-off) before it leaves that to the sweeper.
const BACKGROUND_ATTEMPTS: usize = 30;
/// How many lapsed claims one sweep settles at most.
const SWEEP_BATCH: usize = 100;

/// A claim whose redemption is under way or interrupted: what settling it needs.
type Pending = LapsedClaim;

/// How [`Resets::settle`] decided a claim.
#[derive(Debug)]
enum Settled {
    /// The password had been set: the bookkeeping is done. With the hash of the password it
    /// set, so that a retry of it can be told from another password.
    Finished(Changed, HashedPassword),
    /// It had not: the token is usable again.
    Released,
}

/// How [`Resets::claim_and_set`] ended.
#[derive(Debug)]
enum Done {
    /// This redemption set the password.
    Set(Changed),
    /// An interrupted earlier redemption of the token had set it, to the password of this hash.
    Earlier(Changed, HashedPassword),
}

/// The account whose password a reset changed, as the answer and the event name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Changed {
    /// The directory's id of the account.
    pub id: String,
    /// Its address.
    pub email: NormalizedEmail,
    /// Its locale, empty when unknown.
    pub locale: String,
    /// When its password changed.
    pub changed_at: UnixMillis,
}

impl From<&AccountRecord> for Changed {
    fn from(record: &AccountRecord) -> Self {
        Self {
            id: record.id.clone(),
            email: record.email.clone(),
            locale: record.locale.clone(),
            changed_at: record.password_changed_at,
        }
    }
}

/// Issues, checks and redeems tokens over the configured stores.
#[derive(Clone, Debug)]
pub(crate) struct Resets {
    tokens: Arc<dyn TokenStore>,
    /// Where the accounts live.
    users: Users,
    /// Where argon2 work runs (the guards of external resets, a retry's check).
    hashing: HashPool,
    /// Where `password_changed` events go, once per reset.
    events: Arc<dyn EventSink>,
    hasher: TokenHasher,
    ttl: Duration,
    revoke_older: bool,
    policy: PasswordPolicy,
    limits: Limits,
}

/// The outcome of [`Resets::issue`].
#[derive(Debug)]
pub(crate) struct Issue {
    /// The normalised address, whichever the outcome.
    pub email: NormalizedEmail,
    /// The token, when an account has the address.
    pub issued: Option<IssuedToken>,
}

/// A freshly issued token and what the mail needs to say about it.
#[derive(Debug)]
pub(crate) struct IssuedToken {
    /// The plaintext token: it leaves only in the IssueToken answer.
    pub token: Token,
    /// The account it resets.
    pub account_id: String,
    /// When it stops working.
    pub expires_at: UnixMillis,
    /// Its lifetime.
    pub ttl: Duration,
    /// The account's locale.
    pub locale: String,
}

/// Where a call came from, as the edge reported it: what the limits count against and what
/// an audit line of a refusal names.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin<'a> {
    /// The end user's IP address; empty when the caller gave none (then not limited per IP).
    pub client_ip: &'a str,
    /// Which surface asked (`persona`, `metal`, `pages`, `grpc`).
    pub surface: &'a str,
}

/// The new password of a redemption.
#[derive(Debug)]
pub(crate) enum NewPassword {
    /// Chosen by the user; checked against the policy.
    Chosen(SecretString),
    /// To be generated here and returned.
    Generate,
}

/// The outcome of [`Resets::redeem`].
#[derive(Debug)]
pub(crate) struct Redeemed {
    /// The account, with its new password set.
    pub account: Changed,
    /// The password, when it was generated here.
    pub generated: Option<SecretString>,
}

impl Resets {
    /// The flows for `config`, over `tokens` and `users`.
    pub(crate) fn new(
        config: &Config,
        tokens: Arc<dyn TokenStore>,
        users: Users,
        hashing: HashPool,
        limits: Arc<dyn LimitStore>,
        events: Arc<dyn EventSink>,
    ) -> Self {
        Self {
            limits: Limits::new(
                limits,
                config.limit_per_address,
                config.limit_per_ip,
                config.limit_failures_per_ip,
                config.limit_ipv6_prefix,
            ),
            tokens,
            users,
            hashing,
            events,
            hasher: TokenHasher::new(config.token_secret.clone()),
            ttl: config.token_ttl,
            revoke_older: config.revoke_older_tokens,
            policy: config.password_policy(),
        }
    }

    /// Starts a reset: a token if an account has the address, nothing otherwise. With
    /// `revoke_older_tokens`, the account's earlier tokens stop working. The rate limits are
    /// counted before the directory is asked, so a known and an unknown address meet them alike.
    pub(crate) async fn issue(
        &self,
        typed_email: &str,
        origin: Origin<'_>,
    ) -> Result<Issue, Error> {
        let email = NormalizedEmail::parse(typed_email)?;
        let now = UnixMillis::now();
        self.limits
            .admit_reset_request(&email, origin.client_ip)
            .await?
            .map_err(|refusal| limited("issue", origin, refusal))?;
        let Some(account) = self.users.lookup(typed_email, &email).await? else {
            return Ok(Issue {
                email,
                issued: None,
            });
        };
        let token = Token::generate()?;
        let record = TokenRecord {
            account_id: account.id.clone(),
            email: account.email.as_str().to_owned(),
            locale: account.locale.clone(),
            issued_at: now,
            expires_at: now.plus(self.ttl),
        };
        self.tokens
            .insert(&self.hasher.digest(&token), &record, self.revoke_older)
            .await?;
        Ok(Issue {
            // Where the directory says the account's mail goes.
            email: account.email,
            issued: Some(IssuedToken {
                token,
                account_id: account.id,
                expires_at: record.expires_at,
                ttl: self.ttl,
                locale: account.locale,
            }),
        })
    }

    /// The policy a new password is judged by.
    pub(crate) fn password_policy(&self) -> PasswordPolicy {
        self.policy
    }

    /// The record of a token that could be redeemed now. Never spends it. Refused without a
    /// look at the token once the caller's IP has used up its failures.
    pub(crate) async fn check(
        &self,
        presented: &str,
        origin: Origin<'_>,
    ) -> Result<TokenRecord, Error> {
        self.admit_token_attempt("check", origin).await?;
        let checked = match self.digest_of(presented) {
            Ok(digest) => self.tokens.check(&digest, UnixMillis::now()).await,
            Err(error) => Err(error),
        };
        self.settle_attempt(&checked, origin).await;
        checked
    }

    /// Reserves one failure of the caller's IP's budget before the token is looked at, and
    /// refuses `step` if none is left: in one step, so concurrent guesses cannot overshoot it.
    async fn admit_token_attempt(
        &self,
        step: &'static str,
        origin: Origin<'_>,
    ) -> Result<(), Error> {
        self.limits
            .reserve_token_attempt(origin.client_ip)
            .await?
            .map_err(|refusal| limited(step, origin, refusal))
    }

    /// Keeps the reserved unit for a token that is unknown, expired or spent (what guessing
    /// looks like) and gives it back otherwise: a weak password or a redemption in progress is
    /// not a guess.
    async fn settle_attempt<T>(&self, outcome: &Result<T, Error>, origin: Origin<'_>) {
        if !matches!(
            outcome,
            Err(Error::TokenUnknown | Error::TokenExpired | Error::TokenSpent)
        ) {
            self.limits.refund_token_attempt(origin.client_ip).await;
        }
    }

    /// Spends the token and sets the new password. The policy is checked before anything
    /// changes; the token stays usable if the password is not set (too busy to hash it, or the
    /// write failed).
    /// Refused without a look at the token once the caller's IP has used up its failures.
    pub(crate) async fn redeem(
        &self,
        presented: &str,
        new_password: NewPassword,
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
        new_password: NewPassword,
        surface: &str,
    ) -> Result<Redeemed, Error> {
        let digest = self.digest_of(presented)?;
        // Refuse an unusable token before judging the password, and learn the address the
        // policy compares against.
        let record = self.tokens.check(&digest, UnixMillis::now()).await?;
        let email = NormalizedEmail::from_stored(record.email);
        let (password, generated) = match new_password {
            NewPassword::Chosen(password) => (password, false),
            NewPassword::Generate => (password::generate()?, true),
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
    async fn release_after_failure(&self, pending: &Pending) {
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

    /// Decides a claim whose outcome is open: if its password change landed, finishes the
    /// bookkeeping; if not, gives the token back (and the change can no longer land).
    async fn settle(&self, pending: &Pending) -> Result<Settled, Error> {
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
    async fn finish(&self, pending: &Pending, account: &Changed) -> Result<(), Error> {
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
    fn settle_in_background(&self, pending: Pending) {
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

    /// Makes a token unusable at once (its mail could not be delivered). A malformed or unknown
    /// token is already unusable: that is a success too.
    pub(crate) async fn revoke(&self, presented: &str) -> Result<(), Error> {
        match self.digest_of(presented) {
            Ok(digest) => self.tokens.revoke(&digest).await,
            Err(_) => Ok(()),
        }
    }

    fn digest_of(&self, presented: &str) -> Result<Digest, Error> {
        let token = Token::parse(presented).ok_or(Error::TokenUnknown)?;
        Ok(self.hasher.digest(&token))
    }
}

/// Logs a rate-limited step (which limit, and who asked: the client IP and surface, never the
/// address) and turns it into the caller's error.
fn limited(step: &'static str, origin: Origin<'_>, refusal: Refusal) -> Error {
    tracing::info!(
        step,
        limit = refusal.limit.as_str(),
        client_ip = origin.client_ip,
        surface = origin.surface,
        retry_after_ms = u64::try_from(refusal.retry_after.as_millis()).unwrap_or(u64::MAX),
        "rate limited"
    );
    refusal.into()
}
