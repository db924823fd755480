//! The reset flows behind `TokenService`: issue a token for an address, check one, redeem one.
//! They decide; `grpc.rs` only translates and audits.

use std::{sync::Arc, time::Duration};

use secrecy::SecretString;

use crate::{
    Config, Error,
    accounts::{AccountRecord, Directory, NormalizedEmail, password, policy::PasswordPolicy},
    clock::UnixMillis,
    limits::{LimitStore, Limits, Refusal},
    tokens::{CLAIM_TIMEOUT, ClaimId, Token, TokenHasher, TokenRecord, TokenStore, codec::Digest},
};

/// Issues, checks and redeems tokens over the configured stores.
#[derive(Clone, Debug)]
pub(crate) struct Resets {
    tokens: Arc<dyn TokenStore>,
    directory: Directory,
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
    pub account: AccountRecord,
    /// The password, when it was generated here.
    pub generated: Option<SecretString>,
}

impl Resets {
    /// The flows for `config`, over `tokens` and `directory`.
    pub(crate) fn new(
        config: &Config,
        tokens: Arc<dyn TokenStore>,
        directory: Directory,
        limits: Arc<dyn LimitStore>,
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
            directory,
            hasher: TokenHasher::new(config.token_secret.clone()),
            ttl: config.token_ttl,
            revoke_older: config.revoke_older_tokens,
            policy: PasswordPolicy {
                min_length: config.password_min_length,
            },
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
        let Some(account) = self.directory.by_email(&email).await? else {
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
            email,
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
    /// changes; the token stays usable if the password cannot be set. Refused without a look
    /// at the token once the caller's IP has used up its failures.
    pub(crate) async fn redeem(
        &self,
        presented: &str,
        new_password: NewPassword,
        origin: Origin<'_>,
    ) -> Result<Redeemed, Error> {
        self.admit_token_attempt("redeem", origin).await?;
        let redeemed = self.redeem_admitted(presented, new_password).await;
        self.settle_attempt(&redeemed, origin).await;
        redeemed
    }

    async fn redeem_admitted(
        &self,
        presented: &str,
        new_password: NewPassword,
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
        self.policy
            .check(&password, &email)
            .map_err(Error::WeakPassword)?;

        // From the claim on, run to the end even if the caller hangs up: a half-done
        // redemption would leave the token claimed and the password changed.
        let returned = generated.then(|| password.clone());
        let flows = self.clone();
        let account = tokio::spawn(async move { flows.claim_set_finalize(digest, password).await })
            .await
            .map_err(|error| Error::Internal(format!("redeem task: {error}")))??;
        Ok(Redeemed {
            account,
            generated: returned,
        })
    }

    /// Claims the token, sets the password, marks the token spent (revoking the account's
    /// other tokens); releases the claim if the password could not be set.
    async fn claim_set_finalize(
        &self,
        digest: Digest,
        password: SecretString,
    ) -> Result<AccountRecord, Error> {
        let claim = ClaimId::generate()?;
        let now = UnixMillis::now();
        let record = self
            .tokens
            .claim(&digest, &claim, now, now.plus(CLAIM_TIMEOUT))
            .await?;
        let account = match self
            .directory
            .set_password(&record.account_id, password)
            .await
        {
            Ok(account) => account,
            Err(error) => {
                if let Err(release_error) = self.tokens.release(&digest, &claim).await {
                    tracing::error!(
                        account_id = record.account_id,
                        error = %release_error,
                        "could not release a token after a failed password change"
                    );
                }
                return Err(match error {
                    // The account is gone: the token can reset nothing.
                    Error::AccountNotFound => Error::TokenUnknown,
                    other => other,
                });
            }
        };
        if !self
            .tokens
            .finalize(&digest, &claim, UnixMillis::now())
            .await?
        {
            tracing::warn!(
                account_id = record.account_id,
                "the token's claim lapsed or was revoked before it was marked spent"
            );
        }
        Ok(account)
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
