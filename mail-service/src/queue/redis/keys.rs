//! What the queue keeps where in Redis, and for how long:
//!
//! - `{prefix}{mail}:queue`: the stream of mails to send (entries hold only the message id),
//!   read by the consumer group [`GROUP`]; delivered entries are acked and deleted;
//! - `{prefix}{mail}:msg:<id>`: a hash per mail: `payload` (the mail, deleted once sent or
//!   dead), `state`, `attempts`, `next_attempt_at`, `last_error`, `updated_at`;
//! - `{prefix}{mail}:retry`: a sorted set of ids waiting for their next try, scored by due time;
//! - `{prefix}{mail}:dead`: the dead-letter stream (id, kind, reason as SMTP codes only, time;
//!   no content), about `MAIL_DEAD_MAX` entries at most, read a page at a time;
//! - `{prefix}{mail}:idem:<sha256>`: an idempotency key's first message id, for 24h.
//!
//! Every key carries the `{mail}` hash tag, so the scripts work unchanged on Redis Cluster (the
//! contract tests run there too); the price is that the whole queue is one slot, served by one
//! master (see the README).

use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::mail::MessageId;

/// The consumer group every worker of every replica reads in (`take.lua` and `settle.lua`
/// ack in it by this name).
pub(super) const GROUP: &str = "dispatchers";

/// How long a queued mail's record lives at most (refreshed at each step): far beyond any retry
/// schedule, so only a record abandoned by a lost Redis write is ever forgotten this way.
pub(super) const RECORD_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The key names, from the prefix.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    prefix: String,
}

impl Keys {
    pub(super) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    pub(super) fn queue(&self) -> String {
        format!("{}{{mail}}:queue", self.prefix)
    }

    pub(super) fn record(&self, id: &MessageId) -> String {
        format!("{}{id}", self.record_prefix())
    }

    /// A record's key without its message id (`take.lua` appends the id it reads).
    pub(super) fn record_prefix(&self) -> String {
        format!("{}{{mail}}:msg:", self.prefix)
    }

    pub(super) fn retry(&self) -> String {
        format!("{}{{mail}}:retry", self.prefix)
    }

    pub(super) fn dead(&self) -> String {
        format!("{}{{mail}}:dead", self.prefix)
    }

    /// The caller's key is hashed: it may be long, or hold anything.
    pub(super) fn idempotency(&self, key: Option<&str>) -> String {
        let digest = key.map_or_else(String::new, |key| hex::encode(Sha256::digest(key)));
        format!("{}{{mail}}:idem:{digest}", self.prefix)
    }
}
