//! The limit store contract, kept by Redis and by memory alike.

use std::time::Duration;

use async_trait::async_trait;

use super::Rate;
use crate::{Error, clock::UnixMillis};

/// Whether a decision consumes a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Count the event if it is allowed.
    Take,
    /// Only tell whether one more event would be allowed.
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
    /// Decides, atomically, whether one more event under `key` fits `rate` at `now`.
    async fn acquire(
        &self,
        key: &str,
        rate: Rate,
        now: UnixMillis,
        mode: Mode,
    ) -> Result<Decision, Error>;
}

/// The answer for a wait of `wait_ms` (0 or less: allowed).
pub(crate) fn decision(wait_ms: i64) -> Decision {
    if wait_ms <= 0 {
        Decision::Allowed
    } else {
        Decision::Limited {
            retry_after: Duration::from_millis(u64::try_from(wait_ms).unwrap_or(u64::MAX)),
        }
    }
}
