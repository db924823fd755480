//! A reset against a directory the platform owns, which cannot tell us later whether a
//! password change landed. What keeps the promises instead:
//! - the idempotency key is derived from the token, so every attempt of one reset sends the
//!   same key, and the directory can make a retry harmless;
//! - the guard records the password's hash before the first attempt, so no attempt can send
//!   another password under that key (the directory would keep the first and answer OK);
//! - a failure whose outcome is unknown gives the token back with its guard kept: the user's
//!   retry with the same password finishes the reset, and no other password can;
//! - a refusal the directory is sure of (NOT_FOUND, INVALID_ARGUMENT) clears the guard, so the
//!   token can set another password;
//! - once the directory said OK, the guard says "landed" and an interrupted bookkeeping is
//!   finished, never released.

use secrecy::SecretString;
use sha2::{Digest as _, Sha256};

use super::{Changed, Pending, Resets};
use crate::{
    Error,
    accounts::HashedPassword,
    clock::UnixMillis,
    directory::{External, ExternalError},
    tokens::codec::Digest,
};

/// The idempotency key of the reset of the token with `digest`: the same for every attempt,
/// and telling nothing about the token.
pub(crate) fn idempotency_key(digest: &Digest) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"passreset.directory.v1 idempotency key\0");
    hasher.update(digest.as_str().as_bytes());
    hex::encode(hasher.finalize())
}

impl Resets {
    /// Sets `password` through the platform's directory under `pending`'s claim, then does the
    /// bookkeeping. See the module's comment for what each outcome does to the token.
    pub(super) async fn set_external(
        &self,
        external: &External,
        pending: Pending,
        password: SecretString,
    ) -> Result<Changed, Error> {
        let key = idempotency_key(&pending.digest);
        if let Err(error) = self.guard(external, &pending, &key, &password).await {
            self.release_after_failure(&pending).await;
            return Err(error);
        }
        let set = external
            .store
            .set_password(&pending.record.account_id, &password, &key)
            .await;
        let known_not_set = match set {
            Ok(()) => return Ok(self.landed(external, pending, &key).await),
            Err(ExternalError::NotFound) => Error::TokenUnknown,
            Err(ExternalError::Refused(words)) => Error::DirectoryRefusedPassword(words),
            Err(ExternalError::NotSet(detail)) => Error::DirectoryUnavailable(detail),
            Err(ExternalError::Unsupported) => {
                Error::Internal("the directory cannot set passwords".to_owned())
            }
            Err(ExternalError::Unavailable(detail)) => {
                // Maybe set, maybe not: the guard stays, so only this password can finish it.
                self.release_after_failure(&pending).await;
                return Err(Error::DirectoryUnavailable(detail));
            }
        };
        if let Err(error) = external.guards.remove(&key).await {
            // The token then finishes with this password only, which is safe, merely strict.
            tracing::warn!(account_id = pending.record.account_id, %error, "could not clear a reset's guard");
        }
        self.release_after_failure(&pending).await;
        Err(known_not_set)
    }

    /// Checks `password` against the reset's guard, or records it as the reset's password.
    async fn guard(
        &self,
        external: &External,
        pending: &Pending,
        key: &str,
        password: &SecretString,
    ) -> Result<(), Error> {
        match external.guards.get(key).await? {
            Some(guarded) => {
                if self
                    .hashing
                    .verify(Some(guarded.hash), password.clone())
                    .await?
                {
                    Ok(())
                } else {
                    Err(Error::ResetPending)
                }
            }
            None => {
                let hash = self.hashing.hash(password.clone()).await?;
                external
                    .guards
                    .put(key, &hash, pending.record.forget_at())
                    .await
            }
        }
    }

    /// The directory set the password: the guard says so, then the bookkeeping; what fails of
    /// it is finished later (`settle` sees the guard landed).
    async fn landed(&self, external: &External, pending: Pending, key: &str) -> Changed {
        let account = changed_of(&pending);
        let finished = match external.guards.mark_landed(key).await {
            Ok(()) => self.finish(&pending, &account).await,
            Err(error) => Err(error),
        };
        if let Err(error) = finished {
            tracing::warn!(
                account_id = account.id,
                %error,
                "password set, its bookkeeping is left to finish later"
            );
            self.settle_in_background(pending);
        }
        account
    }

    /// For `settle`: the account and the password's hash if the directory said the reset's
    /// password was set; `None` (and the token may be given back, its guard kept) otherwise.
    pub(super) async fn landed_external(
        &self,
        external: &External,
        pending: &Pending,
    ) -> Result<Option<(Changed, HashedPassword)>, Error> {
        let guarded = external
            .guards
            .get(&idempotency_key(&pending.digest))
            .await?;
        Ok(guarded
            .filter(|guarded| guarded.landed)
            .map(|guarded| (changed_of(pending), guarded.hash)))
    }
}

/// The account a pending reset changes, as its token recorded it.
fn changed_of(pending: &Pending) -> Changed {
    Changed {
        id: pending.record.account_id.clone(),
        email: crate::accounts::NormalizedEmail::from_stored(pending.record.email.clone()),
        locale: pending.record.locale.clone(),
        changed_at: UnixMillis::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_stable_per_token_and_differs_between_tokens() {
        let one = Digest::from_stored(&"a".repeat(64)).unwrap();
        let other = Digest::from_stored(&"b".repeat(64)).unwrap();
        assert_eq!(idempotency_key(&one), idempotency_key(&one));
        assert_ne!(idempotency_key(&one), idempotency_key(&other));
        assert!(!idempotency_key(&one).contains(one.as_str()));
    }
}
