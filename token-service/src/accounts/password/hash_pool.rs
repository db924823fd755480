//! [`HashPool`]: argon2 work runs at most so many at a time on the hash threads, and at most
//! so many callers wait for it; the rest are refused at once rather than holding 19 MiB each.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use prometheus_client::metrics::{counter::Counter, gauge::Gauge};
use secrecy::SecretString;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{
    argon2id::{HashedPassword, hash_now, verify_now},
    hash_threads::HashThreads,
};
use crate::Error;

/// Runs argon2 work (hashes and verifications alike) at most `concurrency` at a time, on as
/// many hash threads; at most `queue` more callers wait, each for at most `wait`. The rest are
/// refused with [`Error::Busy`] (RESOURCE_EXHAUSTED) before anything changed, rather than
/// piling up 19 MiB per blocking thread.
#[derive(Clone, Debug)]
pub(crate) struct HashPool {
    /// One permit per hash allowed to run.
    permits: Arc<Semaphore>,
    /// Callers waiting for a permit now.
    waiting: Arc<AtomicUsize>,
    /// Most callers allowed to wait.
    queue: usize,
    /// Longest a caller waits for a permit.
    wait: Duration,
    /// What the pool counts.
    metrics: HashMetrics,
    /// Where the work runs.
    threads: HashThreads,
}

/// What a [`HashPool`] counts, for operators (and for tests that must see no hash ran).
#[derive(Clone, Debug, Default)]
pub(crate) struct HashMetrics {
    /// `password_hashes_in_flight`: hashes running now.
    pub in_flight: Gauge,
    /// `password_hashes_total`: hashes and verifications started.
    pub started: Counter,
}

/// How a [`HashPool`] is sized.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HashLimits {
    /// Hashes running at once.
    pub concurrency: usize,
    /// Callers allowed to wait for one.
    pub queue: usize,
    /// Longest wait.
    pub wait: Duration,
}

/// Takes one off the waiting count when the wait ends, however it ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Holds a permit and counts one hash in flight while the work runs.
struct Running {
    _permit: OwnedSemaphorePermit,
    in_flight: Gauge,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.in_flight.dec();
    }
}

impl HashPool {
    /// A pool of `limits`, counting what runs on `metrics`; fails only if the system refuses
    /// to start its threads.
    pub(crate) fn new(limits: HashLimits, metrics: HashMetrics) -> std::io::Result<Self> {
        let concurrency = limits.concurrency.max(1);
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            waiting: Arc::new(AtomicUsize::new(0)),
            queue: limits.queue,
            wait: limits.wait,
            metrics,
            threads: HashThreads::start(concurrency)?,
        })
    }

    /// A permit now, or after waiting in the bounded queue; [`Error::Busy`] otherwise.
    async fn permit(&self) -> Result<OwnedSemaphorePermit, Error> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::Busy);
        }
        let _waiting = Waiting(&self.waiting);
        match tokio::time::timeout(self.wait, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(Error::Busy),
        }
    }

    /// Runs `work` on a hash thread under a permit. The permit travels with the work, so a
    /// caller that gives up does not free it before the hash is done.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let permit = self.permit().await?;
        self.metrics.started.inc();
        self.metrics.in_flight.inc();
        let running = Running {
            _permit: permit,
            in_flight: self.metrics.in_flight.clone(),
        };
        self.threads
            .run(move || {
                let _running = running;
                work()
            })
            .await
    }

    /// Hashes `password` with a fresh salt.
    pub(crate) async fn hash(&self, password: SecretString) -> Result<HashedPassword, Error> {
        self.run(move || hash_now(&password)).await?
    }

    /// Whether `password` matches `hash`. With no hash (no such account) it checks against a
    /// dummy one and answers `false`, taking the same time.
    pub(crate) async fn verify(
        &self,
        hash: Option<HashedPassword>,
        password: SecretString,
    ) -> Result<bool, Error> {
        self.run(move || verify_now(hash.as_ref(), &password)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> HashPool {
        HashPool::new(
            HashLimits {
                concurrency: 2,
                queue: 8,
                wait: Duration::from_secs(30),
            },
            HashMetrics::default(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn the_pool_hashes_on_its_threads_and_verifies_what_it_hashed() {
        let pool = pool();
        let hash = pool
            .hash(SecretString::from("correct horse battery staple"))
            .await
            .unwrap();
        let right = pool.verify(
            Some(hash.clone()),
            SecretString::from("correct horse battery staple"),
        );
        assert!(right.await.unwrap());
        let wrong = pool.verify(
            Some(hash),
            SecretString::from("correct horse battery stapler"),
        );
        assert!(!wrong.await.unwrap());
        assert!(!pool.verify(None, SecretString::from("")).await.unwrap());
        assert_eq!(pool.metrics.started.get(), 4);
        assert_eq!(pool.metrics.in_flight.get(), 0);
    }
}
