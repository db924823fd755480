//! Enqueues on a Redis Cluster wait for a replica: replication is asynchronous, so a write only
//! the master had dies with it, and an accepted mail must outlive its master.

use std::{
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use passreset_redis::{RedisConnection, RedisSettings};

use crate::{StartupError, queue::store::QueueError};

/// How long an enqueue on a cluster waits for a replica to hold the mail.
pub(super) const REPLICA_WAIT: Duration = Duration::from_millis(250);
/// After a wait that no replica answered, how long enqueues are acknowledged by the master
/// alone before waiting again: a master without a live replica (one just killed, or a cluster
/// built without replicas) costs one wait per period, not one per mail.
const UNREPLICATED_PERIOD: Duration = Duration::from_secs(10);

/// Where enqueues go on a cluster: a connection of their own, each write followed by `WAIT 1`.
/// `WAIT` holds up the connection it runs on and counts that connection's writes, so the
/// enqueue and its wait share one no other command uses.
pub(super) struct Replicated {
    pub(super) connection: RedisConnection,
    /// Until when enqueues skip the wait, after one that no replica answered.
    unreplicated_until: Mutex<Option<Instant>>,
}

impl Replicated {
    /// Opens the connection, its response timeout beyond the wait.
    pub(super) async fn connect(redis: &RedisSettings) -> Result<Self, StartupError> {
        let connection =
            passreset_redis::connect(redis, passreset_redis::RESPONSE_TIMEOUT + REPLICA_WAIT)
                .await?;
        Ok(Self {
            connection,
            unreplicated_until: Mutex::default(),
        })
    }

    /// Waits until a replica holds every write of this connection, unless the master was
    /// lately found without one. A mail no replica acknowledged in time is still accepted: it
    /// is on the master, as on a single Redis; refusing it would turn a lost replica into an
    /// outage.
    pub(super) async fn wait(&self, key: &str) -> Result<(), QueueError> {
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

    fn unreplicated_lock(&self) -> MutexGuard<'_, Option<Instant>> {
        // A plain value: a panic elsewhere while holding it leaves nothing half-written.
        self.unreplicated_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
