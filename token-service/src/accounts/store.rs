//! The account store contract, which the Redis and in-memory stores both honour (and the
//! contract tests in `contract_tests.rs` hold them to).

use std::fmt;

use async_trait::async_trait;

use super::{email::NormalizedEmail, password::HashedPassword};
use crate::{Error, clock::UnixMillis};

/// An account as stored, password hash included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AccountRecord {
    /// `acct_` + 32 hex characters, random, never reused.
    pub id: String,
    /// The normalised address; unique across accounts.
    pub email: NormalizedEmail,
    /// The argon2id hash of the current password.
    pub password_hash: HashedPassword,
    /// Preferred locale (BCP 47), empty when unknown.
    pub locale: String,
    /// When the account was created.
    pub created_at: UnixMillis,
    /// When the password last changed.
    pub password_changed_at: UnixMillis,
}

/// One page of a listing.
#[derive(Debug, Default)]
pub(crate) struct AccountPage {
    /// This page's accounts.
    pub accounts: Vec<AccountRecord>,
    /// Where the next page starts; empty when this was the last.
    pub next_cursor: String,
}

/// A new random account id.
pub(crate) fn new_account_id() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|error| Error::Internal(format!("os random source: {error}")))?;
    Ok(format!("acct_{}", hex::encode(bytes)))
}

/// Where accounts live.
#[async_trait]
pub(crate) trait AccountStore: Send + Sync + fmt::Debug {
    /// The account with this id.
    async fn by_id(&self, id: &str) -> Result<Option<AccountRecord>, Error>;

    /// The account with this (normalised) address.
    async fn by_email(&self, email: &NormalizedEmail) -> Result<Option<AccountRecord>, Error>;

    /// Creates the account of `email`, or replaces its password hash; `locale` replaces the
    /// stored one when given. Concurrent calls for one new address create one account.
    async fn upsert(
        &self,
        email: &NormalizedEmail,
        password_hash: &HashedPassword,
        locale: Option<&str>,
        now: UnixMillis,
    ) -> Result<AccountRecord, Error>;

    /// Replaces the password hash of an existing account for the reset `reset` (its claim id),
    /// and records that this reset set it; [`Error::AccountNotFound`] if there is no account,
    /// [`Error::ResetInterrupted`] if `settle_reset` already settled `reset` as not landed.
    async fn set_password(
        &self,
        id: &str,
        password_hash: &HashedPassword,
        now: UnixMillis,
        reset: &str,
    ) -> Result<AccountRecord, Error>;

    /// Whether `reset` set the account's password: the account if it did. If it did not, it
    /// never will (a `set_password` of it arriving later is refused), so its token may be
    /// given back.
    async fn settle_reset(&self, id: &str, reset: &str) -> Result<Option<AccountRecord>, Error>;

    /// A page of about `page_size` accounts from `cursor` (empty for the first page), in no
    /// particular order. [`Error::InvalidArgument`] for a cursor this store did not hand out.
    async fn list(&self, cursor: &str, page_size: usize) -> Result<AccountPage, Error>;
}
