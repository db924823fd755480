//! Account events for the platform around passreset: after a reset, a `password_changed`
//! entry on the Redis Stream `{prefix}events` (`passreset:events` by default) with the account
//! id, the time and the surface, so a session store can revoke the account's sessions, and the
//! address, locale and reset id, so the mail service can send the notice. Each reset publishes
//! its event once, however often its bookkeeping is retried. No secret is ever part of an
//! event.

use std::sync::{LazyLock, Mutex, PoisonError};

use async_trait::async_trait;
use passreset_redis::RedisConnection;
use redis::Script;

use crate::{Error, clock::UnixMillis};

/// Roughly how many events the stream keeps; consumers are expected to keep up.
const STREAM_LENGTH: usize = 100_000;

/// Something that happened to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountEvent {
    /// What happened (`password_changed`).
    pub kind: &'static str,
    /// To which account.
    pub account_id: String,
    /// When.
    pub at: UnixMillis,
    /// Through which surface (`persona`, `metal`, `grpc`).
    pub surface: String,
    /// The account's address, where the notice goes.
    pub email: String,
    /// The account's locale, for the notice.
    pub locale: String,
    /// The reset's id (its claim id): one event per reset, and the notice's idempotency key.
    pub reset_id: String,
    /// Until when a repeated publication of this reset must still be recognised.
    pub remember_until: UnixMillis,
}

/// Where events go. Every implementation keeps them in order.
#[async_trait]
pub(crate) trait EventSink: Send + Sync + std::fmt::Debug {
    /// Appends `event` unless an event with its `reset_id` was already appended.
    async fn publish(&self, event: &AccountEvent) -> Result<(), Error>;
}

/// Appends an event once per reset id.
/// KEYS[1] = the stream, KEYS[2] = the reset's marker (same hash slot as the stream);
/// ARGV[1] = when the marker may go (unix ms), ARGV[2] = the stream's rough length,
/// ARGV[3..] = the entry's field/value pairs.
static PUBLISH_ONCE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if not redis.call('SET', KEYS[2], '1', 'NX', 'PXAT', ARGV[1]) then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
return 1
",
    )
});

/// The Redis Stream.
#[derive(Clone)]
pub(crate) struct RedisEvents {
    connection: RedisConnection,
    key: String,
    /// Where a reset's "published" marker goes: `{prefix}{<stream key>}:published:`, so it
    /// carries the prefix and shares the stream's hash slot.
    marker_prefix: String,
}

impl std::fmt::Debug for RedisEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisEvents")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl RedisEvents {
    pub(crate) fn new(connection: RedisConnection, prefix: &str) -> Self {
        let key = format!("{prefix}events");
        Self {
            connection,
            marker_prefix: format!("{prefix}{{{key}}}:published:"),
            key,
        }
    }
}

#[async_trait]
impl EventSink for RedisEvents {
    async fn publish(&self, event: &AccountEvent) -> Result<(), Error> {
        let marker = format!("{}{}", self.marker_prefix, event.reset_id);
        PUBLISH_ONCE
            .key(&self.key)
            .key(marker)
            .arg(event.remember_until.0)
            .arg(STREAM_LENGTH)
            .arg("type")
            .arg(event.kind)
            .arg("account_id")
            .arg(&event.account_id)
            .arg("at")
            .arg(event.at.0)
            .arg("surface")
            .arg(&event.surface)
            .arg("email")
            .arg(&event.email)
            .arg("locale")
            .arg(&event.locale)
            .arg("reset_id")
            .arg(&event.reset_id)
            .invoke_async::<i64>(&mut self.connection.clone())
            .await?;
        Ok(())
    }
}

/// Events kept in memory (the `stack` fallback): nothing outside the process can read them,
/// but the flow behaves the same.
#[derive(Debug, Default)]
pub(crate) struct MemoryEvents {
    events: Mutex<Vec<AccountEvent>>,
}

#[async_trait]
impl EventSink for MemoryEvents {
    async fn publish(&self, event: &AccountEvent) -> Result<(), Error> {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        if events.iter().any(|known| known.reset_id == event.reset_id) {
            return Ok(());
        }
        if events.len() >= STREAM_LENGTH {
            events.remove(0);
        }
        events.push(event.clone());
        Ok(())
    }
}
