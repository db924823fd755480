//! Limits in process memory, for `stack` without Redis: the arithmetic of the Redis scripts,
//! under one lock, on this process's clock, with idle subjects swept out as Redis expires
//! their keys.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use async_trait::async_trait;

use super::{
    Rate,
    store::{Decision, LimitName, LimitStore, Subject, decision},
};
use crate::{Error, clock::UnixMillis};

/// Fewest subjects at which a sweep is worth its walk over the map.
const FIRST_SWEEP_AT: usize = 1024;

/// Limits in memory.
#[derive(Debug, Default)]
pub(crate) struct MemoryLimitStore {
    state: Mutex<State>,
    /// A test's clock in place of this process's.
    #[cfg(test)]
    clock: Option<super::store::ManualClock>,
}

#[derive(Debug, Default)]
struct State {
    /// (limit, subject) -> theoretical arrival time (ms). An entry at or before now means
    /// the same as no entry, so it may be dropped at any time.
    arrivals: HashMap<(LimitName, Subject), i64>,
    /// The size at which the next sweep runs: twice what the last one kept, so sweeping
    /// costs O(1) per call however many subjects are active.
    sweep_at: usize,
}

impl State {
    fn sweep_if_due(&mut self, now: i64) {
        if self.arrivals.len() < self.sweep_at.max(FIRST_SWEEP_AT) {
            return;
        }
        self.arrivals.retain(|_, tat| *tat > now);
        self.sweep_at = self.arrivals.len().saturating_mul(2);
    }
}

impl MemoryLimitStore {
    /// A store that decides on `clock`, for the contract tests.
    #[cfg(test)]
    pub(crate) fn with_clock(clock: super::store::ManualClock) -> Self {
        Self {
            clock: Some(clock),
            ..Self::default()
        }
    }

    /// Now, in Unix milliseconds: this process's clock, or in tests the test's if it set one.
    fn now_ms(&self) -> i64 {
        #[cfg(test)]
        if let Some(clock) = &self.clock {
            return clock.now_ms();
        }
        UnixMillis::now().0
    }
}

#[async_trait]
impl LimitStore for MemoryLimitStore {
    async fn take(
        &self,
        limit: LimitName,
        subject: &Subject,
        rate: Rate,
    ) -> Result<Decision, Error> {
        let gcra = rate.gcra();
        let now = self.now_ms();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.sweep_if_due(now);
        let key = (limit, subject.clone());
        let tat = state.arrivals.get(&key).copied().unwrap_or(now).max(now);
        let wait = tat - gcra.tolerance - now;
        if wait <= 0 {
            state.arrivals.insert(key, tat + gcra.interval);
        }
        Ok(decision(wait))
    }

    async fn refund(&self, limit: LimitName, subject: &Subject, rate: Rate) -> Result<(), Error> {
        let interval = rate.gcra().interval;
        let now = self.now_ms();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (limit, subject.clone());
        if let Some(tat) = state.arrivals.get_mut(&key) {
            *tat -= interval;
            if *tat <= now {
                state.arrivals.remove(&key);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{super::store::ManualClock, *};

    #[tokio::test]
    async fn idle_subjects_are_swept_once_there_are_many() {
        let clock = ManualClock::default();
        let store = MemoryLimitStore::with_clock(clock.clone());
        let rate = Rate {
            count: 1,
            period: Duration::from_secs(1),
        };
        for n in 0..FIRST_SWEEP_AT {
            let subject = Subject::of(&n.to_string());
            store.take(LimitName::PerIp, &subject, rate).await.unwrap();
        }
        // Every earlier subject is idle a second later; the next call sweeps them out.
        clock.set(1000);
        store
            .take(LimitName::PerIp, &Subject::of("new"), rate)
            .await
            .unwrap();
        let state = store.state.lock().unwrap();
        assert_eq!(state.arrivals.len(), 1);
    }
}
