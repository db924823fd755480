//! The `password_changed` notice, driven by the token service's event stream: a consumer in its
//! own group (`notices`) on `{prefix}events` turns each `password_changed` event into a queued
//! notice, then acknowledges it. The notice's idempotency key comes from the event's
//! `reset_id`, so an event read twice (a consumer that died before its ack, a redelivery) still
//! queues one mail; an event that could not be queued stays pending and is read again.
//! Only on Redis: in memory there is no stream to read.

use std::time::Duration;

use passreset_redis::{RedisConnection, RedisSettings};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use std::sync::Arc;
use tokio::sync::watch;

use crate::{
    consumer_group::{GroupStart, create_group},
    grpc::{locale, recipient},
    mail::{Content, MessageId, QueuedMail},
    metrics::MailMetrics,
    queue::{NewMail, QueueError, QueueStore},
};

/// The consumer group every mail-service replica's notice consumer joins.
const GROUP: &str = "notices";
/// Events taken per read.
const BATCH: usize = 16;
/// How long one read blocks waiting for events.
const BLOCK: Duration = Duration::from_secs(2);
/// The pause before reconnecting after Redis failed.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// What the notice consumer needs.
#[derive(Clone, Debug)]
pub(crate) struct Notices {
    /// Redis, for the consumer's own connection (its blocking reads would hold up a shared one).
    pub redis: RedisSettings,
    /// `{prefix}events`.
    pub events_key: String,
    /// Where the notices are queued.
    pub queue: Arc<dyn QueueStore>,
    /// `mail_queued_total` counts the notices too.
    pub metrics: MailMetrics,
    /// An event held this long by a consumer without an ack is taken over.
    pub claim_idle: Duration,
}

impl Notices {
    /// Reads events as `consumer` until `stop` turns true, reconnecting after Redis failures.
    pub(crate) async fn run(self, consumer: String, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            let served = async {
                let mut connection = passreset_redis::connect(
                    &self.redis,
                    BLOCK + passreset_redis::RESPONSE_TIMEOUT,
                )
                .await?;
                // Again, in case Redis lost its data since the start.
                self.create_group_on(&mut connection).await?;
                loop {
                    self.read_once(&mut connection, &consumer).await?;
                }
            };
            tokio::select! {
                outcome = served => {
                    let outcome: Result<(), QueueError> = outcome;
                    if let Err(error) = outcome {
                        tracing::warn!(%error, "the notice consumer lost redis");
                    }
                }
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            tokio::select! {
                () = tokio::time::sleep(RECONNECT_PAUSE) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
        }
    }

    /// Creates the group if missing (at start, so the first events are not missed).
    pub(crate) async fn create_group(&self) -> Result<(), QueueError> {
        let mut connection =
            passreset_redis::connect(&self.redis, passreset_redis::RESPONSE_TIMEOUT).await?;
        self.create_group_on(&mut connection).await
    }

    /// Creates the group if missing, reading only events written from now on: the notices of
    /// earlier resets were queued by whoever handled them then.
    async fn create_group_on(&self, connection: &mut RedisConnection) -> Result<(), QueueError> {
        create_group(connection, &self.events_key, GROUP, GroupStart::NewEntries).await?;
        Ok(())
    }

    /// Handles the events another consumer left unacknowledged too long, then waits for new
    /// ones and handles those.
    async fn read_once(
        &self,
        connection: &mut RedisConnection,
        consumer: &str,
    ) -> Result<(), QueueError> {
        let abandoned: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
            .arg(&self.events_key)
            .arg(GROUP)
            .arg(consumer)
            .arg(u64::try_from(self.claim_idle.as_millis()).unwrap_or(u64::MAX))
            .arg("0-0")
            .arg("COUNT")
            .arg(BATCH)
            .query_async(connection)
            .await?;
        for event in &abandoned.claimed {
            self.handle(connection, event).await?;
        }
        let fresh: Option<StreamReadReply> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(u64::try_from(BLOCK.as_millis()).unwrap_or(u64::MAX))
            .arg("STREAMS")
            .arg(&self.events_key)
            .arg(">")
            .query_async(connection)
            .await?;
        for key in fresh.map(|reply| reply.keys).unwrap_or_default() {
            for event in &key.ids {
                self.handle(connection, event).await?;
            }
        }
        Ok(())
    }

    /// Queues the notice an event asks for (if any), then acknowledges the event. A failure
    /// to queue leaves it pending, to be read again.
    async fn handle(
        &self,
        connection: &mut RedisConnection,
        event: &StreamId,
    ) -> Result<(), QueueError> {
        if let Some(notice) = notice_for(event) {
            let id = self.queue.enqueue(notice).await?;
            self.metrics.queued.inc();
            tracing::info!(message_id = id.as_str(), "password changed notice queued");
        }
        redis::cmd("XACK")
            .arg(&self.events_key)
            .arg(GROUP)
            .arg(&event.id)
            .query_async::<()>(connection)
            .await?;
        Ok(())
    }
}

/// The notice a `password_changed` event asks for; `None` for any other event, or one without
/// a usable address (logged, and skipped: it cannot become a mail).
fn notice_for(event: &StreamId) -> Option<NewMail> {
    let text = |field: &str| event.get::<String>(field).unwrap_or_default();
    if text("type") != "password_changed" {
        return None;
    }
    let (Ok(to), Ok(locale)) = (recipient(&text("email")), locale(text("locale"))) else {
        tracing::warn!(
            event_id = event.id,
            account_id = text("account_id"),
            "a password_changed event without a usable address or locale gets no notice"
        );
        return None;
    };
    let changed_at_ms: i64 = text("at").parse().unwrap_or_default();
    // One notice per reset, however often its event is read (or, from an older token
    // service without reset ids, per event).
    let reset = match text("reset_id") {
        reset if reset.is_empty() => event.id.clone(),
        reset => reset,
    };
    Some(NewMail {
        mail: QueuedMail {
            id: MessageId::new(),
            to,
            locale,
            content: Content::PasswordChanged {
                changed_at_unix: changed_at_ms.div_euclid(1000),
            },
            traceparent: String::new(),
        },
        idempotency_key: Some(format!("password_changed event {reset}")),
        suppressed: false,
        // A notice of a change already made is never refused for a full queue: events are
        // bounded by resets, and the notice must not be lost.
        max_depth: 0,
    })
}
