//! The two servers behind one face: connect, prepare, look up a row, run the update. The
//! arms differ only in their types, so one macro writes both.

use std::time::Duration;

use sqlx::{
    Column as _, Executor as _, Row as _, Statement as _,
    mysql::{MySqlPool, MySqlPoolOptions},
    postgres::{PgPool, PgPoolOptions},
};

use super::params::Rewritten;
use crate::directory::external::ExternalAccount;

/// A pool on one of the servers.
#[derive(Debug)]
pub(super) enum Pool {
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// A row the lookup found.
#[derive(Debug)]
pub(super) struct Found {
    pub account: ExternalAccount,
    /// The `password_hash` column, when the statement returns one and it is not NULL.
    pub password_hash: Option<String>,
}

/// How many rows the update would change.
#[derive(Debug)]
pub(super) enum Updated {
    /// Exactly one: committed.
    One,
    /// None: no row has the id (or the statement does not match it).
    None,
    /// More than one: rolled back.
    Many(u64),
}

/// A text column, whatever its SQL type reads as (text, an integer id, bytes in UTF-8); `None`
/// when the statement has no such column or it is NULL.
macro_rules! text_column {
    ($row:expr, $name:expr) => {{
        let row = $row;
        let name: &str = $name;
        if row.try_column(name).is_err() {
            None
        } else if let Ok(value) = row.try_get::<Option<String>, _>(name) {
            value
        } else if let Ok(value) = row.try_get::<Option<i64>, _>(name) {
            value.map(|number| number.to_string())
        } else if let Ok(value) = row.try_get::<Option<i32>, _>(name) {
            value.map(|number| number.to_string())
        } else if let Ok(value) = row.try_get::<Option<Vec<u8>>, _>(name) {
            value.and_then(|bytes| String::from_utf8(bytes).ok())
        } else {
            None
        }
    }};
}

fn found(
    id: Option<String>,
    email: Option<String>,
    locale: Option<String>,
    hash: Option<String>,
) -> Option<Found> {
    Some(Found {
        account: ExternalAccount {
            id: id?,
            email: email?,
            locale: locale.unwrap_or_default(),
        },
        password_hash: hash,
    })
}

/// The account in a row the lookup returned, from its `id`, `email`, `locale` and
/// `password_hash` columns.
macro_rules! found_in {
    ($row:expr) => {{
        let row = $row;
        found(
            text_column!(row, "id"),
            text_column!(row, "email"),
            text_column!(row, "locale"),
            text_column!(row, "password_hash"),
        )
    }};
}

/// `$body` with `$pool` bound to whichever server's pool `$self` holds: the arms differ only
/// in their types.
macro_rules! on_either {
    ($self:expr, $pool:ident => $body:expr) => {
        match $self {
            Pool::Postgres($pool) => $body,
            Pool::MySql($pool) => $body,
        }
    };
}

/// Binds each named parameter in the statement's order.
macro_rules! bound {
    ($statement:expr, $values:expr) => {{
        let mut query = sqlx::query(&$statement.sql);
        for name in &$statement.binds {
            query = query.bind($values(name).to_owned());
        }
        query
    }};
}

/// The update in a transaction committed only if exactly one row changed.
macro_rules! update_on {
    ($pool:expr, $statement:expr, $values:expr) => {{
        let mut transaction = $pool.begin().await.map_err(describe)?;
        let changed = bound!($statement, $values)
            .execute(&mut *transaction)
            .await
            .map_err(describe)?
            .rows_affected();
        if changed == 1 {
            transaction.commit().await.map_err(describe)?;
            Ok(Updated::One)
        } else {
            transaction.rollback().await.map_err(describe)?;
            Ok(if changed == 0 {
                Updated::None
            } else {
                Updated::Many(changed)
            })
        }
    }};
}

/// The server's error, for the logs: its message, never a bound value.
fn describe(error: sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(error) => format!("the server refused: {}", error.message()),
        other => other.to_string(),
    }
}

impl Pool {
    /// Connects to `url` (`postgres://`, `postgresql://`, `mysql://`, `mariadb://`).
    pub(super) async fn connect(
        url: &str,
        connections: u32,
        timeout: Duration,
    ) -> Result<Self, String> {
        let cannot = |error: sqlx::Error| format!("cannot connect: {}", describe(error));
        if url.starts_with("postgres") {
            PgPoolOptions::new()
                .max_connections(connections)
                .acquire_timeout(timeout)
                .connect(url)
                .await
                .map(Self::Postgres)
                .map_err(cannot)
        } else {
            MySqlPoolOptions::new()
                .max_connections(connections)
                .acquire_timeout(timeout)
                .connect(url)
                .await
                .map(Self::MySql)
                .map_err(cannot)
        }
    }

    /// Prepares `sql` on the server; the names of the columns it returns.
    pub(super) async fn prepare(&self, sql: &str) -> Result<Vec<String>, String> {
        on_either!(self, pool => pool
            .prepare(sql)
            .await
            .map(|statement| {
                statement
                    .columns()
                    .iter()
                    .map(|c| c.name().to_owned())
                    .collect()
            })
            .map_err(describe))
    }

    /// The first row the lookup returns for `email`.
    pub(super) async fn lookup(
        &self,
        statement: &Rewritten,
        email: &str,
    ) -> Result<Option<Found>, String> {
        let values = |_: &&str| email;
        on_either!(self, pool => {
            let row = bound!(statement, values)
                .fetch_optional(pool)
                .await
                .map_err(describe)?;
            Ok(row.as_ref().and_then(|row| found_in!(row)))
        })
    }

    /// Runs the update for `account_id` with `password_hash`.
    pub(super) async fn update(
        &self,
        statement: &Rewritten,
        account_id: &str,
        password_hash: &str,
    ) -> Result<Updated, String> {
        let values = |name: &&str| {
            if *name == "account_id" {
                account_id
            } else {
                password_hash
            }
        };
        on_either!(self, pool => update_on!(pool, statement, values))
    }
}
