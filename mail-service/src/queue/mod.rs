//! The durable mail queue: what `Enqueue` writes and what the workers consume.
//!
//! - `store.rs`: the contract every queue keeps ([`QueueStore`], [`Consumer`]) and its types;
//! - `redis.rs`: the production queue on Redis Streams with a consumer group;
//! - `memory.rs`: the same contract in process memory, for `stack` without Redis;
//! - `contract_tests.rs`: the tests both must pass.
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
pub use self::store::{DeadLetter, Delivery, QueueError, Revival, State, Status};
use self::{memory::MemoryQueue, redis::RedisQueue};
use crate::{StartupError, mail::MessageId};

/// How long a delivered or dead mail's status stays queryable, and an idempotency key binding.
pub(crate) const STATUS_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// The queue the service runs on: Redis (production, tests) or memory (`stack` fallback).
#[derive(Clone, Debug)]
pub struct Queue(Arc<dyn QueueStore>);

impl Queue {
    /// Connects to Redis at `url`, checks that it answers and creates the consumer group if
    /// needed. Every key starts with `key_prefix`.
    pub async fn connect_redis(url: &str, key_prefix: &str) -> Result<Queue, StartupError> {
        Ok(Queue(Arc::new(RedisQueue::connect(url, key_prefix).await?)))
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
