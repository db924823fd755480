//! The queue contract, shared by the Redis and memory queues.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use crate::mail::{MessageId, QueuedMail};

/// What a queue operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Redis did not answer, or answered with an error.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer within this time.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    /// The queue holds its maximum; the caller should try again later.
    #[error("the mail queue is full")]
    Full,
    /// A consumer's own connection could not be opened.
    #[error(transparent)]
    Connect(#[from] passreset_redis::ConnectError),
    /// A stored record cannot be read; the text says what (never its content).
    #[error("corrupt queue record: {0}")]
    Corrupt(String),
}

/// A mail to put into the queue.
#[derive(Debug)]
pub(crate) struct NewMail {
    /// The mail.
    pub mail: QueuedMail,
    /// Repeating a key within the retention time returns the first mail's id, queueing nothing.
    pub idempotency_key: Option<String>,
    /// Suppressed by policy: store nothing (its id says it was suppressed), but answer as
    /// for any other mail, after the same one round trip to the queue.
    pub suppressed: bool,
    /// Refuse with [`QueueError::Full`] when this many mails already wait (0: no limit).
    pub max_depth: u64,
}

/// A mail handed to one consumer, which must settle it (delivered, retry later or dead).
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The queue's handle on this hand-over (a stream entry id).
    pub entry_id: String,
    /// The mail.
    pub mail: QueuedMail,
    /// Attempts including this one.
    pub attempt: u32,
}

/// Where a mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailState {
    /// Waiting for a worker.
    Queued,
    /// A worker is sending it.
    Sending,
    /// A send failed transiently; it waits for its next try.
    Retrying,
    /// Accepted by the mail server.
    Sent,
    /// Given up; on the dead-letter stream.
    Dead,
    /// Not sent, by policy.
    Suppressed,
}

impl MailState {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "queued" => Self::Queued,
            "sending" => Self::Sending,
            "retrying" => Self::Retrying,
            "sent" => Self::Sent,
            "dead" => Self::Dead,
            "suppressed" => Self::Suppressed,
            _ => return None,
        })
    }
}

/// A mail's status, without recipient or content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailStatus {
    /// Where it is.
    pub state: MailState,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// When the next attempt is due (retrying), in ms since the Unix epoch.
    pub next_attempt_at_ms: Option<u64>,
    /// The last failure, without recipient or content; empty when none.
    pub last_error: String,
    /// When the state last changed, in ms since the Unix epoch.
    pub updated_at_ms: u64,
}

/// A mail on the dead-letter stream, as an operator sees it (no recipient, no content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its id.
    pub id: MessageId,
    /// Its kind (`password_reset`, ...).
    pub kind: String,
    /// Why it died.
    pub reason: String,
    /// When, in ms since the Unix epoch.
    pub failed_at_ms: u64,
    /// Whether it can be sent again: a reset mail cannot, its link was destroyed.
    pub retryable: bool,
}

/// What became of a request to send a dead mail again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revival {
    /// Back in the queue, under its id (and so its Message-ID).
    Requeued,
    /// A reset mail: its link was destroyed when it died; the user must ask for a new one.
    NotRetryable,
    /// No dead mail has this id.
    Unknown,
}

/// The content a dead mail keeps for a retry: none for a reset mail, whose link must not
/// outlive its delivery.
pub(crate) fn retry_copy(mail: &QueuedMail) -> Option<String> {
    match mail.content {
        crate::mail::Content::PasswordReset { .. } => None,
        _ => serde_json::to_string(mail).ok(),
    }
}

/// A durable queue of mails. Every implementation passes `contract_tests/`.
#[async_trait]
pub(crate) trait QueueStore: Send + Sync + std::fmt::Debug {
    /// Stores the mail durably (if suppressed, nothing) and returns its id; for a repeated
    /// idempotency key, the first mail's id and nothing else.
    async fn enqueue(&self, new: NewMail) -> Result<MessageId, QueueError>;

    /// A consumer named `name` (unique per worker and process): it receives new mail and takes
    /// over mail that another consumer has held longer than `claim_idle`.
    async fn consumer(
        &self,
        name: &str,
        claim_idle: Duration,
    ) -> Result<Box<dyn Consumer>, QueueError>;

    /// Puts retrying mails whose time has come back into the queue; returns how many.
    async fn release_due_retries(&self) -> Result<usize, QueueError>;

    /// The mail server accepted it: it leaves the queue and its content is deleted.
    async fn delivered(&self, delivery: &Delivery) -> Result<(), QueueError>;

    /// A transient failure: try again at `due_ms` (ms since the Unix epoch).
    async fn retry_at(
        &self,
        delivery: &Delivery,
        due_ms: u64,
        error: &str,
    ) -> Result<(), QueueError>;

    /// Given up: onto the dead-letter stream with `reason`, which keeps about the newest
    /// `keep` entries; its content is deleted.
    async fn dead(&self, delivery: &Delivery, reason: &str, keep: u64) -> Result<(), QueueError>;

    /// Where the mail is, if the queue still knows it.
    async fn status(&self, id: &MessageId) -> Result<Option<MailStatus>, QueueError>;

    /// The newest `limit` entries of the dead-letter stream, oldest of them first.
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, QueueError>;

    /// Puts the dead mail `id` back into the queue, if it can be sent again.
    async fn revive(&self, id: &MessageId) -> Result<Revival, QueueError>;

    /// Mails waiting: queued or handed out and not settled, plus those waiting to retry.
    async fn depth(&self) -> Result<u64, QueueError>;

    /// When the oldest mail still in the queue (waiting or being sent, not waiting to retry)
    /// was queued, in ms since the Unix epoch: a stuck dispatcher shows as its age growing.
    async fn oldest_queued_at(&self) -> Result<Option<u64>, QueueError>;

    /// Whether the queue can be used right now: what the health check reports.
    async fn answers(&self) -> bool;
}

/// One worker's end of the queue.
#[async_trait]
pub(crate) trait Consumer: Send + std::fmt::Debug {
    /// The next mail for this consumer: one abandoned by another consumer, else a new one,
    /// waiting up to `wait` for one to arrive.
    async fn next(&mut self, wait: Duration) -> Result<Option<Delivery>, QueueError>;
    /// Records `sent` as delivered (as [`QueueStore::delivered`]), then hands over the next
    /// mail if one is waiting already (abandoned first, then new, as [`Self::next`]), without
    /// waiting for one; in one round trip where the queue can.
    async fn delivered_then_next(
        &mut self,
        sent: &Delivery,
    ) -> Result<Option<Delivery>, QueueError>;
}

/// The time part of a stream entry id (`<ms>-<sequence>`).
pub(crate) fn entry_millis(entry_id: &str) -> Option<u64> {
    entry_id.split_once('-')?.0.parse().ok()
}

/// Now, in ms since the Unix epoch.
pub(crate) fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}
