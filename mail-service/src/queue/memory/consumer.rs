//! [`MemoryConsumer`]: one worker's end of the memory queue, which hands over abandoned mail
//! first, then new mail, waking when mail arrives.

use std::time::Duration;

use async_trait::async_trait;

use super::MemoryQueue;
use crate::queue::store::{
    Consumer, Delivery, MailState, QueueError, QueueStore as _, unix_millis,
};

/// One worker's consumer.
#[derive(Debug)]
pub(super) struct MemoryConsumer {
    queue: MemoryQueue,
    name: String,
    claim_idle_ms: u64,
}

impl MemoryConsumer {
    pub(super) fn new(queue: MemoryQueue, name: &str, claim_idle: Duration) -> Self {
        Self {
            queue,
            name: name.to_owned(),
            claim_idle_ms: u64::try_from(claim_idle.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Takes an abandoned or a new entry, marks its mail as sending and hands it over.
    fn take(&self) -> Option<Delivery> {
        let now = unix_millis();
        let mut inner = self.queue.lock();
        loop {
            let abandoned = inner
                .pending
                .iter()
                .find(|(_, (_, _, since))| since.saturating_add(self.claim_idle_ms) <= now)
                .map(|(entry_id, _)| entry_id.clone());
            let entry = match abandoned.and_then(|entry_id| inner.pending.remove(&entry_id)) {
                Some((entry, _, _)) => entry,
                None => inner.queue.pop_front()?,
            };
            let Some(record) = inner.records.get_mut(&entry.id) else {
                continue;
            };
            let Some(mail) = record.mail.clone() else {
                continue;
            };
            record.status.attempts += 1;
            record.status.state = MailState::Sending;
            record.status.next_attempt_at_ms = None;
            record.status.updated_at_ms = now;
            let attempt = record.status.attempts;
            inner.pending.insert(
                entry.entry_id.clone(),
                (entry.clone(), self.name.clone(), now),
            );
            return Some(Delivery {
                entry_id: entry.entry_id,
                mail,
                attempt,
            });
        }
    }
}

#[async_trait]
impl Consumer for MemoryConsumer {
    async fn next(&mut self, wait: Duration) -> Result<Option<Delivery>, QueueError> {
        // Register for a wake-up before looking, so an enqueue in between is not missed.
        let arrived = self.queue.arrived.clone();
        let notified = arrived.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if let Some(delivery) = self.take() {
            return Ok(Some(delivery));
        }
        let _ = tokio::time::timeout(wait, notified).await;
        Ok(self.take())
    }

    async fn delivered_then_next(
        &mut self,
        sent: &Delivery,
    ) -> Result<Option<Delivery>, QueueError> {
        self.queue.delivered(sent).await?;
        Ok(self.take())
    }
}
