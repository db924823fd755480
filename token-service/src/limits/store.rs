//! The limit store contract, kept by Redis and by memory alike: one atomic GCRA decision per
//! call, on a subject that is already a digest.

use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest as _, Sha256};

use super::Rate;
use crate::{Error, clock::UnixMillis};

/// Which limit a decision is about: part of the key, and of the audit line of a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum LimitName {
    /// IssueToken calls per normalised address.
    PerAddress,
    /// IssueToken calls per client IP.
    PerIp,
    /// Failed CheckToken / Redeem attempts per client IP.
    FailuresPerIp,
}

impl LimitName {
    /// The name in keys and logs (`per_address`, `per_ip`, `failures_per_ip`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::PerAddress => "per_address",
            Self::PerIp => "per_ip",
            Self::FailuresPerIp => "failures_per_ip",
        }
    }
}

/// What a limit counts against, as the SHA-256 hex digest of the raw value: a store only ever
/// sees this, so no address or IP address becomes a key or sits in memory.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Subject(String);

impl Subject {
    /// The subject for a raw value (an address, an IP address).
    pub(crate) fn of(raw: &str) -> Self {
        Self(hex::encode(Sha256::digest(raw.as_bytes())))
    }

    /// The digest, 64 lowercase hex characters.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a decision consumes a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Count the event if it is allowed.
    Take,
    /// Only tell whether one more event would be allowed; change nothing.
    Peek,
}

/// A limit's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Allowed,
    /// Not now; one more event is allowed after `retry_after`.
    Limited {
        retry_after: Duration,
    },
}

/// Rate limit state. Every implementation passes `contract_tests.rs`.
#[async_trait]
pub(crate) trait LimitStore: Send + Sync + std::fmt::Debug {
    /// Decides, atomically, whether one more event of `subject` under `limit` fits `rate` at
    /// `now`, and with [`Mode::Take`] counts it if so. `now` is passed in so that every
    /// replica (and every test) decides on the time it was given.
    async fn acquire(
        &self,
        limit: LimitName,
        subject: &Subject,
        rate: Rate,
        now: UnixMillis,
        mode: Mode,
    ) -> Result<Decision, Error>;
}

/// The answer for a wait of `wait_ms` (0 or less: allowed), as both stores compute it.
pub(crate) fn decision(wait_ms: i64) -> Decision {
    if wait_ms <= 0 {
        Decision::Allowed
    } else {
        Decision::Limited {
            retry_after: Duration::from_millis(u64::try_from(wait_ms).unwrap_or(u64::MAX)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_is_a_digest_never_the_raw_value() {
        let subject = Subject::of("203.0.113.9");
        assert_eq!(subject.as_str().len(), 64);
        assert!(!subject.as_str().contains("203"));
        assert_eq!(subject, Subject::of("203.0.113.9"));
        assert_ne!(subject, Subject::of("203.0.113.10"));
    }
}
