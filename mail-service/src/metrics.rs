//! What the dispatcher counts for operators: mail queued, sent, retried, dead-lettered, the
//! queue's depth, the age of its oldest mail and how long a send takes.

use passreset_telemetry::metrics::Registry;
use prometheus_client::metrics::{
    counter::Counter,
    gauge::Gauge,
    histogram::{Histogram, exponential_buckets},
};

/// The mail service's own metrics (gRPC traffic is counted by the shared layer).
#[derive(Debug, Clone)]
pub(crate) struct MailMetrics {
    /// Mails accepted into the queue.
    pub queued: Counter,
    /// Mails not sent, by policy (unknown-account notices off); nothing is stored for them.
    pub suppressed: Counter,
    /// Mails the mail server accepted.
    pub sent: Counter,
    /// Transient failures that will be tried again.
    pub retried: Counter,
    /// Mails given up on.
    pub dead: Counter,
    /// Mails waiting (queued, in flight or waiting to retry).
    pub queue_depth: Gauge,
    /// Seconds since the oldest mail waiting or being sent was queued (0 when none is).
    pub oldest_queued_age: Gauge,
    /// Time from a worker taking a mail to the server accepting (or refusing) it.
    pub send_seconds: Histogram,
}

impl MailMetrics {
    /// Registers every metric under the `mail_` prefix.
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            queued: Counter::default(),
            suppressed: Counter::default(),
            sent: Counter::default(),
            retried: Counter::default(),
            dead: Counter::default(),
            queue_depth: Gauge::default(),
            oldest_queued_age: Gauge::default(),
            send_seconds: Histogram::new(exponential_buckets(0.005, 2.0, 12)),
        };
        let mail = registry.sub_registry_with_prefix("mail");
        mail.register(
            "queued",
            "Mails accepted into the queue",
            metrics.queued.clone(),
        );
        mail.register(
            "suppressed",
            "Mails not sent, by policy",
            metrics.suppressed.clone(),
        );
        mail.register(
            "sent",
            "Mails the mail server accepted",
            metrics.sent.clone(),
        );
        mail.register(
            "retried",
            "Sends that failed transiently and will be tried again",
            metrics.retried.clone(),
        );
        mail.register(
            "dead",
            "Mails moved to the dead-letter stream",
            metrics.dead.clone(),
        );
        mail.register(
            "queue_depth",
            "Mails waiting: queued, being sent or waiting to retry",
            metrics.queue_depth.clone(),
        );
        mail.register(
            "queue_oldest_age_seconds",
            "Seconds since the oldest mail waiting or being sent was queued",
            metrics.oldest_queued_age.clone(),
        );
        mail.register(
            "send_duration_seconds",
            "Time to hand one mail to the mail server",
            metrics.send_seconds.clone(),
        );
        metrics
    }
}
