//! Limits in process memory, for `stack` without Redis: the arithmetic of the Redis script,
//! under one lock, with idle subjects swept out as Redis expires their keys.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use async_trait::async_trait;

use super::{
    Rate,
    store::{Decision, LimitName, LimitStore, Mode, Subject, decision},
};
use crate::{Error, clock::UnixMillis};

/// Fewest subjects at which a sweep is worth its walk over the map.
const FIRST_SWEEP_AT: usize = 1024;

/// Limits in memory.
#[derive(Debug, Default)]
pub(crate) struct MemoryLimitStore {
    state: Mutex<State>,
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
    fn sweep_if_due(&mut self, now: UnixMillis) {
        if self.arrivals.len() < self.sweep_at.max(FIRST_SWEEP_AT) {
            return;
        }
        self.arrivals.retain(|_, tat| *tat > now.0);
        self.sweep_at = self.arrivals.len().saturating_mul(2);
    }
}

#[async_trait]
impl LimitStore for MemoryLimitStore {
    async fn acquire(
        &self,
        limit: LimitName,
        subject: &Subject,
        rate: Rate,
        now: UnixMillis,
        mode: Mode,
    ) -> Result<Decision, Error> {
        let gcra = rate.gcra();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.sweep_if_due(now);
        let key = (limit, subject.clone());
        let tat = state
            .arrivals
            .get(&key)
            .copied()
            .unwrap_or(now.0)
            .max(now.0);
        let wait = tat - gcra.tolerance - now.0;
        if wait <= 0 && mode == Mode::Take {
            state.arrivals.insert(key, tat + gcra.interval);
        }
        Ok(decision(wait))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn idle_subjects_are_swept_once_there_are_many() {
        let store = MemoryLimitStore::default();
        let rate = Rate {
            count: 1,
            period: Duration::from_secs(1),
        };
        for n in 0..FIRST_SWEEP_AT {
            let subject = Subject::of(&n.to_string());
            store
                .acquire(LimitName::PerIp, &subject, rate, UnixMillis(0), Mode::Take)
                .await
                .unwrap();
        }
        // Every earlier subject is idle a second later; the next call sweeps them out.
        let later = UnixMillis(1000);
        store
            .acquire(
                LimitName::PerIp,
                &Subject::of("new"),
                rate,
                later,
                Mode::Take,
            )
            .await
            .unwrap();
        let state = store.state.lock().unwrap();
        assert_eq!(state.arrivals.len(), 1);
    }
}
