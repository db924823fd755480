//! Which stores the service runs on: Redis (production, tests) or process memory (the `stack`
//! fallback when no Redis can be had).

use std::sync::Arc;

use crate::{
    StartupError,
    accounts::{AccountStore, memory::MemoryAccountStore, redis::RedisAccountStore},
    directory::guard::{GuardStore, MemoryGuardStore, RedisGuardStore},
    events::{EventSink, MemoryEvents, RedisEvents},
    limits::{LimitStore, memory::MemoryLimitStore, redis::RedisLimitStore},
    tokens::{TokenStore, memory::MemoryTokenStore, redis::RedisTokenStore},
};

/// The service's stores (tokens, accounts, rate limits, events), chosen together.
#[derive(Debug, Clone)]
pub enum Stores {
    /// Redis, over one multiplexed connection shared by every store (boxed: five store handles
    /// dwarf the memory variant's five pointers).
    Redis(Box<RedisStores>),
    /// Process memory: nothing survives a restart.
    Memory(MemoryStores),
}

/// Every store on one Redis connection.
#[derive(Debug, Clone)]
pub struct RedisStores {
    tokens: RedisTokenStore,
    accounts: RedisAccountStore,
    limits: RedisLimitStore,
    events: RedisEvents,
    guards: RedisGuardStore,
    /// The connection the stores share, for health checks.
    connection: passreset_redis::RedisConnection,
}

/// Every store in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryStores {
    tokens: Arc<MemoryTokenStore>,
    accounts: Arc<MemoryAccountStore>,
    limits: Arc<MemoryLimitStore>,
    events: Arc<MemoryEvents>,
    guards: Arc<MemoryGuardStore>,
}

impl Stores {
    /// Connects to the Redis of `redis` and checks that it answers, failing within a few
    /// seconds with an error naming the (password-free) address if it does not. Every key
    /// written starts with `key_prefix`.
    pub async fn connect_redis(
        redis: &passreset_redis::RedisSettings,
        key_prefix: &str,
    ) -> Result<Stores, StartupError> {
        let connection = passreset_redis::connect(redis, passreset_redis::RESPONSE_TIMEOUT).await?;
        Ok(Stores::Redis(Box::new(RedisStores {
            tokens: RedisTokenStore::new(connection.clone(), key_prefix),
            accounts: RedisAccountStore::new(connection.clone(), key_prefix),
            limits: RedisLimitStore::new(connection.clone(), key_prefix),
            events: RedisEvents::new(connection.clone(), key_prefix),
            guards: RedisGuardStore::new(connection.clone(), key_prefix),
            connection,
        })))
    }

    /// Empty in-memory stores. For the `stack` binary's last resort only: everything is lost
    /// when the process exits, and nothing is shared between processes.
    pub fn in_memory() -> Stores {
        Stores::Memory(MemoryStores::default())
    }

    /// Whether the stores can be used right now (memory always can).
    pub(crate) async fn answers(&self) -> bool {
        match self {
            Self::Redis(redis) => passreset_redis::answers(&redis.connection).await,
            Self::Memory(_) => true,
        }
    }

    pub(crate) fn token_store(&self) -> Arc<dyn TokenStore> {
        match self {
            Self::Redis(redis) => Arc::new(redis.tokens.clone()),
            Self::Memory(memory) => memory.tokens.clone(),
        }
    }

    pub(crate) fn event_sink(&self) -> Arc<dyn EventSink> {
        match self {
            Self::Redis(redis) => Arc::new(redis.events.clone()),
            Self::Memory(memory) => memory.events.clone(),
        }
    }

    /// The rate limits: in Redis they are shared by every replica on that Redis.
    pub(crate) fn limit_store(&self) -> Arc<dyn LimitStore> {
        match self {
            Self::Redis(redis) => Arc::new(redis.limits.clone()),
            Self::Memory(memory) => memory.limits.clone(),
        }
    }

    /// The guards of resets sent to the platform's directory.
    pub(crate) fn guard_store(&self) -> Arc<dyn GuardStore> {
        match self {
            Self::Redis(redis) => Arc::new(redis.guards.clone()),
            Self::Memory(memory) => memory.guards.clone(),
        }
    }

    pub(crate) fn account_store(&self) -> Arc<dyn AccountStore> {
        match self {
            Self::Redis(redis) => Arc::new(redis.accounts.clone()),
            Self::Memory(memory) => memory.accounts.clone(),
        }
    }
}
