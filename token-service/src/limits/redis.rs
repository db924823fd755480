//! Limits in Redis: `{prefix}limit:<name>:{<sha256 of the subject>}` holds the subject's
//! theoretical arrival time (ms) and expires (`PX`) once that time has passed, so an idle
//! subject leaves nothing behind. Each decision is one script on one key: atomic across every
//! replica and fine on Redis Cluster, where the digest as hash tag spreads a limit's subjects
//! over all slots instead of piling them onto one node.

use std::sync::LazyLock;

use async_trait::async_trait;
use redis::{Script, aio::ConnectionManager};

use super::{
    Rate,
    store::{Decision, LimitName, LimitStore, Mode, Subject, decision},
};
use crate::{Error, clock::UnixMillis};

/// GCRA. KEYS[1] = the subject's key; ARGV = now, interval, tolerance (ms), `1` to take or
/// `0` to peek. Returns the ms until one more event is allowed (0: allowed now, and taken).
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
  redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', next_tat - now)
end
return 0
",
    )
});

/// Limits in Redis, over the service's one multiplexed connection.
#[derive(Clone)]
pub(crate) struct RedisLimitStore {
    connection: ConnectionManager,
    /// The service's key prefix (`passreset:`, or a test's own).
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

    fn key(&self, limit: LimitName, subject: &Subject) -> String {
        format!(
            "{}limit:{}:{{{}}}",
            self.prefix,
            limit.as_str(),
            subject.as_str()
        )
    }
}

#[async_trait]
impl LimitStore for RedisLimitStore {
    async fn acquire(
        &self,
        limit: LimitName,
        subject: &Subject,
        rate: Rate,
        now: UnixMillis,
        mode: Mode,
    ) -> Result<Decision, Error> {
        let gcra = rate.gcra();
        let wait: i64 = ACQUIRE
            .key(self.key(limit, subject))
            .arg(now.0)
            .arg(gcra.interval)
            .arg(gcra.tolerance)
            .arg(u8::from(mode == Mode::Take))
            .invoke_async(&mut self.connection.clone())
            .await?;
        Ok(decision(wait))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use redis::AsyncCommands as _;

    use super::*;

    #[tokio::test]
    async fn a_key_names_the_limit_and_a_digest_and_expires_when_idle() {
        let redis = passreset_testkit::test_redis().await;
        let store = RedisLimitStore::new(redis.connection().await, &redis.prefix);
        let rate = Rate {
            count: 5,
            period: Duration::from_secs(3600),
        };
        let subject = Subject::of("203.0.113.9");
        let now = UnixMillis::now();
        store
            .acquire(LimitName::PerIp, &subject, rate, now, Mode::Take)
            .await
            .unwrap();

        let key = format!("{}limit:per_ip:{{{}}}", redis.prefix, subject.as_str());
        assert_eq!(redis.keys().await, [key.as_str()]);
        assert!(!redis.dump().await.contains("203.0.113.9"));
        let mut connection = redis.connection().await;
        let stored: i64 = connection.get(&key).await.unwrap();
        assert_eq!(stored, now.0 + 720_000);
        let ttl_ms: i64 = connection.pttl(&key).await.unwrap();
        assert!(0 < ttl_ms && ttl_ms <= 720_000, "{ttl_ms}");
    }

    #[tokio::test]
    async fn a_peek_writes_nothing() {
        let redis = passreset_testkit::test_redis().await;
        let store = RedisLimitStore::new(redis.connection().await, &redis.prefix);
        let rate = Rate {
            count: 1,
            period: Duration::from_secs(60),
        };
        store
            .acquire(
                LimitName::FailuresPerIp,
                &Subject::of("198.51.100.1"),
                rate,
                UnixMillis::now(),
                Mode::Peek,
            )
            .await
            .unwrap();
        assert!(redis.keys().await.is_empty());
    }
}
