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
    hash_threads::{HASHING_NICE, HashThreads},
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
    /// Where the policy's scoring runs: threads apart from the hashes, so a judgement never
    /// queues behind argon2, and as far below the request threads as hashing is, so a burst
    /// of judgements does not hold up token checks.
    scoring: HashThreads,
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
            threads: HashThreads::start("argon2", concurrency, HASHING_NICE)?,
            scoring: HashThreads::start(
                "scoring",
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
                HASHING_NICE,
            )?,
        })
    }

    /// Whether a hash asked for now would be let in (run or wait) rather than refused: lets a
    /// caller with CPU work to do before its hash (the policy's scoring) refuse early instead of
    /// spending it on a request the full queue would turn away anyway.
    pub(crate) fn has_room(&self) -> bool {
        self.permits.available_permits() > 0 || self.waiting.load(Ordering::SeqCst) < self.queue
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

    /// Runs `work` on a scoring thread, without a permit: for CPU work that is short and small
    /// (the policy's scoring), which must not be refused for a full hashing queue, yet should
    /// not run on the request threads. The service's in-flight request limit bounds how much
    /// of it can wait.
    pub(crate) async fn score<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        self.scoring.run(work).await
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

    #[tokio::test]
    async fn a_full_queue_has_no_room_until_its_hash_is_done() {
        let pool = HashPool::new(
            HashLimits {
                concurrency: 1,
                queue: 0,
                wait: Duration::from_secs(5),
            },
            HashMetrics::default(),
        )
        .unwrap();
        assert!(pool.has_room());
        let (release, released) = std::sync::mpsc::channel::<()>();
        let running = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(move || released.recv().is_ok()).await }
        });
        while pool.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(!pool.has_room(), "one running, none may wait");
        release.send(()).unwrap();
        assert!(running.await.unwrap().unwrap());
        assert!(pool.has_room());
    }
}
