//! `TOKEN_DIRECTORY=postgres://...` or `mysql://...`: the platform's users table, read and
//! written by its own two statements (`TOKEN_DIRECTORY_LOOKUP_SQL`, `TOKEN_DIRECTORY_UPDATE_SQL`)
//! over sqlx's pool, prepared at start, each call within `TOKEN_DIRECTORY_TIMEOUT`.
//!
//! - `params.rs`: `:name` parameters as each server's placeholders;
//! - `passreset-hash-formats`: the hash format the platform's login verifies
//!   (`TOKEN_DIRECTORY_HASH`);
//! - `rows.rs`: reading the lookup's columns and running the update, per server.
//!
//! The update runs in a transaction that commits only when exactly one row changed (any other
//! count is rolled back, answered 503, the token usable). A retry of
//! a reset (same password, by the guard) writes the same password again: harmless.

mod params;
mod rows;

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};

use super::external::{ExternalAccount, ExternalDirectory, ExternalError};
use crate::accounts::password::HashPool;
use params::{Placeholders, Rewritten, rewrite};
pub use passreset_hash_formats::{self as hash, HashFormat};
use rows::{Pool, Updated};

/// Connections the pool keeps at most: a reset makes two short statements.
const MAX_CONNECTIONS: u32 = 8;

/// The SQL directory's settings.
#[derive(Debug)]
pub(crate) struct SqlSettings<'a> {
    /// `TOKEN_DIRECTORY`.
    pub url: &'a SecretString,
    /// `TOKEN_DIRECTORY_LOOKUP_SQL`.
    pub lookup_sql: Option<&'a str>,
    /// `TOKEN_DIRECTORY_UPDATE_SQL`.
    pub update_sql: Option<&'a str>,
    /// `TOKEN_DIRECTORY_HASH`.
    pub hash: HashFormat,
    /// `TOKEN_DIRECTORY_TIMEOUT`.
    pub timeout: Duration,
}

/// Why the SQL directory cannot start: the variable to fix, and what is wrong.
#[derive(Debug)]
pub(crate) struct SqlStartError {
    pub variable: &'static str,
    pub reason: String,
}

fn refuse(variable: &'static str, reason: impl Into<String>) -> SqlStartError {
    SqlStartError {
        variable,
        reason: reason.into(),
    }
}

/// The platform's users table.
#[derive(Debug)]
pub(crate) struct SqlDirectory {
    pool: Pool,
    lookup: Rewritten,
    update: Rewritten,
    /// Whether the lookup returns `password_hash` (VerifyPassword needs it).
    verifies: bool,
    format: HashFormat,
    timeout: Duration,
    hashing: HashPool,
    /// A hash in `format` of a password nobody knows, verified against for unknown addresses.
    dummy: String,
}

impl SqlDirectory {
    /// Connects, and prepares both statements against the server, so a typo stops the start.
    pub(crate) async fn connect(
        settings: SqlSettings<'_>,
        hashing: HashPool,
    ) -> Result<Self, SqlStartError> {
        let lookup_sql = settings
            .lookup_sql
            .filter(|sql| !sql.trim().is_empty())
            .ok_or_else(|| {
                refuse(
                    "TOKEN_DIRECTORY_LOOKUP_SQL",
                    "is required for an SQL directory",
                )
            })?;
        let update_sql = settings
            .update_sql
            .filter(|sql| !sql.trim().is_empty())
            .ok_or_else(|| {
                refuse(
                    "TOKEN_DIRECTORY_UPDATE_SQL",
                    "is required for an SQL directory",
                )
            })?;
        let url = settings.url.expose_secret();
        let style = if url.starts_with("postgres") {
            Placeholders::Postgres
        } else {
            Placeholders::MySql
        };
        let lookup = rewrite(lookup_sql, style, &["email"])
            .map_err(|reason| refuse("TOKEN_DIRECTORY_LOOKUP_SQL", reason))?;
        let update = rewrite(update_sql, style, &["account_id", "password_hash"])
            .map_err(|reason| refuse("TOKEN_DIRECTORY_UPDATE_SQL", reason))?;
        let pool = Pool::connect(url, MAX_CONNECTIONS, settings.timeout)
            .await
            .map_err(|reason| refuse("TOKEN_DIRECTORY", reason))?;
        let columns = pool
            .prepare(&lookup.sql)
            .await
            .map_err(|reason| refuse("TOKEN_DIRECTORY_LOOKUP_SQL", reason))?;
        for required in ["id", "email"] {
            if !columns
                .iter()
                .any(|column| column.eq_ignore_ascii_case(required))
            {
                return Err(refuse(
                    "TOKEN_DIRECTORY_LOOKUP_SQL",
                    format!(
                        "returns no `{required}` column (it returns {})",
                        columns.join(", ")
                    ),
                ));
            }
        }
        pool.prepare(&update.sql)
            .await
            .map_err(|reason| refuse("TOKEN_DIRECTORY_UPDATE_SQL", reason))?;
        let format = settings.hash;
        let unknown = SecretString::from(hex::encode(random_seed()));
        let dummy = hashing
            .run(move || format.hash(&unknown))
            .await
            .and_then(|hashed| hashed.map_err(|error| crate::Error::Internal(error.to_string())))
            .map_err(|error| refuse("TOKEN_DIRECTORY_HASH", error.to_string()))?;
        Ok(Self {
            pool,
            verifies: columns
                .iter()
                .any(|column| column.eq_ignore_ascii_case("password_hash")),
            lookup,
            update,
            format,
            timeout: settings.timeout,
            hashing,
            dummy,
        })
    }

    async fn within<T>(
        &self,
        operation: &str,
        work: impl Future<Output = Result<T, String>>,
    ) -> Result<T, ExternalError> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(reason)) => Err(ExternalError::Unavailable(format!("{operation}: {reason}"))),
            Err(_) => Err(ExternalError::Unavailable(format!(
                "{operation}: no answer within {:?}",
                self.timeout
            ))),
        }
    }

    async fn row_of(&self, email: &str) -> Result<Option<rows::Found>, ExternalError> {
        self.within("lookup", self.pool.lookup(&self.lookup, email))
            .await
    }
}

fn random_seed() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    // A failed random source only makes the dummy's password guessable: it still matches
    // nothing real.
    let _ = getrandom::fill(&mut bytes);
    bytes
}

#[async_trait]
impl ExternalDirectory for SqlDirectory {
    async fn lookup(&self, email: &str) -> Result<Option<ExternalAccount>, ExternalError> {
        Ok(self.row_of(email).await?.map(|found| found.account))
    }

    async fn set_password(
        &self,
        account_id: &str,
        password: &SecretString,
        _idempotency_key: &str,
    ) -> Result<(), ExternalError> {
        let format = self.format;
        let password = password.clone();
        let hash = self
            .hashing
            .run(move || format.hash(&password))
            .await
            .map_err(|error| ExternalError::Unavailable(error.to_string()))?
            .map_err(|error| ExternalError::Unavailable(error.to_string()))?;
        let updated = self
            .within("update", self.pool.update(&self.update, account_id, &hash))
            .await?;
        match updated {
            Updated::One => Ok(()),
            // Most likely a statement that does not match the id's form: the operator's to fix,
            // and the token stays usable.
            Updated::None => Err(ExternalError::NotSet(
                "TOKEN_DIRECTORY_UPDATE_SQL changed no row".to_owned(),
            )),
            Updated::Many(rows) => Err(ExternalError::NotSet(format!(
                "TOKEN_DIRECTORY_UPDATE_SQL would change {rows} rows: rolled back"
            ))),
        }
    }

    async fn verify(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<Option<ExternalAccount>, ExternalError> {
        if !self.verifies {
            return Err(ExternalError::Unsupported);
        }
        let found = self.row_of(email).await?;
        let stored = found
            .as_ref()
            .and_then(|found| found.password_hash.clone())
            .unwrap_or_else(|| self.dummy.clone());
        let password = password.clone();
        let matches = self
            .hashing
            .run(move || hash::verify(&stored, &password))
            .await
            .map_err(|error| ExternalError::Unavailable(error.to_string()))?;
        Ok(found
            .filter(|found| matches && found.password_hash.is_some())
            .map(|found| found.account))
    }
}
