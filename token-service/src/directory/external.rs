//! The contract of a directory the platform owns (its gRPC service, its SQL table): look an
//! address up, set a password under an idempotency key, and (optionally) verify one. What
//! each answer means for the reset flow is decided in `reset/external.rs`.

use std::fmt;

use async_trait::async_trait;
use secrecy::SecretString;

/// An account as the platform's directory answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ExternalAccount {
    /// The platform's id of the account.
    pub id: String,
    /// Its address, where the mail goes.
    pub email: String,
    /// Its locale, empty when unknown.
    pub locale: String,
}

/// Why a call to the platform's directory did not succeed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExternalError {
    /// No such account.
    #[error("no such account")]
    NotFound,
    /// The store refuses this password; the text is for the user.
    #[error("the directory refused the password")]
    Refused(String),
    /// No answer in time, or a failure whose outcome is unknown; the text is for the logs
    /// (never a password, a key or a connection secret).
    #[error("the directory is unavailable: {0}")]
    Unavailable(String),
    /// The password is known not to have been set, for a reason of the directory's (its
    /// update would change more than one row); the text is for the logs.
    #[error("the directory did not set the password: {0}")]
    NotSet(String),
    /// This directory cannot do that.
    #[error("the directory cannot do that")]
    Unsupported,
}

/// Where the platform keeps its accounts.
#[async_trait]
pub(crate) trait ExternalDirectory: Send + Sync + fmt::Debug {
    /// The account that has `email` (as typed, trimmed), `None` if none has.
    async fn lookup(&self, email: &str) -> Result<Option<ExternalAccount>, ExternalError>;

    /// Sets `password` on the account `account_id`. Every attempt of one reset sends the same
    /// `idempotency_key`, always with the same password.
    async fn set_password(
        &self,
        account_id: &str,
        password: &SecretString,
        idempotency_key: &str,
    ) -> Result<(), ExternalError>;

    /// The account of `email` if `password` is its password; [`ExternalError::Unsupported`]
    /// when the directory cannot tell.
    async fn verify(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<Option<ExternalAccount>, ExternalError> {
        let _ = (email, password);
        Err(ExternalError::Unsupported)
    }
}
