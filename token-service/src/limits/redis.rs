//! Limits in Redis: `{prefix}limit:<name>:<sha256 of the subject>` holds the theoretical
//! arrival time (ms) and expires once it has passed, so idle subjects leave nothing behind.
//! Each decision is one script on one key: atomic across replicas, fine on Redis Cluster.

use std::sync::LazyLock;

use async_trait::async_trait;
use redis::{Script, aio::ConnectionManager};

use super::{
    Rate, gcra_parameters,
    store::{Decision, LimitStore, Mode, decision},
};
use crate::{Error, clock::UnixMillis};

/// GCRA. KEYS[1] = the subject's key; ARGV = now, interval, tolerance, take (1) or peek (0).
/// Returns how many ms until one more event is allowed (0 or less: allowed now).
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then return wait end
if ARGV[4] == '1' then
  local next_tat = tat + interval
  redis.call('SET', KEYS[1], next_tat, 'PX', next_tat - now)
end
return 0
",
    )
});

/// Limits in Redis, over the service's one multiplexed connection.
#[derive(Clone)]
pub(crate) struct RedisLimitStore {
    connection: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisLimitStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimitStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisLimitStore {
    pub(crate) fn new(connection: ConnectionManager, prefix: &str) -> Self {
        Self {
            connection,
            prefix: prefix.to_owned(),
        }
    }
}

#[async_trait]
impl LimitStore for RedisLimitStore {
    async fn acquire(
        &self,
        key: &str,
        rate: Rate,
        now: UnixMillis,
        mode: Mode,
    ) -> Result<Decision, Error> {
        let (interval, tolerance) = gcra_parameters(rate);
        let wait: i64 = ACQUIRE
            .key(format!("{}limit:{key}", self.prefix))
            .arg(now.0)
            .arg(interval)
            .arg(tolerance)
            .arg(u8::from(mode == Mode::Take))
            .invoke_async(&mut self.connection.clone())
            .await?;
        Ok(decision(wait))
    }
}
