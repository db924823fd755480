//! One password per reset: before a reset sends a password to an external directory under its
//! idempotency key, the guard records an argon2id hash of it, so a retry of that reset can
//! only resend the same password (a directory that already applied the key would otherwise
//! answer OK and keep the first), and records when the directory said it was set, so an
//! interrupted reset is finished rather than released.
//!
//! Redis: `{prefix}reset-guard:{<key>}`, a hash (`hash`, `landed`) that expires with the
//! token's record. Memory: a map, for the `stack` fallback.

use std::collections::HashMap;

use async_trait::async_trait;
use passreset_redis::RedisConnection;
use redis::AsyncCommands as _;
use tokio::sync::Mutex;

use crate::{Error, accounts::HashedPassword, clock::UnixMillis};

/// What the guard knows about one reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Guarded {
    /// The argon2id hash of the password the reset sends.
    pub hash: HashedPassword,
    /// Whether the directory said it was set.
    pub landed: bool,
}

/// Where guards live.
#[async_trait]
pub(crate) trait GuardStore: Send + Sync + std::fmt::Debug {
    /// The guard of `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Guarded>, Error>;
    /// Records `hash` for `key` until `forget_at`, unless a guard is there already.
    async fn put(
        &self,
        key: &str,
        hash: &HashedPassword,
        forget_at: UnixMillis,
    ) -> Result<(), Error>;
    /// Records that the directory set the password of `key`.
    async fn mark_landed(&self, key: &str) -> Result<(), Error>;
    /// Forgets `key`: its password is known not to have been set.
    async fn remove(&self, key: &str) -> Result<(), Error>;
}

/// Guards in Redis.
#[derive(Clone)]
pub(crate) struct RedisGuardStore {
    connection: RedisConnection,
    prefix: String,
}

impl std::fmt::Debug for RedisGuardStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisGuardStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisGuardStore {
    pub(crate) fn new(connection: RedisConnection, prefix: &str) -> Self {
        Self {
            connection,
            prefix: prefix.to_owned(),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}reset-guard:{{{key}}}", self.prefix)
    }
}

#[async_trait]
impl GuardStore for RedisGuardStore {
    async fn get(&self, key: &str) -> Result<Option<Guarded>, Error> {
        let (hash, landed): (Option<String>, Option<String>) = self
            .connection
            .clone()
            .hmget(self.key(key), &["hash", "landed"])
            .await?;
        Ok(hash.map(|hash| Guarded {
            hash: HashedPassword::from_stored(hash),
            landed: landed.is_some(),
        }))
    }

    async fn put(
        &self,
        key: &str,
        hash: &HashedPassword,
        forget_at: UnixMillis,
    ) -> Result<(), Error> {
        let key = self.key(key);
        // One transaction: a guard never outlives its token for want of an expiry.
        let _: (bool, bool) = redis::pipe()
            .atomic()
            .hset_nx(&key, "hash", hash.as_str())
            .pexpire_at(&key, forget_at.0)
            .query_async(&mut self.connection.clone())
            .await?;
        Ok(())
    }

    async fn mark_landed(&self, key: &str) -> Result<(), Error> {
        let _: i64 = self
            .connection
            .clone()
            .hset(self.key(key), "landed", "1")
            .await?;
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<(), Error> {
        let _: i64 = self.connection.clone().del(self.key(key)).await?;
        Ok(())
    }
}

/// Guards in process memory.
#[derive(Debug, Default)]
pub(crate) struct MemoryGuardStore {
    guards: Mutex<HashMap<String, (Guarded, UnixMillis)>>,
}

#[async_trait]
impl GuardStore for MemoryGuardStore {
    async fn get(&self, key: &str) -> Result<Option<Guarded>, Error> {
        let mut guards = self.guards.lock().await;
        let now = UnixMillis::now();
        guards.retain(|_, (_, forget_at)| *forget_at > now);
        Ok(guards.get(key).map(|(guarded, _)| guarded.clone()))
    }

    async fn put(
        &self,
        key: &str,
        hash: &HashedPassword,
        forget_at: UnixMillis,
    ) -> Result<(), Error> {
        self.guards.lock().await.entry(key.to_owned()).or_insert((
            Guarded {
                hash: hash.clone(),
                landed: false,
            },
            forget_at,
        ));
        Ok(())
    }

    async fn mark_landed(&self, key: &str) -> Result<(), Error> {
        if let Some((guarded, _)) = self.guards.lock().await.get_mut(key) {
            guarded.landed = true;
        }
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<(), Error> {
        self.guards.lock().await.remove(key);
        Ok(())
    }
}
