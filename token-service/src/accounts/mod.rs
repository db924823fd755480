//! The built-in account directory: addresses (`email`), passwords (`password`), the store
//! contract (`store`) with its `redis` and `memory` implementations, and [`Directory`], the
//! operations the gRPC service, the reset flow and the CLI share.

pub(crate) mod email;
pub(crate) mod memory;
pub(crate) mod password;
pub(crate) mod policy;
pub(crate) mod redis;
pub(crate) mod store;

#[cfg(test)]
mod contract_tests;

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};

pub(crate) use email::NormalizedEmail;
pub(crate) use password::HashedPassword;
use policy::PasswordPolicy;
pub(crate) use store::{AccountPage, AccountRecord, AccountStore};

use crate::{Error, clock::UnixMillis};

/// Longest locale tag accepted (BCP 47 tags in practice stay far below).
const MAX_LOCALE_LENGTH: usize = 35;

/// The account operations, over whichever store the service runs on.
#[derive(Clone, Debug)]
pub(crate) struct Directory {
    store: Arc<dyn AccountStore>,
    /// Where every argon2 hash and verification runs, bounded.
    hashing: password::HashPool,
    /// What a password set by [`Self::upsert`] must meet.
    policy: PasswordPolicy,
}

impl Directory {
    /// A directory over `store`, hashing through `hashing`, setting passwords that meet `policy`.
    pub(crate) fn new(
        store: Arc<dyn AccountStore>,
        hashing: password::HashPool,
        policy: PasswordPolicy,
    ) -> Self {
        Self {
            store,
            hashing,
            policy,
        }
    }

    /// Creates the account of `email` or replaces its password (and its locale, when given).
    /// The password meets the same policy as a reset's: an administrator's choice is no safer
    /// than a user's.
    pub(crate) async fn upsert(
        &self,
        email: &NormalizedEmail,
        password: SecretString,
        locale: Option<&str>,
    ) -> Result<AccountRecord, Error> {
        self.policy
            .check(&password, email)
            .map_err(Error::weak_account_password)?;
        if let Some(locale) = locale {
            check_locale(locale)?;
        }
        let hash = self.hashing.hash(password).await?;
        self.store
            .upsert(email, &hash, locale, UnixMillis::now())
            .await
    }

    /// The account with this address, if any.
    pub(crate) async fn by_email(
        &self,
        email: &NormalizedEmail,
    ) -> Result<Option<AccountRecord>, Error> {
        self.store.by_email(email).await
    }

    /// The account with this id, if any.
    pub(crate) async fn by_id(&self, id: &str) -> Result<Option<AccountRecord>, Error> {
        self.store.by_id(id).await
    }

    /// Hashes a new password (the policy was checked by the caller); [`Error::Busy`] when the
    /// hashing capacity is used up.
    pub(crate) async fn hash(&self, password: SecretString) -> Result<HashedPassword, Error> {
        self.hashing.hash(password).await
    }

    /// Sets `hash` as the password of an existing account for the reset `reset`, so that
    /// [`Self::settle_reset`] can tell later whether it landed.
    pub(crate) async fn set_password(
        &self,
        id: &str,
        hash: &HashedPassword,
        reset: &str,
    ) -> Result<AccountRecord, Error> {
        self.store
            .set_password(id, hash, UnixMillis::now(), reset)
            .await
    }

    /// The account if the reset `reset` set its password; `None` if it did not, and then it
    /// never will.
    pub(crate) async fn settle_reset(
        &self,
        id: &str,
        reset: &str,
    ) -> Result<Option<AccountRecord>, Error> {
        self.store.settle_reset(id, reset).await
    }

    /// The account of `typed_email` if `password` is its password. An unknown or malformed
    /// address still costs one argon2 verification, so timing does not tell it apart.
    pub(crate) async fn verify(
        &self,
        typed_email: &str,
        password: SecretString,
    ) -> Result<Option<AccountRecord>, Error> {
        let record = match NormalizedEmail::parse(typed_email) {
            Ok(email) => self.store.by_email(&email).await?,
            Err(_) => None,
        };
        // No stored password is longer: refuse without hashing megabytes.
        let (record, password) = if password.expose_secret().chars().count() > policy::MAX_LENGTH {
            (None, SecretString::from(""))
        } else {
            (record, password)
        };
        let hash = record.as_ref().map(|record| record.password_hash.clone());
        let matches = self.hashing.verify(hash, password).await?;
        Ok(record.filter(|_| matches))
    }

    /// A page of accounts.
    pub(crate) async fn list(&self, cursor: &str, page_size: usize) -> Result<AccountPage, Error> {
        self.store.list(cursor, page_size).await
    }
}

/// Accepts BCP 47-shaped tags (`en`, `sv-SE`, `zh-Hant-TW`); anything else could end up in a
/// template path or a header, so it is refused.
pub(crate) fn check_locale(locale: &str) -> Result<(), Error> {
    let shaped = locale.len() <= MAX_LOCALE_LENGTH
        && locale
            .split(['-', '_'])
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
    if locale.is_empty() || shaped {
        Ok(())
    } else {
        Err(Error::InvalidArgument("the locale is not a BCP 47 tag"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_tags_are_accepted_and_junk_is_refused() {
        for good in ["", "en", "sv-SE", "zh-Hant-TW", "pt_BR"] {
            assert!(check_locale(good).is_ok(), "{good}");
        }
        for bad in ["../etc", "en US", "en\r\n", "-en", "a".repeat(36).as_str()] {
            assert!(check_locale(bad).is_err(), "{bad}");
        }
    }
}
