//! The queue on Redis: the keys, the Lua scripts and the typed calls around them. Every key
//! starts with `<base>` = `{prefix}{{prefix}mail}`:
//!
//! - `<base>:queue`: the stream of mails to send (entries hold only the message id), read by
//!   the consumer group `dispatchers`; delivered entries are acked and deleted;
//! - `<base>:msg:<id>`: a hash per mail: `payload` (the mail, deleted once sent or dead),
//!   `state`, `attempts`, `next_attempt_at`, `last_error`, `updated_at`;
//! - `<base>:retry`: a sorted set of ids waiting for their next try, scored by due time;
//! - `<base>:dead`: the dead-letter stream (id, kind, reason as SMTP codes only, time; no
//!   content), about `MAIL_DEAD_MAX` entries at most, read a page at a time;
//! - `<base>:idem:<sha256>`: an idempotency key's first message id, for 24h.
//!
//! Every key carries the `{<prefix>mail}` hash tag, so the scripts work unchanged on Redis
//! Cluster (the contract tests run there too); the price is that the whole queue is one slot,
//! served by one master (see the README).

use std::{
    sync::{Arc, LazyLock},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use passreset_redis::{RedisConnection, RedisSettings};
use redis::{
    Script,
    streams::{StreamAutoClaimReply, StreamId, StreamRangeReply, StreamReadReply},
};
use sha2::{Digest as _, Sha256};

use super::{
    STATUS_RETENTION,
    store::{
        Consumer, DeadLetter, Delivery, NewMail, QueueError, QueueStore, Revival, State, Status,
        entry_millis, unix_millis,
    },
};
use crate::{
    StartupError,
    mail::{MessageId, QueuedMail},
};

/// The consumer group every worker of every replica reads in.
const GROUP: &str = "dispatchers";
/// How long a queued mail's record lives at most (refreshed at each step): far beyond any retry
/// schedule, so only a record abandoned by a lost Redis write is ever forgotten this way.
const RECORD_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// How often a consumer looks for mail abandoned by a dead consumer.
const CLAIM_SCAN_INTERVAL: Duration = Duration::from_secs(1);
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

/// Queues a mail, unless its idempotency key was seen; refuses with `!full` when the queue and
/// the retries already hold the maximum. A suppressed mail writes nothing, so made-up
/// addresses cannot fill Redis, yet costs the same one round trip (and fails the same way
/// while Redis is down) as a queued one: the caller cannot tell them apart.
/// KEYS = idempotency key, record, queue, retry set; ARGV = id, payload, now, has key, key ttl
/// (s), suppressed, record ttl (s), max depth (0: none).
static ENQUEUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if ARGV[4] == '1' then
  local first = redis.call('GET', KEYS[1])
  if first then return first end
end
if ARGV[6] == '1' then return ARGV[1] end
local max_depth = tonumber(ARGV[8])
if max_depth > 0 and
   redis.call('XLEN', KEYS[3]) + redis.call('ZCARD', KEYS[4]) >= max_depth then
  return '!full'
end
if ARGV[4] == '1' then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[5])
end
redis.call('HSET', KEYS[2], 'state', 'queued', 'attempts', 0, 'payload', ARGV[2],
           'updated_at', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[7])
redis.call('XADD', KEYS[3], '*', 'id', ARGV[1])
return ARGV[1]
",
    )
});

/// Marks a handed-over mail as sending and returns its payload and attempt number, or nil
/// when the record is gone or already settled (the entry is then acked and dropped).
/// KEYS = queue, record; ARGV = entry id, now, record ttl (s).
static START: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local payload = redis.call('HGET', KEYS[2], 'payload')
if not payload then
  redis.call('XACK', KEYS[1], 'dispatchers', ARGV[1])
  redis.call('XDEL', KEYS[1], ARGV[1])
  return false
end
local attempt = redis.call('HINCRBY', KEYS[2], 'attempts', 1)
redis.call('HSET', KEYS[2], 'state', 'sending', 'updated_at', ARGV[2])
redis.call('HDEL', KEYS[2], 'next_attempt_at')
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {payload, attempt}
",
    )
});

/// Settles a handed-over mail: acks and deletes its entry and records the outcome.
/// KEYS = queue, record, retry set, dead stream; ARGV = entry id, outcome (sent | retry |
/// dead), now, id, due (retry), error, status retention (s), kind, record ttl (s), the
/// link-free copy a dead mail keeps for a retry ('' for none), the dead stream's cap (about).
static SETTLE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('XACK', KEYS[1], 'dispatchers', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
local outcome = ARGV[2]
if outcome == 'sent' then
  redis.call('HSET', KEYS[2], 'state', 'sent', 'updated_at', ARGV[3])
  redis.call('HDEL', KEYS[2], 'payload', 'next_attempt_at')
  redis.call('EXPIRE', KEYS[2], ARGV[7])
elseif outcome == 'retry' then
  redis.call('HSET', KEYS[2], 'state', 'retrying', 'updated_at', ARGV[3],
             'next_attempt_at', ARGV[5], 'last_error', ARGV[6])
  redis.call('EXPIRE', KEYS[2], ARGV[9])
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[4])
else
  redis.call('HSET', KEYS[2], 'state', 'dead', 'updated_at', ARGV[3], 'last_error', ARGV[6])
  redis.call('HDEL', KEYS[2], 'payload', 'next_attempt_at')
  redis.call('EXPIRE', KEYS[2], ARGV[7])
  if ARGV[10] ~= '' then
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[11], '*', 'id', ARGV[4], 'kind', ARGV[8],
               'reason', ARGV[6], 'failed_at', ARGV[3], 'payload', ARGV[10])
  else
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[11], '*', 'id', ARGV[4], 'kind', ARGV[8],
               'reason', ARGV[6], 'failed_at', ARGV[3])
  end
end
return 1
",
    )
});

/// Puts a dead mail back into the queue under its id and drops its dead-letter entry.
/// KEYS = record, queue, dead stream; ARGV = dead entry id, message id, payload, now, record
/// ttl (s).
static REVIVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('HSET', KEYS[1], 'state', 'queued', 'attempts', 0, 'payload', ARGV[3],
           'updated_at', ARGV[4])
redis.call('HDEL', KEYS[1], 'last_error', 'next_attempt_at')
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('XADD', KEYS[2], '*', 'id', ARGV[2])
redis.call('XDEL', KEYS[3], ARGV[1])
return 1
",
    )
});

/// Moves retries that are due back into the queue; returns how many.
/// KEYS = retry set, queue; ARGV = now, batch size.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'id', id)
end
return #due
",
    )
});

/// How many dead-letter entries one read takes: the stream is never read whole.
const DEAD_PAGE: usize = 100;

/// A dead-letter entry as an operator sees it, if it has the shape we write.
fn dead_letter(entry: &StreamId) -> Option<DeadLetter> {
    Some(DeadLetter {
        id: MessageId::parse(&entry.get::<String>("id")?)?,
        kind: entry.get("kind").unwrap_or_default(),
        reason: entry.get("reason").unwrap_or_default(),
        failed_at_ms: entry.get("failed_at").unwrap_or_default(),
        retryable: entry.map.contains_key("payload"),
    })
}

/// A record's `state`, `attempts`, `next_attempt_at`, `last_error` and `updated_at`.
type StatusFields = (
    Option<String>,
    Option<u32>,
    Option<u64>,
    Option<String>,
    Option<u64>,
);

/// The key names, from the prefix: every key starts with it (ACL key patterns, dumps) and
/// carries the hash tag `{<prefix>mail}`, so two deployments sharing a cluster keep their
/// queues in different slots.
#[derive(Debug, Clone)]
struct Keys {
    prefix: String,
    /// `<prefix>{<prefix>mail}`, what every key name starts with.
    base: String,
}

impl Keys {
    fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            base: format!("{prefix}{{{prefix}mail}}"),
        }
    }

    fn queue(&self) -> String {
        format!("{}:queue", self.base)
    }

    fn record(&self, id: &MessageId) -> String {
        format!("{}:msg:{id}", self.base)
    }

    fn retry(&self) -> String {
        format!("{}:retry", self.base)
    }

    fn dead(&self) -> String {
        format!("{}:dead", self.base)
    }

    /// The caller's key is hashed: it may be long, or hold anything.
    fn idempotency(&self, key: Option<&str>) -> String {
        let digest = key.map_or_else(String::new, |key| hex::encode(Sha256::digest(key)));
        format!("{}:idem:{digest}", self.base)
    }
}

/// How long an enqueue on a cluster waits for a replica to hold the mail.
const REPLICA_WAIT: Duration = Duration::from_millis(250);
/// After a wait that no replica answered, how long enqueues are acknowledged by the master
/// alone before waiting again: a master without a live replica (one just killed, or a cluster
/// built without replicas) costs one wait per period, not one per mail.
const UNREPLICATED_PERIOD: Duration = Duration::from_secs(10);

/// Enqueues on a Redis Cluster: over a connection of their own, each followed by `WAIT 1`, so
/// a mail is acknowledged once a replica holds it too and outlives its master (replication is
/// asynchronous: a write only the master had dies with it). `WAIT` holds up its connection,
/// so it gets one no other command shares.
struct Replicated {
    connection: RedisConnection,
    /// Until when enqueues skip the wait, after one that no replica answered.
    unreplicated_until: std::sync::Mutex<Option<Instant>>,
}

impl Replicated {
    /// Waits until a replica holds every write of this connection, unless the master was
    /// lately found without one. A mail no replica acknowledged in time is still accepted: it
    /// is on the master, as on a single Redis; refusing it would turn a lost replica into an
    /// outage.
    async fn wait(&self, key: &str) -> Result<(), QueueError> {
        let now = Instant::now();
        if self.unreplicated().is_some_and(|until| now < until) {
            return Ok(());
        }
        let replicas = self
            .connection
            .clone()
            .wait_for_replicas(key, 1, REPLICA_WAIT)
            .await?;
        if replicas == 0 {
            tracing::warn!(
                wait_ms = REPLICA_WAIT.as_millis(),
                unreplicated_for_s = UNREPLICATED_PERIOD.as_secs(),
                "no replica of the mail queue's master acknowledged a mail: mails are accepted \
                 on the master alone for a while"
            );
            *self.unreplicated_lock() = Some(now + UNREPLICATED_PERIOD);
        }
        Ok(())
    }

    fn unreplicated(&self) -> Option<Instant> {
        *self.unreplicated_lock()
    }

    fn unreplicated_lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // A plain value: a panic elsewhere while holding it leaves nothing half-written.
        self.unreplicated_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The queue on Redis, over one multiplexed connection (consumers open their own, because a
/// blocking read would hold up every other command on a shared one).
#[derive(Clone)]
pub(crate) struct RedisQueue {
    redis: RedisSettings,
    connection: RedisConnection,
    /// On a cluster, where enqueues go and wait for a replica.
    replicated: Option<Arc<Replicated>>,
    keys: Keys,
}

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("prefix", &self.keys.prefix)
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
            let connection =
                passreset_redis::connect(redis, passreset_redis::RESPONSE_TIMEOUT + REPLICA_WAIT)
                    .await?;
            Some(Arc::new(Replicated {
                connection,
                unreplicated_until: std::sync::Mutex::default(),
            }))
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
    async fn create_group(&self) -> Result<(), QueueError> {
        let created = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.keys.queue())
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async::<()>(&mut self.connection.clone())
            .await;
        match created {
            Err(error) if error.code() == Some("BUSYGROUP") => Ok(()),
            other => Ok(other?),
        }
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
                super::store::retry_copy(&delivery.mail).unwrap_or_default()
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

    /// Up to `count` dead-letter entries, newest first, older than the entry `before` (from
    /// the newest when `None`), with the id of the last one: the cursor of the next page.
    /// `None` once there are no more.
    async fn dead_page(
        &self,
        before: Option<&str>,
        count: usize,
    ) -> Result<Option<(StreamRangeReply, String)>, QueueError> {
        let end = before.map_or_else(|| "+".to_owned(), |id| format!("({id}"));
        let page: StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(self.keys.dead())
            .arg(end)
            .arg("-")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut self.connection.clone())
            .await?;
        let last = page.ids.last().map(|entry| entry.id.clone());
        Ok(last.map(|last| (page, last)))
    }

    /// The status of `id`, without the deadline.
    async fn read_status(&self, id: &MessageId) -> Result<Option<Status>, QueueError> {
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
        let state = State::parse(&state)
            .ok_or_else(|| QueueError::Corrupt(format!("unknown mail state {state:?}")))?;
        Ok(Some(Status {
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
        // Its own connection, whose reply deadline allows for the blocking read.
        let connection =
            passreset_redis::connect(&self.redis, passreset_redis::RESPONSE_TIMEOUT + MAX_BLOCK)
                .await?;
        Ok(Box::new(RedisConsumer {
            queue: self.clone(),
            connection,
            name: name.to_owned(),
            claim_idle,
            claim_cursor: "0-0".to_owned(),
            last_claim_scan: None,
        }))
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
        // The newest `limit`, read backwards a page at a time and then put oldest first.
        let mut letters = Vec::new();
        let mut before = None;
        while letters.len() < limit {
            let count = DEAD_PAGE.min(limit - letters.len());
            let Some((page, last)) = self.dead_page(before.as_deref(), count).await? else {
                break;
            };
            letters.extend(page.ids.iter().filter_map(dead_letter));
            before = Some(last);
        }
        letters.reverse();
        Ok(letters)
    }

    async fn revive(&self, id: &MessageId) -> Result<Revival, QueueError> {
        // Newest first: a mail is usually retried soon after it died.
        let mut before = None;
        let entry = loop {
            let Some((page, last)) = self.dead_page(before.as_deref(), DEAD_PAGE).await? else {
                return Ok(Revival::Unknown);
            };
            let found = page
                .ids
                .into_iter()
                .find(|entry| entry.get::<String>("id").as_deref() == Some(id.as_str()));
            match found {
                Some(entry) => break entry,
                None => before = Some(last),
            }
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

    async fn status(&self, id: &MessageId) -> Result<Option<Status>, QueueError> {
        within_deadline(self.read_status(id)).await
    }
}

/// The longest a consumer blocks in one read.
const MAX_BLOCK: Duration = Duration::from_secs(5);

/// One worker's consumer in the group, on its own connection.
struct RedisConsumer {
    queue: RedisQueue,
    connection: RedisConnection,
    name: String,
    claim_idle: Duration,
    /// Where the next scan for abandoned mail resumes.
    claim_cursor: String,
    last_claim_scan: Option<Instant>,
}

impl std::fmt::Debug for RedisConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConsumer")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl RedisConsumer {
    /// One mail held by a consumer for longer than the claim time, if any.
    async fn claim_abandoned(&mut self) -> Result<Option<StreamId>, QueueError> {
        let scan_due = self
            .last_claim_scan
            .is_none_or(|last| last.elapsed() >= CLAIM_SCAN_INTERVAL);
        if !scan_due {
            return Ok(None);
        }
        let claimed = redis::cmd("XAUTOCLAIM")
            .arg(self.queue.keys.queue())
            .arg(GROUP)
            .arg(&self.name)
            .arg(u64::try_from(self.claim_idle.as_millis()).unwrap_or(u64::MAX))
            .arg(&self.claim_cursor)
            .arg("COUNT")
            .arg(1)
            .query_async::<StreamAutoClaimReply>(&mut self.connection)
            .await;
        let reply = match claimed {
            Ok(reply) => reply,
            Err(error) if error.code() == Some("NOGROUP") => {
                self.queue.create_group().await?;
                self.claim_cursor = "0-0".to_owned();
                return Ok(None);
            }
            Err(error) => return Err(error.into()),
        };
        self.claim_cursor = reply.next_stream_id;
        if self.claim_cursor == "0-0" {
            // A full pass is done; wait before the next one.
            self.last_claim_scan = Some(Instant::now());
        }
        Ok(reply.claimed.into_iter().next())
    }

    /// The next new mail, blocking up to `wait`.
    async fn read_new(&mut self, wait: Duration) -> Result<Option<StreamId>, QueueError> {
        let block_ms = u64::try_from(wait.min(MAX_BLOCK).as_millis())
            .unwrap_or(1)
            .max(1);
        let read = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(GROUP)
            .arg(&self.name)
            .arg("COUNT")
            .arg(1)
            .arg("BLOCK")
            .arg(block_ms)
            .arg("STREAMS")
            .arg(self.queue.keys.queue())
            .arg(">")
            .query_async::<Option<StreamReadReply>>(&mut self.connection)
            .await;
        let reply = match read {
            Ok(reply) => reply,
            // Redis lost its data (a restart without persistence): recreate the group.
            Err(error) if error.code() == Some("NOGROUP") => {
                self.queue.create_group().await?;
                return Ok(None);
            }
            Err(error) => return Err(error.into()),
        };
        Ok(reply
            .and_then(|reply| reply.keys.into_iter().next())
            .and_then(|key| key.ids.into_iter().next()))
    }

    /// Marks the entry's mail as sending and reads it; `None` if it was already settled.
    async fn start(&mut self, entry: StreamId) -> Result<Option<Delivery>, QueueError> {
        let id = entry
            .get::<String>("id")
            .and_then(|id| MessageId::parse(&id))
            .ok_or_else(|| QueueError::Corrupt(format!("queue entry {} has no id", entry.id)))?;
        let started: Option<(String, u32)> = START
            .key(self.queue.keys.queue())
            .key(self.queue.keys.record(&id))
            .arg(&entry.id)
            .arg(unix_millis())
            .arg(RECORD_LIFETIME.as_secs())
            .invoke_async(&mut self.queue.connection.clone())
            .await?;
        let Some((payload, attempt)) = started else {
            return Ok(None);
        };
        let mail: QueuedMail = serde_json::from_str(&payload)
            .map_err(|error| QueueError::Corrupt(format!("mail {id}: {error}")))?;
        Ok(Some(Delivery {
            entry_id: entry.id,
            mail,
            attempt,
        }))
    }
}

#[async_trait]
impl Consumer for RedisConsumer {
    async fn next(&mut self, wait: Duration) -> Result<Option<Delivery>, QueueError> {
        let entry = match self.claim_abandoned().await? {
            Some(entry) => Some(entry),
            None => self.read_new(wait).await?,
        };
        match entry {
            Some(entry) => self.start(entry).await,
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::contract_tests;

    async fn queue() -> (RedisQueue, passreset_testkit::TestRedis) {
        let redis = passreset_testkit::test_redis().await;
        let queue = RedisQueue::connect(&redis.settings(), &redis.prefix)
            .await
            .unwrap();
        (queue, redis)
    }

    #[tokio::test]
    async fn a_delivered_mail_leaves_nothing_of_its_content_in_redis() {
        let (queue, redis) = queue().await;
        let mail = contract_tests::reset_mail("https://reset.example/?token=prt_leakcheck");
        queue.enqueue(contract_tests::plain(mail)).await.unwrap();
        let mut consumer = queue.consumer("w1", Duration::from_secs(30)).await.unwrap();
        let delivery = consumer
            .next(Duration::from_secs(1))
            .await
            .unwrap()
            .unwrap();
        queue.delivered(&delivery).await.unwrap();
        let dump = redis.dump().await;
        assert!(!dump.contains("prt_leakcheck"), "{dump}");
    }

    async fn cluster_queue() -> RedisQueue {
        let redis = passreset_testkit::RedisCluster::shared().await.test_redis();
        RedisQueue::connect(&redis.settings(), &redis.prefix)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn two_deployments_on_one_cluster_keep_their_queues_in_different_slots() {
        let redis = passreset_testkit::RedisCluster::shared().await.test_redis();
        let mut connection = passreset_redis::connect(&redis.settings(), Duration::from_secs(5))
            .await
            .unwrap();
        let mut slots = Vec::new();
        for prefix in ["passreset:", "passreset-staging:"] {
            let keys = Keys::new(prefix);
            assert!(keys.queue().starts_with(prefix), "{}", keys.queue());
            let slot: u16 = redis::cmd("CLUSTER")
                .arg("KEYSLOT")
                .arg(keys.queue())
                .query_async(&mut connection)
                .await
                .unwrap();
            slots.push(slot);
        }
        assert_ne!(slots[0], slots[1]);
    }

    /// The replication offsets of the master at `port` (`INFO replication`): how far it has
    /// written, and how far each replica has acknowledged. A replica acks by itself only once
    /// a second; `WAIT` asks it at once.
    async fn replication_offsets(port: u16) -> (u64, Vec<u64>) {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
        let mut master = client.get_multiplexed_async_connection().await.unwrap();
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query_async(&mut master)
            .await
            .unwrap();
        let field = |line: &str, name: &str| -> Option<u64> {
            line.split(',')
                .find_map(|pair| pair.strip_prefix(name))
                .and_then(|value| value.trim().parse().ok())
        };
        let written = info
            .lines()
            .find_map(|line| field(line, "master_repl_offset:"))
            .unwrap();
        let acked = info
            .lines()
            .filter(|line| line.starts_with("slave"))
            .filter_map(|line| field(line.split_once(':')?.1, "offset="))
            .collect();
        (written, acked)
    }

    #[tokio::test]
    async fn an_accepted_mail_is_held_by_a_replica_and_still_accepted_once_the_replica_is_gone() {
        let mut cluster =
            passreset_testkit::RedisCluster::start_with_node_timeout(Duration::from_secs(15)).await;
        let redis = cluster.test_redis();
        let queue = RedisQueue::connect(&redis.settings(), &redis.prefix)
            .await
            .unwrap();
        let master = cluster.master_of(&queue.keys.queue()).await;
        let replica = cluster.replica_of(master).await;
        let mail = contract_tests::plain(contract_tests::reset_mail("https://r/?t=1"));
        let (before, _) = replication_offsets(master).await;
        queue.enqueue(mail).await.unwrap();
        // Acknowledged only once the replica holds it (has acked past what the master had
        // written before): the master may die now.
        let (_, acked) = replication_offsets(master).await;
        assert!(
            acked.iter().any(|&acked| acked > before),
            "{before} {acked:?}"
        );

        cluster.kill(replica).await;
        // No replica answers the wait: the mail is accepted on the master alone, not refused.
        for n in 2..=3 {
            let mail = contract_tests::reset_mail(&format!("https://r/?t={n}"));
            queue.enqueue(contract_tests::plain(mail)).await.unwrap();
        }
        assert_eq!(queue.depth().await.unwrap(), 3);
    }

    #[tokio::test]
    async fn a_consumer_blocks_for_the_longest_read_on_a_cluster_without_timing_out() {
        let queue = cluster_queue().await;
        let mut consumer = queue.consumer("w1", Duration::from_secs(30)).await.unwrap();
        // The whole block time passes with nothing to read: the reply must not be cut short
        // by the connection's response timeout.
        assert!(consumer.next(MAX_BLOCK).await.unwrap().is_none());
        queue
            .enqueue(contract_tests::plain(contract_tests::reset_mail(
                "https://r/?t=1",
            )))
            .await
            .unwrap();
        assert!(consumer.next(MAX_BLOCK).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn scripts_flushed_from_every_cluster_node_are_loaded_again() {
        let queue = cluster_queue().await;
        queue
            .enqueue(contract_tests::plain(contract_tests::reset_mail(
                "https://r/?t=1",
            )))
            .await
            .unwrap();
        // SCRIPT FLUSH goes to every node: the next EVALSHA answers NOSCRIPT.
        let _: () = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut queue.connection.clone())
            .await
            .unwrap();
        let loaded: Vec<bool> = redis::cmd("SCRIPT")
            .arg("EXISTS")
            .arg(ENQUEUE.get_hash())
            .query_async(&mut queue.connection.clone())
            .await
            .unwrap();
        assert_eq!(loaded, [false]);
        queue
            .enqueue(contract_tests::plain(contract_tests::reset_mail(
                "https://r/?t=2",
            )))
            .await
            .unwrap();
        assert_eq!(queue.depth().await.unwrap(), 2);
    }
}
