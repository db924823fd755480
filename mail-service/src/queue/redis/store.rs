//! [`RedisQueue`]: the queue contract over one multiplexed connection, a typed call around each
//! script and command.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use passreset_redis::{RedisConnection, RedisSettings};
use redis::streams::StreamRangeReply;

use super::{
    consumer::RedisConsumer,
    keys::{GROUP, Keys, RECORD_LIFETIME},
    replicated::Replicated,
    scripts::{ENQUEUE, RELEASE, REVIVE, SETTLE},
};
use crate::{
    StartupError,
    consumer_group::{GroupStart, create_group},
    mail::MessageId,
    queue::{
        STATUS_RETENTION,
        store::{
            Consumer, DeadLetter, Delivery, MailState, MailStatus, NewMail, QueueError, QueueStore,
            Revival, entry_millis, retry_copy, unix_millis,
        },
    },
};

/// How many due retries one call moves back into the queue.
const RELEASE_BATCH: usize = 100;
/// The longest a call on the request path (`Enqueue`, `GetStatus`) waits for Redis. A Redis
/// that is down fails at once, but one that hangs (frozen, or cut off without a reset) would
/// hold the caller for the whole reply timeout; this answers UNAVAILABLE well within the
/// gateway's deadline, which it turns into 503 with `Retry-After` rather than 504.
const REQUEST_DEADLINE: Duration = Duration::from_secs(2);

/// `call`, or [`QueueError::Timeout`] once [`REQUEST_DEADLINE`] has passed. A script cut short
/// this way may still run when Redis wakes up; the caller's retry with the same idempotency
/// key then gets the same mail, not a second one.
async fn within_deadline<T>(
    call: impl Future<Output = Result<T, QueueError>>,
) -> Result<T, QueueError> {
    tokio::time::timeout(REQUEST_DEADLINE, call)
        .await
        .map_err(|_| QueueError::Timeout(REQUEST_DEADLINE))?
}

/// A record's `state`, `attempts`, `next_attempt_at`, `last_error` and `updated_at`.
type StatusFields = (
    Option<String>,
    Option<u32>,
    Option<u64>,
    Option<String>,
    Option<u64>,
);

/// The queue on Redis, over one multiplexed connection (consumers open their own, because a
/// blocking read would hold up every other command on a shared one).
#[derive(Clone)]
pub(crate) struct RedisQueue {
    redis: RedisSettings,
    pub(super) connection: RedisConnection,
    /// On a cluster, where enqueues go and wait for a replica.
    replicated: Option<Arc<Replicated>>,
    pub(super) keys: Keys,
}

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("prefix", &self.keys.prefix())
            .finish_non_exhaustive()
    }
}

impl RedisQueue {
    pub(crate) async fn connect(
        redis: &RedisSettings,
        key_prefix: &str,
    ) -> Result<Self, StartupError> {
        let connection = passreset_redis::connect(redis, passreset_redis::RESPONSE_TIMEOUT).await?;
        let replicated = if connection.is_cluster() {
            Some(Arc::new(Replicated::connect(redis).await?))
        } else {
            None
        };
        let queue = Self {
            redis: redis.clone(),
            connection,
            replicated,
            keys: Keys::new(key_prefix),
        };
        queue
            .create_group()
            .await
            .map_err(|reason| StartupError::Group(reason.to_string()))?;
        Ok(queue)
    }

    /// Creates the stream and its consumer group if they are missing (first start, or a Redis
    /// that lost its data). Reads from the start, so mail queued before is not skipped.
    pub(super) async fn create_group(&self) -> Result<(), QueueError> {
        create_group(
            &mut self.connection.clone(),
            &self.keys.queue(),
            GROUP,
            GroupStart::FirstEntry,
        )
        .await?;
        Ok(())
    }

    async fn settle(
        &self,
        delivery: &Delivery,
        outcome: &str,
        due_ms: u64,
        error: &str,
        dead_max: u64,
    ) -> Result<(), QueueError> {
        let id = &delivery.mail.id;
        SETTLE
            .key(self.keys.queue())
            .key(self.keys.record(id))
            .key(self.keys.retry())
            .key(self.keys.dead())
            .arg(&delivery.entry_id)
            .arg(outcome)
            .arg(unix_millis())
            .arg(id.as_str())
            .arg(due_ms)
            .arg(error)
            .arg(STATUS_RETENTION.as_secs())
            .arg(delivery.mail.content.kind())
            .arg(RECORD_LIFETIME.as_secs())
            .arg(if outcome == "dead" {
                retry_copy(&delivery.mail).unwrap_or_default()
            } else {
                String::new()
            })
            .arg(dead_max)
            .invoke_async::<i64>(&mut self.connection.clone())
            .await?;
        Ok(())
    }

    fn enqueue_connection(&self) -> RedisConnection {
        self.replicated.as_ref().map_or_else(
            || self.connection.clone(),
            |replicated| replicated.connection.clone(),
        )
    }

    /// The enqueue script (and on a cluster the wait for a replica), without the deadline.
    async fn write_mail(&self, new: NewMail) -> Result<MessageId, QueueError> {
        let id = new.mail.id.clone();
        // A suppressed mail's recipient does not even travel to Redis.
        let payload = if new.suppressed {
            String::new()
        } else {
            serde_json::to_string(&new.mail)
                .map_err(|error| QueueError::Corrupt(format!("unserialisable mail: {error}")))?
        };
        let first: String = ENQUEUE
            .key(self.keys.idempotency(new.idempotency_key.as_deref()))
            .key(self.keys.record(&id))
            .key(self.keys.queue())
            .key(self.keys.retry())
            .arg(id.as_str())
            .arg(payload)
            .arg(unix_millis())
            .arg(u8::from(new.idempotency_key.is_some()))
            .arg(STATUS_RETENTION.as_secs())
            .arg(u8::from(new.suppressed))
            .arg(RECORD_LIFETIME.as_secs())
            .arg(new.max_depth)
            .invoke_async(&mut self.enqueue_connection())
            .await?;
        if first == "!full" {
            return Err(QueueError::Full);
        }
        // A suppressed or repeated mail waits too: its answer must take as long as a new one's.
        if let Some(replicated) = &self.replicated {
            replicated.wait(&self.keys.queue()).await?;
        }
        MessageId::parse(&first)
            .ok_or_else(|| QueueError::Corrupt("idempotency key holds no message id".to_owned()))
    }

    /// The status of `id`, without the deadline.
    async fn read_status(&self, id: &MessageId) -> Result<Option<MailStatus>, QueueError> {
        let (state, attempts, next, error, updated): StatusFields = redis::cmd("HMGET")
            .arg(self.keys.record(id))
            .arg(&[
                "state",
                "attempts",
                "next_attempt_at",
                "last_error",
                "updated_at",
            ])
            .query_async(&mut self.connection.clone())
            .await?;
        let Some(state) = state else {
            return Ok(None);
        };
        let state = MailState::parse(&state)
            .ok_or_else(|| QueueError::Corrupt(format!("unknown mail state {state:?}")))?;
        Ok(Some(MailStatus {
            state,
            attempts: attempts.unwrap_or_default(),
            next_attempt_at_ms: next,
            last_error: error.unwrap_or_default(),
            updated_at_ms: updated.unwrap_or_default(),
        }))
    }
}

#[async_trait]
impl QueueStore for RedisQueue {
    async fn enqueue(&self, new: NewMail) -> Result<MessageId, QueueError> {
        within_deadline(self.write_mail(new)).await
    }

    async fn consumer(
        &self,
        name: &str,
        claim_idle: Duration,
    ) -> Result<Box<dyn Consumer>, QueueError> {
        let consumer = RedisConsumer::open(self.clone(), &self.redis, name, claim_idle).await?;
        Ok(Box::new(consumer))
    }

    async fn release_due_retries(&self) -> Result<usize, QueueError> {
        let released: usize = RELEASE
            .key(self.keys.retry())
            .key(self.keys.queue())
            .arg(unix_millis())
            .arg(RELEASE_BATCH)
            .invoke_async(&mut self.connection.clone())
            .await?;
        Ok(released)
    }

    async fn delivered(&self, delivery: &Delivery) -> Result<(), QueueError> {
        self.settle(delivery, "sent", 0, "", 0).await
    }

    async fn retry_at(
        &self,
        delivery: &Delivery,
        due_ms: u64,
        error: &str,
    ) -> Result<(), QueueError> {
        self.settle(delivery, "retry", due_ms, error, 0).await
    }

    async fn dead(&self, delivery: &Delivery, reason: &str, keep: u64) -> Result<(), QueueError> {
        self.settle(delivery, "dead", 0, reason, keep).await
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, QueueError> {
        self.newest_dead_letters(limit).await
    }

    async fn revive(&self, id: &MessageId) -> Result<Revival, QueueError> {
        let Some(entry) = self.find_dead_letter(id).await? else {
            return Ok(Revival::Unknown);
        };
        let Some(payload) = entry.get::<String>("payload") else {
            return Ok(Revival::NotRetryable);
        };
        REVIVE
            .key(self.keys.record(id))
            .key(self.keys.queue())
            .key(self.keys.dead())
            .arg(&entry.id)
            .arg(id.as_str())
            .arg(payload)
            .arg(unix_millis())
            .arg(RECORD_LIFETIME.as_secs())
            .invoke_async::<i64>(&mut self.connection.clone())
            .await?;
        Ok(Revival::Requeued)
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        let (queued, retrying): (u64, u64) = redis::pipe()
            .cmd("XLEN")
            .arg(self.keys.queue())
            .cmd("ZCARD")
            .arg(self.keys.retry())
            .query_async(&mut self.connection.clone())
            .await?;
        Ok(queued + retrying)
    }

    async fn oldest_queued_at(&self) -> Result<Option<u64>, QueueError> {
        // The stream holds mail waiting or being sent, oldest first.
        let oldest: StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.keys.queue())
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut self.connection.clone())
            .await?;
        Ok(oldest.ids.first().and_then(|entry| entry_millis(&entry.id)))
    }

    async fn answers(&self) -> bool {
        passreset_redis::answers(&self.connection).await
    }

    async fn status(&self, id: &MessageId) -> Result<Option<MailStatus>, QueueError> {
        within_deadline(self.read_status(id)).await
    }
}
