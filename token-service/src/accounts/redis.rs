//! Accounts in Redis: the keys, the Lua scripts and the typed calls around them.
//!
//! - `{prefix}account:{<id>}`: a hash per account (id, email, password_hash, locale,
//!   created_at, password_changed_at, and for resets: last_reset, the reset id of the last
//!   password change, and reset_fence, a reset settled as not landed);
//! - `{prefix}account-email:{<normalised email>}`: the account id of an address.
//!
//! Each script touches one account key only, and listing scans every master, so everything
//! works on Redis Cluster (the contract tests run there too). The address
//! index is claimed with `SET NX`, so concurrent upserts of one new address agree on one id.

use std::{collections::HashMap, sync::LazyLock};

use async_trait::async_trait;
use passreset_redis::RedisConnection;
use redis::{AsyncCommands as _, Script};

use super::{
    email::NormalizedEmail,
    password::HashedPassword,
    store::{AccountPage, AccountRecord, AccountStore, new_account_id},
};
use crate::{Error, clock::UnixMillis};

/// Creates or updates an account hash; returns it whole.
/// KEYS[1] = account key; ARGV = id, email, hash, now (ms), locale, whether to set the locale.
static UPSERT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('HSETNX', KEYS[1], 'created_at', ARGV[4])
redis.call('HSETNX', KEYS[1], 'locale', '')
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'email', ARGV[2], 'password_hash', ARGV[3],
           'password_changed_at', ARGV[4])
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'locale', ARGV[5]) end
return redis.call('HGETALL', KEYS[1])
",
    )
});

/// Replaces the password hash of an existing account for reset ARGV[3], recording the reset so
/// it can be settled later; returns the account whole, nothing if there is none, or
/// `{'fenced'}` if the reset was already settled as not landed (a late write).
/// KEYS[1] = account key; ARGV = hash, now (ms), reset id.
static SET_PASSWORD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
if redis.call('HGET', KEYS[1], 'reset_fence') == ARGV[3] then return {'fenced'} end
redis.call('HSET', KEYS[1], 'password_hash', ARGV[1], 'password_changed_at', ARGV[2],
           'last_reset', ARGV[3])
return redis.call('HGETALL', KEYS[1])
",
    )
});

/// Whether reset ARGV[1] set the password: the account whole if it did; if not, nothing, and
/// the reset is fenced off so a write of it still on its way can never land.
/// KEYS[1] = account key; ARGV = reset id.
static SETTLE_RESET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
if redis.call('HGET', KEYS[1], 'last_reset') == ARGV[1] then
  return redis.call('HGETALL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'reset_fence', ARGV[1])
return {}
",
    )
});

/// Accounts in Redis, over the service's one multiplexed connection.
#[derive(Clone)]
pub(crate) struct RedisAccountStore {
    connection: RedisConnection,
    prefix: String,
}

impl std::fmt::Debug for RedisAccountStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAccountStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisAccountStore {
    /// A store writing keys under `prefix`.
    pub(crate) fn new(connection: RedisConnection, prefix: &str) -> Self {
        Self {
            connection,
            prefix: prefix.to_owned(),
        }
    }

    fn account_key(&self, id: &str) -> String {
        format!("{}account:{{{id}}}", self.prefix)
    }

    fn email_key(&self, email: &NormalizedEmail) -> String {
        format!("{}account-email:{{{}}}", self.prefix, email.as_str())
    }

    /// The SCAN pattern matching every account key (and no other kind of key).
    fn account_pattern(&self) -> String {
        format!("{}account:*", escape_glob(&self.prefix))
    }

    async fn id_of(&self, email: &NormalizedEmail) -> Result<Option<String>, Error> {
        let mut connection = self.connection.clone();
        Ok(connection.get(self.email_key(email)).await?)
    }
}

/// `prefix` with the glob characters of SCAN MATCH escaped.
fn escape_glob(prefix: &str) -> String {
    let mut escaped = String::with_capacity(prefix.len());
    for character in prefix.chars() {
        if matches!(character, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// Reads an account from its hash fields; `None` for an empty (missing) hash.
fn record_from(fields: HashMap<String, String>) -> Result<Option<AccountRecord>, Error> {
    if fields.is_empty() {
        return Ok(None);
    }
    let mut fields = fields;
    let mut take = |name: &str| {
        fields.remove(name).ok_or_else(|| Error::CorruptRecord {
            kind: "account",
            detail: format!("missing {name}"),
        })
    };
    let id = take("id")?;
    let email = take("email")?;
    let password_hash = take("password_hash")?;
    let locale = take("locale").unwrap_or_default();
    let created_at = take("created_at")?;
    let password_changed_at = take("password_changed_at")?;
    let millis = |text: String, name: &str| {
        text.parse()
            .map(UnixMillis)
            .map_err(|_| Error::CorruptRecord {
                kind: "account",
                detail: format!("{name} is not a number"),
            })
    };
    Ok(Some(AccountRecord {
        id,
        email: NormalizedEmail::from_stored(email),
        password_hash: HashedPassword::from_stored(password_hash),
        locale,
        created_at: millis(created_at, "created_at")?,
        password_changed_at: millis(password_changed_at, "password_changed_at")?,
    }))
}

/// A script's flat `HGETALL` answer as a map.
fn pairs(flat: Vec<String>) -> HashMap<String, String> {
    let mut map = HashMap::with_capacity(flat.len() / 2);
    let mut items = flat.into_iter();
    while let (Some(name), Some(value)) = (items.next(), items.next()) {
        map.insert(name, value);
    }
    map
}

#[async_trait]
impl AccountStore for RedisAccountStore {
    async fn by_id(&self, id: &str) -> Result<Option<AccountRecord>, Error> {
        let mut connection = self.connection.clone();
        let fields: HashMap<String, String> = connection.hgetall(self.account_key(id)).await?;
        record_from(fields)
    }

    async fn by_email(&self, email: &NormalizedEmail) -> Result<Option<AccountRecord>, Error> {
        match self.id_of(email).await? {
            Some(id) => self.by_id(&id).await,
            None => Ok(None),
        }
    }

    async fn upsert(
        &self,
        email: &NormalizedEmail,
        password_hash: &HashedPassword,
        locale: Option<&str>,
        now: UnixMillis,
    ) -> Result<AccountRecord, Error> {
        let mut connection = self.connection.clone();
        let id = match self.id_of(email).await? {
            Some(id) => id,
            None => {
                let candidate = new_account_id()?;
                let claimed: Option<String> = redis::cmd("SET")
                    .arg(self.email_key(email))
                    .arg(&candidate)
                    .arg("NX")
                    .query_async(&mut connection)
                    .await?;
                match claimed {
                    Some(_) => candidate,
                    // Another upsert of this address won the race: use its id.
                    None => self
                        .id_of(email)
                        .await?
                        .ok_or_else(|| Error::CorruptRecord {
                            kind: "account",
                            detail: "address index vanished during an upsert".to_owned(),
                        })?,
                }
            }
        };
        let flat: Vec<String> = UPSERT
            .key(self.account_key(&id))
            .arg(&id)
            .arg(email.as_str())
            .arg(password_hash.as_str())
            .arg(now.0)
            .arg(locale.unwrap_or_default())
            .arg(if locale.is_some() { "1" } else { "0" })
            .invoke_async(&mut connection)
            .await?;
        record_from(pairs(flat))?.ok_or_else(|| Error::CorruptRecord {
            kind: "account",
            detail: "upsert returned nothing".to_owned(),
        })
    }

    async fn set_password(
        &self,
        id: &str,
        password_hash: &HashedPassword,
        now: UnixMillis,
        reset: &str,
    ) -> Result<AccountRecord, Error> {
        let mut connection = self.connection.clone();
        let flat: Vec<String> = SET_PASSWORD
            .key(self.account_key(id))
            .arg(password_hash.as_str())
            .arg(now.0)
            .arg(reset)
            .invoke_async(&mut connection)
            .await?;
        if flat.len() == 1 {
            return Err(Error::ResetInterrupted);
        }
        record_from(pairs(flat))?.ok_or(Error::AccountNotFound)
    }

    async fn settle_reset(&self, id: &str, reset: &str) -> Result<Option<AccountRecord>, Error> {
        let mut connection = self.connection.clone();
        let flat: Vec<String> = SETTLE_RESET
            .key(self.account_key(id))
            .arg(reset)
            .invoke_async(&mut connection)
            .await?;
        record_from(pairs(flat))
    }

    async fn list(&self, cursor: &str, page_size: usize) -> Result<AccountPage, Error> {
        let mut cursor = cursor.to_owned();
        let mut keys: Vec<String> = Vec::new();
        loop {
            let page = passreset_redis::scan_page(
                &self.connection,
                &cursor,
                &self.account_pattern(),
                page_size.max(10),
            )
            .await
            .map_err(|error| match error {
                passreset_redis::ScanError::Cursor => {
                    Error::InvalidArgument("the cursor is not valid")
                }
                passreset_redis::ScanError::Redis(error) => error.into(),
            })?;
            keys.extend(page.keys);
            cursor = page.next_cursor;
            if cursor.is_empty() || keys.len() >= page_size {
                break;
            }
        }
        // One HGETALL each, concurrently: on a cluster the keys live on different nodes, so
        // they cannot share a pipeline.
        let hashes = futures::future::try_join_all(keys.iter().map(|key| {
            let mut connection = self.connection.clone();
            async move { connection.hgetall::<_, HashMap<String, String>>(key).await }
        }))
        .await?;
        let mut accounts = Vec::with_capacity(hashes.len());
        for fields in hashes {
            // An account deleted between SCAN and HGETALL reads as empty: skip it.
            if let Some(record) = record_from(fields)? {
                accounts.push(record);
            }
        }
        Ok(AccountPage {
            accounts,
            next_cursor: cursor,
        })
    }
}
