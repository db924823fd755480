//! Instants as Unix milliseconds: what the stores keep and compare, and what the protos carry
//! (in seconds).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time, in milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct UnixMillis(pub i64);

impl UnixMillis {
    /// The current wall-clock time. Every service instance reads its own clock: token lifetimes
    /// are minutes long, so ordinary clock skew between instances does not matter.
    pub(crate) fn now() -> Self {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Self(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }

    /// This instant moved `duration` later, saturating rather than overflowing.
    pub(crate) fn plus(self, duration: Duration) -> Self {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(millis))
    }

    /// Whole seconds since the epoch, as the protos carry them.
    pub(crate) fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }
}
