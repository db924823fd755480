//! The limit store contract, kept by Redis and by memory alike: one atomic GCRA decision per
//! call, on a subject that is already a digest, on the store's own clock.

use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest as _, Sha256};

use super::Rate;
use crate::Error;

/// Which limit a decision is about: part of the key, and of the audit line of a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum LimitName {
    /// IssueToken calls per normalised address.
    PerAddress,
    /// IssueToken calls per client IP.
    PerIp,
    /// Failed CheckToken / Redeem attempts per client IP.
    FailuresPerIp,
    /// VerifyPassword calls per normalised address.
    VerifyPerAddress,
    /// VerifyPassword calls per client IP.
    VerifyPerIp,
}

impl LimitName {
    /// The name in keys, logs and metric labels (`per_address`, `per_ip`, `failures_per_ip`,
    /// `verify_per_address`, `verify_per_ip`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::PerAddress => "per_address",
            Self::PerIp => "per_ip",
            Self::FailuresPerIp => "failures_per_ip",
            Self::VerifyPerAddress => "verify_per_address",
            Self::VerifyPerIp => "verify_per_ip",
        }
    }
}

/// What a limit counts against, as the SHA-256 hex digest of the raw value: a store only ever
/// sees this, so no address or IP address becomes a key or sits in memory.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Subject(String);

impl Subject {
    /// The subject for a raw value (an address, an IP address or network).
    pub(crate) fn of(raw: &str) -> Self {
        Self(hex::encode(Sha256::digest(raw.as_bytes())))
    }

    /// The digest, 64 lowercase hex characters.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
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
///
/// A store reads its own clock (Redis: the server's `TIME`, so replicas whose clocks disagree
/// still make one decision; memory: this process's), never the caller's.
#[async_trait]
pub(crate) trait LimitStore: Send + Sync + std::fmt::Debug {
    /// Decides, atomically, whether one more event of `subject` under `limit` fits `rate`
    /// now, and counts it if so: the check and the charge are one step, so concurrent callers
    /// can never spend more than the budget between them.
    async fn take(
        &self,
        limit: LimitName,
        subject: &Subject,
        rate: Rate,
    ) -> Result<Decision, Error>;

    /// Gives back one unit taken earlier (an attempt that turned out not to count), as if it
    /// had never been taken; a subject whose budget has refilled meanwhile is left as it is.
    async fn refund(&self, limit: LimitName, subject: &Subject, rate: Rate) -> Result<(), Error>;
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

/// A clock the tests set by hand, so the contract can step through a period exactly; a store
/// given one decides on it instead of its own.
#[cfg(test)]
#[derive(Clone, Debug, Default)]
pub(crate) struct ManualClock(std::sync::Arc<std::sync::atomic::AtomicI64>);

#[cfg(test)]
impl ManualClock {
    /// Sets the time, in Unix milliseconds.
    pub(crate) fn set(&self, now_ms: i64) {
        self.0.store(now_ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// The time last set.
    pub(crate) fn now_ms(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
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
