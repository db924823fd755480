//! The durable mail queue: what `Enqueue` writes and what the workers consume.
//!
//! - `store.rs`: the contract every queue keeps ([`QueueStore`], [`Consumer`]) and its types;
//! - `redis/`: the production queue on Redis Streams with a consumer group, its scripts in `.lua`;
//! - `memory/`: the same contract in process memory, for `stack` without Redis;
//! - `contract_tests/`: the tests both must pass (on one Redis, a Redis Cluster and memory).
//!
//! A mail's life: `enqueue` (queued) -> a consumer takes it (sending) -> delivered (sent, its
//! content deleted) | retry later (retrying, back in the queue when due) | dead (dead-letter
//! stream, its content deleted). A consumer that dies holding a mail loses nothing: once the
//! mail has been idle for the claim time another consumer takes it over.

#[cfg(test)]
mod contract_tests;
pub(crate) mod memory;
pub(crate) mod redis;
mod store;

use std::{sync::Arc, time::Duration};

pub(crate) use self::store::{Consumer, NewMail, QueueStore, unix_millis};
pub use self::store::{DeadLetter, Delivery, MailState, MailStatus, QueueError, Revival};
use self::{memory::MemoryQueue, redis::RedisQueue};
use crate::{StartupError, mail::MessageId};

/// How long a delivered or dead mail's status stays queryable, and an idempotency key binding.
pub(crate) const STATUS_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// How far ahead of this clock a suppressed id's time may be (another replica's clock).
const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// The status of a mail suppressed at `at_ms`, from its id alone (nothing is stored for it):
/// SUPPRESSED for as long as a settled mail's status is kept, then forgotten like one.
pub(crate) fn suppressed_status(at_ms: u64, now_ms: u64) -> Option<MailStatus> {
    let millis = |duration: Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    let known = at_ms <= now_ms.saturating_add(millis(CLOCK_SKEW))
        && now_ms < at_ms.saturating_add(millis(STATUS_RETENTION));
    known.then_some(MailStatus {
        state: MailState::Suppressed,
        attempts: 0,
        next_attempt_at_ms: None,
        last_error: String::new(),
        updated_at_ms: at_ms,
    })
}

/// The queue the service runs on: Redis (production, tests) or memory (`stack` fallback).
#[derive(Clone, Debug)]
pub struct Queue(Arc<dyn QueueStore>);

impl Queue {
    /// Connects to the Redis of `redis`, checks that it answers and creates the consumer group
    /// if needed. Every key starts with `key_prefix`.
    pub async fn connect_redis(
        redis: &passreset_redis::RedisSettings,
        key_prefix: &str,
    ) -> Result<Queue, StartupError> {
        Ok(Queue(Arc::new(
            RedisQueue::connect(redis, key_prefix).await?,
        )))
    }

    /// An empty queue in process memory. For the `stack` binary's last resort only: queued
    /// mail is lost when the process exits.
    pub fn in_memory() -> Queue {
        Queue(Arc::new(MemoryQueue::default()))
    }

    pub(crate) fn store(&self) -> &Arc<dyn QueueStore> {
        &self.0
    }

    /// The newest `limit` entries of the dead-letter stream, oldest of them first (so the
    /// newest is last, where a terminal shows it).
    pub async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, QueueError> {
        self.0.dead_letters(limit).await
    }

    /// Puts the dead mail `id` back into the queue, if it can be sent again.
    pub async fn revive(&self, id: &str) -> Result<Revival, QueueError> {
        match MessageId::parse(id) {
            Some(id) => self.0.revive(&id).await,
            None => Ok(Revival::Unknown),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suppressed_mail_is_known_for_the_status_retention_and_then_forgotten() {
        let at = 1_795_442_700_000;
        let day = u64::try_from(STATUS_RETENTION.as_millis()).unwrap();
        let status = suppressed_status(at, at + 1000).unwrap();
        assert_eq!(
            (status.state, status.updated_at_ms),
            (MailState::Suppressed, at)
        );
        assert!(suppressed_status(at, at + day - 1).is_some());
        assert!(suppressed_status(at, at + day).is_none());
        assert!(
            suppressed_status(at + 10 * 60_000, at).is_none(),
            "from the future"
        );
    }
}
