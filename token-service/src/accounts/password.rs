//! Passwords: the generator for `generate = true`, and argon2id hashing (OWASP parameters) run
//! on hash threads of their own below the request threads' priority (`hash_threads`), so it
//! never stalls the gRPC workers, and through a [`HashPool`] so a burst cannot hold 19 MiB per
//! waiting caller. Passwords are NFKC-normalised before they are
//! judged (`policy`), hashed or verified, so the same password typed on another keyboard
//! (composed or decomposed accents, full-width digits) still matches.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
    password_hash::SaltString,
};
use prometheus_client::metrics::{counter::Counter, gauge::Gauge};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use unicode_normalization::UnicodeNormalization as _;

use super::hash_threads::{HASHING_NICE, HashThreads};
use crate::Error;

/// Length of a generated password.
pub(crate) const GENERATED_LENGTH: usize = 24;

/// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
const ARGON2_MEMORY_KIB: u32 = 19_456;
const ARGON2_PASSES: u32 = 2;
const ARGON2_LANES: u32 = 1;

/// The hash of a generated password nobody kept, with the same parameters as real ones:
/// verified against when an address has no account, so the answer takes as long as for a
/// wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$s7CGnnL50MJep4G2kl+hTQ$QcxXKJrVZnckQEFtVLD6q13dzW+xTdoB2iJDHwYCBss";

/// The NFKC form every check, hash and verification works on.
pub(crate) fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

/// The characters of generated passwords, by class; look-alikes (`l`, `1`, `I`, `O`, `0`)
/// are left out so a password read aloud or copied by hand survives.
const CLASSES: [&[u8]; 4] = [
    b"abcdefghijkmnopqrstuvwxyz",
    b"ABCDEFGHJKLMNPQRSTUVWXYZ",
    b"23456789",
    b"-_.!#%+=@~^*",
];

/// A random password of [`GENERATED_LENGTH`] characters with at least one of each class: it
/// satisfies any policy this service can be configured with.
pub(crate) fn generate() -> Result<SecretString, Error> {
    let alphabet: Vec<u8> = CLASSES.concat();
    loop {
        let mut password = String::with_capacity(GENERATED_LENGTH);
        let mut random = RandomBytes::default();
        while password.len() < GENERATED_LENGTH {
            let index = random.below(alphabet.len())?;
            if let Some(&byte) = alphabet.get(index) {
                password.push(char::from(byte));
            }
        }
        let has_every_class = CLASSES
            .iter()
            .all(|class| password.bytes().any(|byte| class.contains(&byte)));
        if has_every_class {
            return Ok(SecretString::from(password));
        }
    }
}

/// Random bytes from the OS, fetched a buffer at a time.
#[derive(Default)]
struct RandomBytes {
    buffer: [u8; 32],
    used: usize,
}

impl RandomBytes {
    /// A uniform number in `0..bound` (`bound` <= 256), by rejection so no value is favoured.
    fn below(&mut self, bound: usize) -> Result<usize, Error> {
        let limit = 256 - 256 % bound;
        loop {
            if self.used == 0 || self.used == self.buffer.len() {
                getrandom::fill(&mut self.buffer)
                    .map_err(|error| Error::Internal(format!("os random source: {error}")))?;
                self.used = 0;
            }
            let value = usize::from(self.buffer.get(self.used).copied().unwrap_or(u8::MAX));
            self.used += 1;
            if value < limit {
                return Ok(value % bound);
            }
        }
    }
}

/// An argon2id hash in PHC string form. Not a secret, but not for logs either.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct HashedPassword(String);

impl HashedPassword {
    /// Rebuilds a hash read from storage.
    pub(crate) fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for storage.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    fn dummy() -> Self {
        Self(DUMMY_HASH.to_owned())
    }
}

impl fmt::Debug for HashedPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashedPassword([redacted])")
    }
}

fn hasher() -> Result<Argon2<'static>, Error> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None)
        .map_err(|error| Error::Internal(format!("argon2 parameters: {error}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_now(password: &SecretString) -> Result<HashedPassword, Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|error| Error::Internal(format!("os random source: {error}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| Error::Internal(format!("argon2 salt: {error}")))?;
    let hash = hasher()?
        .hash_password(normalize(password.expose_secret()).as_bytes(), &salt)
        .map_err(|error| Error::Internal(format!("argon2 hash: {error}")))?;
    Ok(HashedPassword(hash.to_string()))
}

fn verify_now(hash: &HashedPassword, password: &SecretString) -> bool {
    let Ok(parsed) = PasswordHash::new(&hash.0) else {
        tracing::error!("a stored password hash does not parse");
        return false;
    };
    // The parameters come from the PHC string; the hasher only fixes the algorithm family.
    hasher().is_ok_and(|argon2| {
        argon2
            .verify_password(normalize(password.expose_secret()).as_bytes(), &parsed)
            .is_ok()
    })
}

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
    /// not run on the request threads. The service's in-flight request
    /// limit bounds how much of it can wait.
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
        self.run(move || match hash {
            Some(hash) => verify_now(&hash, &password),
            None => {
                let _ = verify_now(&HashedPassword::dummy(), &password);
                false
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{email::NormalizedEmail, policy::PasswordPolicy};

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

    async fn hash(password: SecretString) -> Result<HashedPassword, Error> {
        pool().hash(password).await
    }

    async fn verify(hash: Option<HashedPassword>, password: SecretString) -> Result<bool, Error> {
        pool().verify(hash, password).await
    }

    fn email() -> NormalizedEmail {
        NormalizedEmail::parse("Ada.Lovelace@example.com").unwrap()
    }

    #[test]
    fn passwords_are_hashed_in_nfkc_form() {
        // Eleven characters after normalisation: "ﬁ" (one ligature) becomes "fi" (two).
        assert_eq!(normalize("ﬁ"), "fi");
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

    #[tokio::test]
    async fn a_password_verifies_whichever_unicode_form_it_is_typed_in() {
        let composed = "crème brûlée à la carte";
        let decomposed: String = composed.nfd().collect();
        assert_ne!(composed, decomposed);
        let hash = hash(SecretString::from(composed)).await.unwrap();
        assert!(
            verify(Some(hash), SecretString::from(decomposed))
                .await
                .unwrap()
        );
    }

    #[test]
    fn generated_passwords_pass_the_policy_and_mix_every_class() {
        let strict = PasswordPolicy { min_length: 24 };
        for _ in 0..200 {
            let password = generate().unwrap();
            let text = password.expose_secret();
            assert_eq!(text.chars().count(), GENERATED_LENGTH);
            strict.check(&password, &email()).unwrap();
            for class in CLASSES {
                assert!(
                    text.bytes().any(|b| class.contains(&b)),
                    "{class:?} missing"
                );
            }
        }
    }

    #[test]
    fn generated_passwords_do_not_repeat() {
        let first = generate().unwrap();
        let second = generate().unwrap();
        assert_ne!(first.expose_secret(), second.expose_secret());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hash = hash(SecretString::from("correct horse battery staple"))
            .await
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let right = verify(
            Some(hash.clone()),
            SecretString::from("correct horse battery staple"),
        );
        assert!(right.await.unwrap());
        let wrong = verify(
            Some(hash),
            SecretString::from("correct horse battery stapler"),
        );
        assert!(!wrong.await.unwrap());
    }

    #[tokio::test]
    async fn without_an_account_nothing_verifies_not_even_the_dummy() {
        assert!(
            PasswordHash::new(DUMMY_HASH).is_ok(),
            "the dummy hash parses"
        );
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!verify(None, SecretString::from("")).await.unwrap());
        assert!(!verify(None, SecretString::from("password")).await.unwrap());
    }

    #[test]
    fn debug_output_hides_the_hash() {
        let hash = HashedPassword::from_stored(DUMMY_HASH.to_owned());
        assert!(!format!("{hash:?}").contains("argon2id"));
    }
}
