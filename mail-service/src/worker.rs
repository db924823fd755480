//! The dispatch workers: each takes a mail from the queue, composes it, sends it, and settles it
//! as delivered, to retry later (transient failure, with backoff and jitter) or dead
//! (permanent failure, or attempts exhausted).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use lettre::message::Mailbox;
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::{
    metrics::MailMetrics,
    queue::{Consumer, Delivery, QueueError, QueueStore, unix_millis},
    revoke::Revoker,
    templates::Templates,
    transport::{SendError, Transport},
};

/// How long a worker waits for mail before it looks at the retries and its stop signal again.
const POLL: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// How long a worker pauses after the queue itself failed (say, Redis is restarting).
const QUEUE_FAILURE_PAUSE: Duration = Duration::from_secs(1);
/// How long a worker keeps trying to record what became of a mail while the queue fails
/// (at most half the claim time, so no other worker takes the mail over meanwhile).
const SETTLE_PATIENCE: Duration = Duration::from_secs(10);
/// The pause between two tries to record it.
const SETTLE_PAUSE: Duration = Duration::from_millis(250);

/// What every worker shares.
#[derive(Debug, Clone)]
pub(crate) struct Dispatch {
    pub queue: Arc<dyn QueueStore>,
    pub transport: Transport,
    pub templates: Arc<Templates>,
    pub from: Mailbox,
    pub max_attempts: u32,
    /// Entries the dead-letter stream keeps at most.
    pub dead_max: u64,
    pub retry_base: Duration,
    pub claim_idle: Duration,
    pub metrics: MailMetrics,
    pub revoker: Revoker,
}

impl Dispatch {
    /// Runs one worker until `stop` changes. A mail in hand is finished before it returns.
    pub(crate) async fn run_worker(self, name: String, mut stop: watch::Receiver<bool>) {
        let mut consumer = loop {
            match self.queue.consumer(&name, self.claim_idle).await {
                Ok(consumer) => break consumer,
                Err(error) => {
                    tracing::warn!(worker = %name, %error, "mail worker cannot reach the queue");
                    if pause_or_stop(&mut stop, QUEUE_FAILURE_PAUSE).await {
                        return;
                    }
                }
            }
        };
        tracing::debug!(worker = %name, "mail worker started");
        let mut retries_released_at = None;
        // A mail handed over with the last one's settlement: finished even when stopping
        // (unless the queue fails meanwhile; then it is claimed again after the claim time).
        let mut in_hand = None;
        while !*stop.borrow() || in_hand.is_some() {
            if let Err(error) = self
                .step(
                    consumer.as_mut(),
                    &mut retries_released_at,
                    &mut stop,
                    &mut in_hand,
                )
                .await
            {
                tracing::warn!(worker = %name, %error, "mail queue failed; retrying");
                if pause_or_stop(&mut stop, QUEUE_FAILURE_PAUSE).await {
                    break;
                }
            }
        }
        tracing::debug!(worker = %name, "mail worker stopped");
    }

    /// Releases due retries (at most once per [`POLL`]: not one more Redis call per mail),
    /// then delivers the mail in hand, or waits for one (or the stop signal) and delivers it.
    async fn step(
        &self,
        consumer: &mut dyn Consumer,
        retries_released_at: &mut Option<Instant>,
        stop: &mut watch::Receiver<bool>,
        in_hand: &mut Option<Delivery>,
    ) -> Result<(), QueueError> {
        if retries_released_at.is_none_or(|released| released.elapsed() >= POLL) {
            self.queue.release_due_retries().await?;
            *retries_released_at = Some(Instant::now());
        }
        let delivery = match in_hand.take() {
            Some(delivery) => delivery,
            None => {
                let next = tokio::select! {
                    next = consumer.next(POLL) => next?,
                    // Stopping while waiting loses nothing: a mail read but not started is
                    // claimed again after the claim time.
                    _ = stop.changed() => return Ok(()),
                };
                let Some(delivery) = next else {
                    return Ok(());
                };
                delivery
            }
        };
        // Once stopping, no further mail is taken with this one's settlement.
        let consumer = (!*stop.borrow()).then_some(consumer);
        *in_hand = self.deliver(delivery, consumer).await?;
        Ok(())
    }

    /// Composes and sends one mail, then settles it, in a span that belongs to the trace of
    /// the request that queued the mail. Given the consumer, a sent mail's settlement also
    /// hands over the next mail waiting, which is returned.
    async fn deliver(
        &self,
        delivery: Delivery,
        consumer: Option<&mut dyn Consumer>,
    ) -> Result<Option<Delivery>, QueueError> {
        let span = tracing::info_span!(
            "deliver mail",
            message_id = %delivery.mail.id,
            kind = delivery.mail.content.kind(),
            attempt = delivery.attempt
        );
        // Before the span is first entered: a started span's parent is fixed.
        passreset_telemetry::propagation::span_following(&span, &delivery.mail.traceparent);
        self.send_and_settle(delivery, consumer)
            .instrument(span)
            .await
    }

    async fn send_and_settle(
        &self,
        delivery: Delivery,
        consumer: Option<&mut dyn Consumer>,
    ) -> Result<Option<Delivery>, QueueError> {
        let started = Instant::now();
        let outcome = match self.templates.compose(&delivery.mail, &self.from) {
            Ok(message) => self.transport.send(message).await,
            Err(error) => Err(SendError::Permanent(error.to_string())),
        };
        self.metrics
            .send_seconds
            .observe(started.elapsed().as_secs_f64());
        match outcome {
            Ok(()) => {
                let next = self.record_sent(&delivery, consumer).await?;
                self.metrics.sent.inc();
                tracing::info!("mail sent");
                return Ok(next);
            }
            Err(SendError::Transient(error)) if delivery.attempt < self.max_attempts => {
                let wait = backoff(self.retry_base, delivery.attempt);
                let due = unix_millis()
                    .saturating_add(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
                patiently(self.settle_patience(), || {
                    self.queue.retry_at(&delivery, due, &error)
                })
                .await?;
                self.metrics.retried.inc();
                tracing::warn!(%error, retry_in = ?wait, "mail not sent; will retry");
            }
            Err(SendError::Transient(error)) => {
                let reason = format!("gave up after {} attempts: {error}", delivery.attempt);
                self.give_up(&delivery, &reason).await?;
            }
            Err(SendError::Permanent(reason)) => self.give_up(&delivery, &reason).await?,
        }
        Ok(None)
    }

    /// Records a sent mail as delivered, with the consumer in the same call as taking the next
    /// mail waiting (returned). Patiently: a mail sent but not recorded as sent is sent again
    /// once claimed.
    async fn record_sent(
        &self,
        delivery: &Delivery,
        consumer: Option<&mut dyn Consumer>,
    ) -> Result<Option<Delivery>, QueueError> {
        if let Some(consumer) = consumer {
            match consumer.delivered_then_next(delivery).await {
                Ok(next) => return Ok(next),
                // Whether it was recorded is not known; recording it twice is harmless. A mail
                // taken by a call whose answer was lost is claimed again after the claim time.
                Err(error) => {
                    tracing::warn!(%error, "cannot record the mail as sent; trying again")
                }
            }
        }
        patiently(self.settle_patience(), || self.queue.delivered(delivery)).await?;
        Ok(None)
    }

    /// Moves the mail to the dead-letter stream and revokes the token its link carried.
    async fn give_up(&self, delivery: &Delivery, reason: &str) -> Result<(), QueueError> {
        patiently(self.settle_patience(), || {
            self.queue.dead(delivery, reason, self.dead_max)
        })
        .await?;
        self.metrics.dead.inc();
        self.revoker.revoke_for(&delivery.mail).await;
        tracing::error!(%reason, "mail dead-lettered");
        Ok(())
    }

    /// How long to keep trying to record a mail's outcome: see [`patiently`].
    fn settle_patience(&self) -> Duration {
        SETTLE_PATIENCE.min(self.claim_idle / 2)
    }
}

/// Runs `settle` until it succeeds, or until the queue has failed for `patience`: a Redis
/// that blinks right after a send must not leave the mail pending, to be claimed and sent a
/// second time. Past that the mail stays pending and is tried again after the claim time: at
/// least once, never lost. Settling twice is harmless (the scripts only repeat the outcome).
async fn patiently<F, Fut>(patience: Duration, mut settle: F) -> Result<(), QueueError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), QueueError>>,
{
    let started = Instant::now();
    loop {
        match settle().await {
            Err(error) if started.elapsed() + SETTLE_PAUSE < patience => {
                tracing::warn!(%error, "cannot record the mail's outcome; trying again");
                tokio::time::sleep(SETTLE_PAUSE).await;
            }
            settled => return settled,
        }
    }
}

/// Waits `pause`; true if told to stop meanwhile.
async fn pause_or_stop(stop: &mut watch::Receiver<bool>, pause: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(pause) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

/// The wait after the `attempt`-th failure: `base` doubled per attempt, capped, and then a
/// random 50 to 100 % of that, so mails that failed together do not retry together.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exponential = base
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(MAX_BACKOFF);
    let mut byte = [0u8; 1];
    let jitter = match getrandom::fill(&mut byte) {
        Ok(()) => 0.5 + f64::from(byte[0]) / 510.0,
        Err(_) => 0.75,
    };
    exponential.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_within_jitter_and_is_capped() {
        let base = Duration::from_secs(30);
        for (attempt, full) in [(1, 30), (2, 60), (3, 120), (6, 900), (10, 900)] {
            let wait = backoff(base, attempt);
            let full = Duration::from_secs(full);
            assert!(
                wait >= full / 2 && wait <= full,
                "attempt {attempt}: {wait:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_outcome_is_recorded_once_the_queue_answers_again() {
        let mut failures_left = 2;
        let mut tries = 0;
        let settled = patiently(Duration::from_secs(10), || {
            tries += 1;
            let outcome = if failures_left > 0 {
                failures_left -= 1;
                Err(QueueError::Timeout(Duration::from_secs(2)))
            } else {
                Ok(())
            };
            async move { outcome }
        })
        .await;
        assert!(settled.is_ok());
        assert_eq!(tries, 3);
    }

    #[tokio::test]
    async fn a_queue_that_stays_down_is_given_up_on_after_the_patience() {
        let mut tries = 0;
        let settled = patiently(Duration::from_millis(600), || {
            tries += 1;
            async { Err::<(), _>(QueueError::Timeout(Duration::from_secs(2))) }
        })
        .await;
        assert!(matches!(settled, Err(QueueError::Timeout(_))));
        assert!((1..=3).contains(&tries), "{tries}");
    }

    #[test]
    fn ten_attempts_spread_over_about_an_hour() {
        let total: Duration = (1..10)
            .map(|attempt| {
                Duration::from_secs(30)
                    .saturating_mul(2u32.pow(attempt - 1))
                    .min(MAX_BACKOFF)
            })
            .sum();
        assert!(total > Duration::from_secs(45 * 60) && total < Duration::from_secs(90 * 60));
    }
}
