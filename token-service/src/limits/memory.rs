//! Limits in process memory, for `stack` without Redis: the same arithmetic as the Redis
//! script, under one lock.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use async_trait::async_trait;

use super::{
    Rate, gcra_parameters,
    store::{Decision, LimitStore, Mode, decision},
};
use crate::{Error, clock::UnixMillis};

/// Subject key -> theoretical arrival time (ms).
#[derive(Debug, Default)]
pub(crate) struct MemoryLimitStore {
    arrivals: Mutex<HashMap<String, i64>>,
}

#[async_trait]
impl LimitStore for MemoryLimitStore {
    async fn acquire(
        &self,
        key: &str,
        rate: Rate,
        now: UnixMillis,
        mode: Mode,
    ) -> Result<Decision, Error> {
        let (interval, tolerance) = gcra_parameters(rate);
        let mut arrivals = self.arrivals.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget subjects whose arrival time has passed, as Redis expires their keys.
        if arrivals.len() > 10_000 {
            arrivals.retain(|_, tat| *tat > now.0);
        }
        let tat = arrivals.get(key).copied().unwrap_or(now.0).max(now.0);
        let wait = tat - tolerance - now.0;
        if wait <= 0 && mode == Mode::Take {
            arrivals.insert(key.to_owned(), tat + interval);
        }
        Ok(decision(wait))
    }
}
