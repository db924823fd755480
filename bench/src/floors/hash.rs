//! argon2id hashes with the token service's parameters: one alone, and one per core at once.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version, password_hash::SaltString};

/// OWASP's argon2id recommendation, as `token-service/src/accounts/password/argon2id.rs` uses
/// it: 19 MiB, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// The median time of `count` hashes, each run alone on a blocking thread.
pub async fn argon2id_hash_time(count: usize) -> anyhow::Result<Duration> {
    tokio::task::spawn_blocking(move || {
        let mut times = hash_times(count)?;
        times.sort();
        Ok(times[times.len() / 2])
    })
    .await?
}

/// Hashes per second of `threads` threads hashing `count` times each, all at once: what the
/// cores give when every one hashes (two 19 MiB hashes at once may not fit the caches that one
/// alone fits).
pub async fn argon2id_parallel_rate(threads: usize, count: usize) -> anyhow::Result<f64> {
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let hashed = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads.max(1))
                .map(|_| scope.spawn(|| hash_times(count).map(|times| times.len())))
                .collect();
            workers
                .into_iter()
                .map(|worker| {
                    worker
                        .join()
                        .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))?
                })
                .sum::<anyhow::Result<usize>>()
        })?;
        Ok(hashed as f64 / started.elapsed().as_secs_f64())
    })
    .await?
}

/// The time of each of `count` hashes (at least one), one after the other on this thread.
fn hash_times(count: usize) -> anyhow::Result<Vec<Duration>> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?;
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(b"bench-salt-16byt")
        .map_err(|error| anyhow::anyhow!("salt: {error}"))?;
    (0..count.max(1))
        .map(|_| {
            let started = Instant::now();
            hasher
                .hash_password(b"a long new passphrase for the bench", &salt)
                .map_err(|error| anyhow::anyhow!("hash: {error}"))?;
            Ok(started.elapsed())
        })
        .collect()
}
