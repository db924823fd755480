//! The queue in process memory: the same contract as Redis, for `stack` when no Redis can be
//! had. Nothing survives the process, and nothing is shared between processes. Its consumers
//! are in `consumer.rs`.

mod consumer;

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use async_trait::async_trait;
use tokio::sync::Notify;

use self::consumer::MemoryConsumer;
use super::{
    STATUS_RETENTION,
    store::{
        Consumer, DeadLetter, Delivery, MailState, MailStatus, NewMail, QueueError, QueueStore,
        Revival, entry_millis, retry_copy, unix_millis,
    },
};
use crate::mail::{MessageId, QueuedMail};

/// The queue, shared by the service and its consumers.
#[derive(Debug, Default)]
pub(crate) struct MemoryQueue {
    state: Arc<Mutex<Inner>>,
    /// Wakes consumers waiting for mail.
    arrived: Arc<Notify>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Entries not yet handed to a consumer, oldest first.
    queue: VecDeque<Entry>,
    /// Entries handed to a consumer and not settled: entry id -> (entry, consumer, since).
    pending: HashMap<String, (Entry, String, u64)>,
    /// Waiting retries: (due ms, entry sequence) -> id.
    retries: BTreeMap<(u64, u64), MessageId>,
    records: HashMap<MessageId, Record>,
    /// Idempotency key -> (first id, forgotten at ms).
    idempotency: HashMap<String, (MessageId, u64)>,
    /// The dead-letter list, oldest first, with each mail's link-free copy when it has one.
    dead: VecDeque<(DeadLetter, Option<QueuedMail>)>,
    next_sequence: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    entry_id: String,
    id: MessageId,
}

#[derive(Debug)]
struct Record {
    mail: Option<QueuedMail>,
    status: MailStatus,
}

impl Inner {
    fn push(&mut self, id: MessageId) {
        self.next_sequence += 1;
        let entry_id = format!("{}-{}", unix_millis(), self.next_sequence);
        self.queue.push_back(Entry { entry_id, id });
    }

    /// Drops settled records and idempotency keys past their retention.
    fn forget_old(&mut self, now: u64) {
        let retention = u64::try_from(STATUS_RETENTION.as_millis()).unwrap_or(u64::MAX);
        self.records.retain(|_, record| {
            let settled = matches!(record.status.state, MailState::Sent | MailState::Dead);
            !settled || record.status.updated_at_ms.saturating_add(retention) > now
        });
        self.idempotency.retain(|_, (_, until)| *until > now);
    }
}

impl MemoryQueue {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind, still consistent per entry.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn settle(
        &self,
        delivery: &Delivery,
        state: MailState,
        due_ms: Option<u64>,
        error: &str,
        dead_max: u64,
    ) {
        let mut inner = self.lock();
        inner.pending.remove(&delivery.entry_id);
        let now = unix_millis();
        let id = delivery.mail.id.clone();
        if let Some(record) = inner.records.get_mut(&id) {
            record.status.state = state;
            record.status.updated_at_ms = now;
            record.status.next_attempt_at_ms = due_ms;
            if !error.is_empty() {
                record.status.last_error = error.to_owned();
            }
            if matches!(state, MailState::Sent | MailState::Dead) {
                record.mail = None;
            }
        }
        match state {
            MailState::Retrying => {
                inner.next_sequence += 1;
                let sequence = inner.next_sequence;
                inner.retries.insert((due_ms.unwrap_or(now), sequence), id);
            }
            MailState::Dead => {
                let copy = retry_copy(&delivery.mail).map(|_| delivery.mail.clone());
                let letter = DeadLetter {
                    id,
                    kind: delivery.mail.content.kind().to_owned(),
                    reason: error.to_owned(),
                    failed_at_ms: now,
                    retryable: copy.is_some(),
                };
                inner.dead.push_back((letter, copy));
                let keep = usize::try_from(dead_max).unwrap_or(usize::MAX);
                while inner.dead.len() > keep {
                    inner.dead.pop_front();
                }
            }
            _ => {}
        }
    }
}

#[async_trait]
impl QueueStore for MemoryQueue {
    async fn enqueue(&self, new: NewMail) -> Result<MessageId, QueueError> {
        let now = unix_millis();
        let mut inner = self.lock();
        inner.forget_old(now);
        if let Some((first, _)) = new
            .idempotency_key
            .as_ref()
            .and_then(|key| inner.idempotency.get(key))
        {
            return Ok(first.clone());
        }
        if new.suppressed {
            return Ok(new.mail.id);
        }
        let waiting = inner.queue.len() + inner.pending.len() + inner.retries.len();
        if new.max_depth > 0 && u64::try_from(waiting).unwrap_or(u64::MAX) >= new.max_depth {
            return Err(QueueError::Full);
        }
        if let Some(key) = &new.idempotency_key {
            let until =
                now.saturating_add(u64::try_from(STATUS_RETENTION.as_millis()).unwrap_or(u64::MAX));
            inner
                .idempotency
                .insert(key.clone(), (new.mail.id.clone(), until));
        }
        let id = new.mail.id.clone();
        inner.records.insert(
            id.clone(),
            Record {
                mail: Some(new.mail),
                status: MailStatus {
                    state: MailState::Queued,
                    attempts: 0,
                    next_attempt_at_ms: None,
                    last_error: String::new(),
                    updated_at_ms: now,
                },
            },
        );
        inner.push(id.clone());
        drop(inner);
        self.arrived.notify_waiters();
        Ok(id)
    }

    async fn consumer(
        &self,
        name: &str,
        claim_idle: Duration,
    ) -> Result<Box<dyn Consumer>, QueueError> {
        let queue = MemoryQueue {
            state: self.state.clone(),
            arrived: self.arrived.clone(),
        };
        Ok(Box::new(MemoryConsumer::new(queue, name, claim_idle)))
    }

    async fn release_due_retries(&self) -> Result<usize, QueueError> {
        let now = unix_millis();
        let mut inner = self.lock();
        let later = inner.retries.split_off(&(now.saturating_add(1), 0));
        let due = std::mem::replace(&mut inner.retries, later);
        let released = due.len();
        for id in due.into_values() {
            inner.push(id);
        }
        drop(inner);
        if released > 0 {
            self.arrived.notify_waiters();
        }
        Ok(released)
    }

    async fn delivered(&self, delivery: &Delivery) -> Result<(), QueueError> {
        self.settle(delivery, MailState::Sent, None, "", 0);
        Ok(())
    }

    async fn retry_at(
        &self,
        delivery: &Delivery,
        due_ms: u64,
        error: &str,
    ) -> Result<(), QueueError> {
        self.settle(delivery, MailState::Retrying, Some(due_ms), error, 0);
        Ok(())
    }

    async fn dead(&self, delivery: &Delivery, reason: &str, keep: u64) -> Result<(), QueueError> {
        self.settle(delivery, MailState::Dead, None, reason, keep);
        Ok(())
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, QueueError> {
        let inner = self.lock();
        Ok(inner
            .dead
            .iter()
            .skip(inner.dead.len().saturating_sub(limit))
            .map(|(letter, _)| letter.clone())
            .collect())
    }

    async fn revive(&self, id: &MessageId) -> Result<Revival, QueueError> {
        let mut inner = self.lock();
        let Some(position) = inner.dead.iter().position(|(letter, _)| letter.id == *id) else {
            return Ok(Revival::Unknown);
        };
        let Some(mail) = inner.dead[position].1.clone() else {
            return Ok(Revival::NotRetryable);
        };
        inner.dead.remove(position);
        inner.records.insert(
            id.clone(),
            Record {
                mail: Some(mail),
                status: MailStatus {
                    state: MailState::Queued,
                    attempts: 0,
                    next_attempt_at_ms: None,
                    last_error: String::new(),
                    updated_at_ms: unix_millis(),
                },
            },
        );
        inner.push(id.clone());
        drop(inner);
        self.arrived.notify_waiters();
        Ok(Revival::Requeued)
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        let inner = self.lock();
        let waiting = inner.queue.len() + inner.pending.len() + inner.retries.len();
        Ok(u64::try_from(waiting).unwrap_or(u64::MAX))
    }

    async fn oldest_queued_at(&self) -> Result<Option<u64>, QueueError> {
        let inner = self.lock();
        let waiting = inner.queue.iter().map(|entry| &entry.entry_id);
        let pending = inner.pending.values().map(|(entry, _, _)| &entry.entry_id);
        Ok(waiting
            .chain(pending)
            .filter_map(|id| entry_millis(id))
            .min())
    }

    async fn answers(&self) -> bool {
        true
    }

    async fn status(&self, id: &MessageId) -> Result<Option<MailStatus>, QueueError> {
        let mut inner = self.lock();
        inner.forget_old(unix_millis());
        Ok(inner.records.get(id).map(|record| record.status.clone()))
    }
}
