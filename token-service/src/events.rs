//! Account events for the platform around passreset: after a reset, a `password_changed`
//! entry on the Redis Stream `{prefix}events` (`passreset:events` by default) with the account
//! id, the time and the surface, so a session store can revoke the account's sessions. No
//! secret is ever part of an event.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use redis::aio::ConnectionManager;

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
}

/// Where events go. Every implementation keeps them in order.
#[async_trait]
pub(crate) trait EventSink: Send + Sync + std::fmt::Debug {
    async fn publish(&self, event: &AccountEvent) -> Result<(), Error>;
}

/// The Redis Stream.
#[derive(Clone)]
pub(crate) struct RedisEvents {
    connection: ConnectionManager,
    key: String,
}

impl std::fmt::Debug for RedisEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisEvents")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl RedisEvents {
    pub(crate) fn new(connection: ConnectionManager, prefix: &str) -> Self {
        Self {
            connection,
            key: format!("{prefix}events"),
        }
    }
}

#[async_trait]
impl EventSink for RedisEvents {
    async fn publish(&self, event: &AccountEvent) -> Result<(), Error> {
        redis::cmd("XADD")
            .arg(&self.key)
            .arg("MAXLEN")
            .arg("~")
            .arg(STREAM_LENGTH)
            .arg("*")
            .arg("type")
            .arg(event.kind)
            .arg("account_id")
            .arg(&event.account_id)
            .arg("at")
            .arg(event.at.0)
            .arg("surface")
            .arg(&event.surface)
            .query_async::<String>(&mut self.connection.clone())
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
        if events.len() >= STREAM_LENGTH {
            events.remove(0);
        }
        events.push(event.clone());
        Ok(())
    }
}
