//! Where the accounts live (`TOKEN_DIRECTORY`): the built-in directory (`accounts/`), or one
//! the platform owns behind the [`ExternalDirectory`] contract (`grpc.rs`, its gRPC service;
//! `sql/`, its users table). [`Users`] is what the reset flow and the gRPC services ask, opened
//! by `connect.rs`; `guard.rs` keeps an external reset to one password.

mod connect;
pub(crate) mod external;
pub(crate) mod grpc;
pub(crate) mod guard;
pub(crate) mod setting;
pub(crate) mod sql;

use std::sync::Arc;

use secrecy::SecretString;

pub(crate) use external::{ExternalDirectory, ExternalError};
pub(crate) use guard::GuardStore;

use crate::{
    Error,
    accounts::{Directory, NormalizedEmail, check_locale},
};

/// The accounts the service resets.
#[derive(Clone, Debug)]
pub(crate) enum Users {
    /// The built-in directory, in Redis.
    BuiltIn(Directory),
    /// The platform's own.
    External(External),
}

/// A directory the platform owns, and the guards of the resets sent to it.
#[derive(Clone, Debug)]
pub(crate) struct External {
    /// The platform's directory.
    pub store: Arc<dyn ExternalDirectory>,
    /// One password per reset.
    pub guards: Arc<dyn GuardStore>,
}

/// An account as the reset flow needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    /// The directory's id of it: what the token service's keys name.
    pub id: String,
    /// Where its mail goes.
    pub email: NormalizedEmail,
    /// Its locale (BCP 47), empty when unknown.
    pub locale: String,
}

/// Longest account id accepted from a directory (it ends up in Redis keys).
const MAX_ACCOUNT_ID_LENGTH: usize = 256;

/// What the admin service answers for what only the built-in directory can do.
pub(crate) const BUILT_IN_ONLY: &str = "the accounts are kept in the platform's own directory \
    (TOKEN_DIRECTORY): manage them there";

impl Users {
    /// The account that has the address (`typed` as the user typed it, `email` normalised).
    /// A directory that fails or does not answer is [`Error::DirectoryUnavailable`].
    pub(crate) async fn lookup(
        &self,
        typed: &str,
        email: &NormalizedEmail,
    ) -> Result<Option<Found>, Error> {
        match self {
            Self::BuiltIn(directory) => Ok(directory.by_email(email).await?.map(|record| Found {
                id: record.id,
                email: record.email,
                locale: record.locale,
            })),
            Self::External(external) => match external.store.lookup(typed.trim()).await {
                Ok(Some(account)) => found(account, email).map(Some),
                Ok(None) => Ok(None),
                Err(error) => Err(from_external(error)),
            },
        }
    }

    /// The built-in directory, or FAILED_PRECONDITION for the admin calls only it supports.
    pub(crate) fn built_in(&self) -> Result<&Directory, Error> {
        match self {
            Self::BuiltIn(directory) => Ok(directory),
            Self::External(_) => Err(Error::BuiltInOnly(BUILT_IN_ONLY)),
        }
    }

    /// The id of the account of `typed_email` if `password` is its password.
    pub(crate) async fn verify(
        &self,
        typed_email: &str,
        password: SecretString,
    ) -> Result<Option<String>, Error> {
        match self {
            Self::BuiltIn(directory) => Ok(directory
                .verify(typed_email, password)
                .await?
                .map(|record| record.id)),
            Self::External(external) => {
                match external.store.verify(typed_email.trim(), &password).await {
                    Ok(account) => Ok(account.map(|account| account.id)),
                    Err(ExternalError::Unsupported) => Err(Error::BuiltInOnly(
                        "this directory cannot verify passwords: the platform's login does",
                    )),
                    Err(error) => Err(from_external(error)),
                }
            }
        }
    }
}

/// A directory's answer, made safe for keys and mails: an unusable id is the directory's
/// fault; an address or locale that does not read falls back to what the user typed or none.
fn found(account: external::ExternalAccount, typed: &NormalizedEmail) -> Result<Found, Error> {
    if account.id.is_empty()
        || account.id.len() > MAX_ACCOUNT_ID_LENGTH
        || account.id.chars().any(char::is_control)
    {
        return Err(Error::DirectoryUnavailable(
            "the directory answered an unusable account id".to_owned(),
        ));
    }
    Ok(Found {
        id: account.id,
        email: NormalizedEmail::parse(&account.email).unwrap_or_else(|_| typed.clone()),
        locale: if check_locale(&account.locale).is_ok() {
            account.locale
        } else {
            String::new()
        },
    })
}

/// A failed lookup or verification, as the service's error.
pub(crate) fn from_external(error: ExternalError) -> Error {
    match error {
        ExternalError::NotFound => Error::AccountNotFound,
        ExternalError::Refused(message) => Error::DirectoryRefusedPassword(message),
        ExternalError::Unavailable(detail) | ExternalError::NotSet(detail) => {
            Error::DirectoryUnavailable(detail)
        }
        ExternalError::Unsupported => Error::BuiltInOnly(BUILT_IN_ONLY),
    }
}
