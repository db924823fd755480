//! Limits in Redis: `{prefix}limit:<name>:{<sha256 of the subject>}` holds the subject's
//! theoretical arrival time (ms) and expires (`PX`) once that time has passed, so an idle
//! subject leaves nothing behind. Each decision is one script on one key: atomic across every
//! replica and fine on Redis Cluster, where the digest as hash tag spreads a limit's subjects
//! over all slots instead of piling them onto one node. The scripts read the time from Redis
//! (`TIME`), so replicas with skewed clocks still agree.

use std::sync::LazyLock;

use async_trait::async_trait;
use passreset_redis::RedisConnection;
use redis::Script;

use super::{
    Rate,
    store::{Decision, LimitName, LimitStore, Subject, decision},
};
use crate::Error;

/// GCRA's check-and-charge (`take.lua` says its KEYS and ARGV).
static TAKE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("take.lua")));
/// One unit given back (`refund.lua`).
static REFUND: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("refund.lua")));

/// Limits in Redis, over the service's one multiplexed connection.
#[derive(Clone)]
pub(crate) struct RedisLimitStore {
    connection: RedisConnection,
    /// The service's key prefix (`passreset:`, or a test's own).
    prefix: String,
    /// A test's clock in place of the server's `TIME`.
    #[cfg(test)]
    clock: Option<super::store::ManualClock>,
}

impl std::fmt::Debug for RedisLimitStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimitStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisLimitStore {
    pub(crate) fn new(connection: RedisConnection, prefix: &str) -> Self {
        Self {
            connection,
            prefix: prefix.to_owned(),
            #[cfg(test)]
            clock: None,
        }
    }

    /// A store that decides on `clock` instead of the server's time, for the contract tests.
    #[cfg(test)]
    pub(crate) fn with_clock(
        connection: RedisConnection,
        prefix: &str,
        clock: super::store::ManualClock,
    ) -> Self {
        Self {
            clock: Some(clock),
            ..Self::new(connection, prefix)
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

    /// The scripts' `now` argument: empty, so that they read Redis's `TIME`; in tests, the
    /// test's clock if it set one.
    fn now_arg(&self) -> String {
        #[cfg(test)]
        if let Some(clock) = &self.clock {
            return clock.now_ms().to_string();
        }
        String::new()
    }
}

#[async_trait]
impl LimitStore for RedisLimitStore {
    async fn take(
        &self,
        limit: LimitName,
        subject: &Subject,
        rate: Rate,
    ) -> Result<Decision, Error> {
        let gcra = rate.gcra();
        let wait: i64 = TAKE
            .key(self.key(limit, subject))
            .arg(gcra.interval)
            .arg(gcra.tolerance)
            .arg(self.now_arg())
            .invoke_async(&mut self.connection.clone())
            .await?;
        Ok(decision(wait))
    }

    async fn refund(&self, limit: LimitName, subject: &Subject, rate: Rate) -> Result<(), Error> {
        let _given_back: i64 = REFUND
            .key(self.key(limit, subject))
            .arg(rate.gcra().interval)
            .arg(self.now_arg())
            .invoke_async(&mut self.connection.clone())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use redis::AsyncCommands as _;

    use super::*;

    const FIVE_AN_HOUR: Rate = Rate {
        count: 5,
        period: Duration::from_secs(3600),
    };

    /// Redis's own clock, in Unix milliseconds.
    async fn redis_time_ms(connection: &mut RedisConnection) -> i64 {
        let (seconds, micros): (i64, i64) =
            redis::cmd("TIME").query_async(connection).await.unwrap();
        seconds * 1000 + micros / 1000
    }

    #[tokio::test]
    async fn a_key_names_the_limit_and_a_digest_and_expires_when_idle() {
        let redis = passreset_testkit::test_redis().await;
        let store = RedisLimitStore::new(redis.connection().await, &redis.prefix);
        let subject = Subject::of("203.0.113.9");
        store
            .take(LimitName::PerIp, &subject, FIVE_AN_HOUR)
            .await
            .unwrap();

        let key = format!("{}limit:per_ip:{{{}}}", redis.prefix, subject.as_str());
        assert_eq!(redis.keys().await, [key.as_str()]);
        assert!(!redis.dump().await.contains("203.0.113.9"));
        let mut connection = redis.connection().await;
        let ttl_ms: i64 = connection.pttl(&key).await.unwrap();
        assert!(0 < ttl_ms && ttl_ms <= 720_000, "{ttl_ms}");
    }

    #[tokio::test]
    async fn a_decision_is_made_on_the_redis_servers_clock() {
        let redis = passreset_testkit::test_redis().await;
        let mut connection = redis.connection().await;
        let store = RedisLimitStore::new(connection.clone(), &redis.prefix);
        let subject = Subject::of("203.0.113.9");
        let before = redis_time_ms(&mut connection).await;
        store
            .take(LimitName::PerIp, &subject, FIVE_AN_HOUR)
            .await
            .unwrap();
        let after = redis_time_ms(&mut connection).await;

        // The arrival time is Redis's TIME at the decision plus one interval: no replica's
        // clock went into it.
        let key = format!("{}limit:per_ip:{{{}}}", redis.prefix, subject.as_str());
        let stored: i64 = connection.get(&key).await.unwrap();
        assert!(
            before + 720_000 <= stored && stored <= after + 720_000,
            "{before} <= {stored} - 720000 <= {after}"
        );
    }

    #[tokio::test]
    async fn refunding_the_only_unit_taken_leaves_no_key() {
        let redis = passreset_testkit::test_redis().await;
        let store = RedisLimitStore::new(redis.connection().await, &redis.prefix);
        let subject = Subject::of("198.51.100.1");
        store
            .take(LimitName::FailuresPerIp, &subject, FIVE_AN_HOUR)
            .await
            .unwrap();
        store
            .refund(LimitName::FailuresPerIp, &subject, FIVE_AN_HOUR)
            .await
            .unwrap();
        assert!(redis.keys().await.is_empty());
    }
}
