//! [`RedisConsumer`]: one worker's reader in the consumer group, on a connection of its own.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use passreset_redis::{RedisConnection, RedisSettings};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};

use super::{
    keys::{GROUP, RECORD_LIFETIME},
    scripts::TAKE,
    store::RedisQueue,
};
use crate::{
    mail::{MessageId, QueuedMail},
    queue::{
        STATUS_RETENTION,
        store::{Consumer, Delivery, QueueError, unix_millis},
    },
};

/// How often a consumer looks for mail abandoned by a dead consumer.
const CLAIM_SCAN_INTERVAL: Duration = Duration::from_secs(1);
/// The longest a consumer blocks in one read.
pub(super) const MAX_BLOCK: Duration = Duration::from_secs(5);

/// One worker's consumer in the group, on its own connection.
pub(super) struct RedisConsumer {
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
    /// A consumer named `name` of `queue`'s group, on a new connection to `redis` whose reply
    /// deadline allows for the blocking read.
    pub(super) async fn open(
        queue: RedisQueue,
        redis: &RedisSettings,
        name: &str,
        claim_idle: Duration,
    ) -> Result<Self, QueueError> {
        let connection =
            passreset_redis::connect(redis, passreset_redis::RESPONSE_TIMEOUT + MAX_BLOCK).await?;
        Ok(Self {
            queue,
            connection,
            name: name.to_owned(),
            claim_idle,
            claim_cursor: "0-0".to_owned(),
            last_claim_scan: None,
        })
    }

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

    /// Starts the mail of `entry` (read or claimed already), or reads the next new mail and
    /// starts it, in one round trip (`take.lua`).
    async fn take(&mut self, entry: Option<&StreamId>) -> Result<Taken, QueueError> {
        self.settle_sent_and_take(None, entry).await
    }

    /// [`Self::take`], recording `sent` as delivered first in the same call.
    async fn settle_sent_and_take(
        &mut self,
        sent: Option<&Delivery>,
        entry: Option<&StreamId>,
    ) -> Result<Taken, QueueError> {
        let (entry_id, message_id) = match entry {
            Some(entry) => {
                let message_id = entry.get::<String>("id").ok_or_else(|| no_id(&entry.id))?;
                (entry.id.as_str(), message_id)
            }
            None => ("", String::new()),
        };
        let taken: Vec<String> = TAKE
            .key(self.queue.keys.queue())
            .arg(unix_millis())
            .arg(RECORD_LIFETIME.as_secs())
            .arg(self.queue.keys.record_prefix())
            .arg(&self.name)
            .arg(entry_id)
            .arg(message_id)
            .arg(sent.map_or("", |sent| sent.entry_id.as_str()))
            .arg(sent.map_or("", |sent| sent.mail.id.as_str()))
            .arg(STATUS_RETENTION.as_secs())
            .invoke_async(&mut self.queue.connection.clone())
            .await?;
        let mut taken = taken.into_iter();
        let (Some(entry_id), id, payload, attempt) =
            (taken.next(), taken.next(), taken.next(), taken.next())
        else {
            return Ok(Taken::Nothing);
        };
        let id = id
            .as_deref()
            .and_then(MessageId::parse)
            .ok_or_else(|| no_id(&entry_id))?;
        let (Some(payload), Some(attempt)) = (payload, attempt) else {
            return Ok(Taken::Dropped);
        };
        let attempt = attempt
            .parse()
            .map_err(|_| QueueError::Corrupt(format!("mail {id}: attempts {attempt:?}")))?;
        let mail: QueuedMail = serde_json::from_str(&payload)
            .map_err(|error| QueueError::Corrupt(format!("mail {id}: {error}")))?;
        Ok(Taken::Mail(Delivery {
            entry_id,
            mail,
            attempt,
        }))
    }

    /// [`Self::take`] until it hands over a mail or finds none waiting; the first call
    /// records `sent` as delivered.
    async fn take_next_waiting(
        &mut self,
        mut sent: Option<&Delivery>,
    ) -> Result<Option<Delivery>, QueueError> {
        loop {
            match self.settle_sent_and_take(sent.take(), None).await {
                Ok(Taken::Mail(delivery)) => return Ok(Some(delivery)),
                Ok(Taken::Dropped) => {}
                Ok(Taken::Nothing) => return Ok(None),
                Err(QueueError::Redis(error)) if error.code() == Some("NOGROUP") => {
                    self.queue.create_group().await?;
                    return Ok(None);
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// What [`RedisConsumer::take`] found.
enum Taken {
    /// A mail, now marked as sending.
    Mail(Delivery),
    /// An entry whose mail was settled already, or whose record is gone: acked and dropped.
    Dropped,
    /// No new entry waits.
    Nothing,
}

fn no_id(entry_id: &str) -> QueueError {
    QueueError::Corrupt(format!("queue entry {entry_id} has no id"))
}

#[async_trait]
impl Consumer for RedisConsumer {
    async fn next(&mut self, wait: Duration) -> Result<Option<Delivery>, QueueError> {
        let entry = match self.claim_abandoned().await? {
            Some(entry) => entry,
            None => {
                // Mail waiting is taken at once; only an empty queue costs the blocking read.
                if let Some(delivery) = self.take_next_waiting(None).await? {
                    return Ok(Some(delivery));
                }
                let Some(entry) = self.read_new(wait).await? else {
                    return Ok(None);
                };
                entry
            }
        };
        match self.take(Some(&entry)).await? {
            Taken::Mail(delivery) => Ok(Some(delivery)),
            Taken::Dropped | Taken::Nothing => Ok(None),
        }
    }

    async fn delivered_then_next(
        &mut self,
        sent: &Delivery,
    ) -> Result<Option<Delivery>, QueueError> {
        // Abandoned mail first, as in `next` (the scan runs at most once a second).
        match self.claim_abandoned().await? {
            Some(entry) => match self.settle_sent_and_take(Some(sent), Some(&entry)).await? {
                Taken::Mail(delivery) => Ok(Some(delivery)),
                Taken::Dropped | Taken::Nothing => Ok(None),
            },
            None => self.take_next_waiting(Some(sent)).await,
        }
    }
}
