//! The token store contract, which the Redis and in-memory stores both honour (and the
//! contract tests in `contract_tests.rs` hold them to).
//!
//! A token's record lives from issue until `expires_at` + [`RECORD_GRACE`], so that a late
//! presentation is answered "expired" or "already used" rather than "unknown". Its state moves
//! `valid -> claimed -> spent` (or back to `valid` by `release`). A claim whose deadline passes
//! is never simply taken over: its password change may have landed, so the next `claim` (or the
//! sweeper, through `lapsed`) reports it as [`Claim::Lapsed`], and the reset flow settles it
//! with the directory first: finished if the password was set, released if it was not. Claims
//! are listed as pending until released or spent, so a sweeper finds them even if nobody
//! presents the token again.

use std::{fmt, time::Duration};

use async_trait::async_trait;

use super::codec::Digest;
use crate::{Error, clock::UnixMillis};

/// How long a record outlives its token, to tell "expired" and "spent" from "unknown".
pub(crate) const RECORD_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a claim holds a token before another redemption may take it over: far longer
/// than setting a password takes.
pub(crate) const CLAIM_TIMEOUT: Duration = Duration::from_secs(30);

/// What is stored about a token (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TokenRecord {
    /// The account the token resets.
    pub account_id: String,
    /// The normalised address it was issued for.
    pub email: String,
    /// The account's locale at issue time, for the mails.
    pub locale: String,
    /// When it was issued.
    pub issued_at: UnixMillis,
    /// When it stops working.
    pub expires_at: UnixMillis,
}

impl TokenRecord {
    /// When the store may forget the record entirely.
    pub(crate) fn forget_at(&self) -> UnixMillis {
        self.expires_at.plus(RECORD_GRACE)
    }
}

/// Identifies one redemption's hold on a token, so only that redemption can finish or release
/// it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClaimId(pub String);

impl ClaimId {
    /// A fresh random claim id.
    pub(crate) fn generate() -> Result<Self, Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|error| Error::Internal(format!("os random source: {error}")))?;
        Ok(Self(hex::encode(bytes)))
    }
}

/// What `claim` got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The token is ours until the deadline.
    Held(TokenRecord),
    /// An earlier redemption's claim lapsed before it finished: settle it first.
    Lapsed(LapsedClaim),
}

/// A claim whose deadline passed while the token was still claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LapsedClaim {
    /// The token's digest.
    pub digest: Digest,
    /// The earlier redemption's claim (and the idempotency key of its password change).
    pub claim: ClaimId,
    /// The token's record.
    pub record: TokenRecord,
    /// The surface the earlier redemption came through.
    pub surface: String,
}

/// Where tokens live. Every method is atomic with respect to one token: under any concurrency
/// at most one `claim` of a token holds at a time, and only its holder can `finalize` it.
#[async_trait]
pub(crate) trait TokenStore: Send + Sync + fmt::Debug {
    /// Stores a new token. With `revoke_older`, the account's other outstanding tokens are
    /// deleted first (they then answer [`Error::TokenUnknown`]).
    async fn insert(
        &self,
        digest: &Digest,
        record: &TokenRecord,
        revoke_older: bool,
    ) -> Result<(), Error>;

    /// The record of a token that could be redeemed at `now` (a claim in progress counts as
    /// redeemable), else [`Error::TokenUnknown`], [`Error::TokenExpired`] or
    /// [`Error::TokenSpent`]. Never changes anything.
    async fn check(&self, digest: &Digest, now: UnixMillis) -> Result<TokenRecord, Error>;

    /// Takes hold of a valid, unexpired token for one redemption from `surface` until
    /// `claim_until`, and lists it as pending. A token still held by a claim whose deadline has
    /// passed is not taken: it answers [`Claim::Lapsed`]. Refusals are as for `check`, plus
    /// [`Error::TokenInUse`] while another claim holds.
    async fn claim(
        &self,
        digest: &Digest,
        claim: &ClaimId,
        surface: &str,
        now: UnixMillis,
        claim_until: UnixMillis,
    ) -> Result<Claim, Error>;

    /// Gives a claimed token back, valid again, when its password was not set. Returns whether
    /// `claim` still held it.
    async fn release(&self, digest: &Digest, claim: &ClaimId) -> Result<bool, Error>;

    /// Up to `limit` pending claims whose deadline passed by `now`, for the sweeper. Pending
    /// entries of tokens that are no longer claimed are dropped on the way.
    async fn lapsed(&self, now: UnixMillis, limit: usize) -> Result<Vec<LapsedClaim>, Error>;

    /// Deletes a token whatever its state: it then answers [`Error::TokenUnknown`]. Revoking a
    /// token that is not there is not an error.
    async fn revoke(&self, digest: &Digest) -> Result<(), Error>;

    /// Marks a claimed token spent, then revokes every other outstanding token of its account.
    /// Returns whether `claim` held it; finalizing the same claim again is a success that
    /// repeats the revocation (so a retry can finish what a failure interrupted).
    async fn finalize(
        &self,
        digest: &Digest,
        claim: &ClaimId,
        now: UnixMillis,
    ) -> Result<bool, Error>;
}
