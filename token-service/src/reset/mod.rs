//! The reset flows behind `TokenService`: issue a token for an address, check one (here),
//! redeem one (`redeem`), settle one whose redemption was interrupted (`settle`), against the
//! built-in directory or the platform's own (`external`). They decide; `grpc/` only translates
//! and audits.

use std::{sync::Arc, time::Duration};

use secrecy::SecretString;

mod external;
mod redeem;
mod settle;

use crate::{
    Config, Error,
    accounts::{AccountRecord, NormalizedEmail, password::HashPool, policy::PasswordPolicy},
    clock::UnixMillis,
    directory::Users,
    events::EventSink,
    limits::{LimitStore, Limits, Refusal},
    tokens::{LapsedClaim, Token, TokenHasher, TokenRecord, TokenStore, codec::Digest},
};

/// A claim whose redemption is under way or interrupted: what settling it needs.
type Pending = LapsedClaim;

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
    pub issued: Option<FreshToken>,
}

/// A freshly issued token and what the mail needs to say about it.
#[derive(Debug)]
pub(crate) struct FreshToken {
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
pub(crate) enum PasswordToSet {
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
            issued: Some(FreshToken {
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
