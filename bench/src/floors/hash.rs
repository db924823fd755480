//! One argon2id hash with the token service's parameters, timed on one core.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version, password_hash::SaltString};

/// OWASP's argon2id recommendation, as `token-service/src/accounts/password.rs` uses it:
/// 19 MiB, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// The median time of `count` hashes, each run alone on a blocking thread.
pub async fn argon2id_hash_time(count: usize) -> anyhow::Result<Duration> {
    tokio::task::spawn_blocking(move || {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
            .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?;
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::encode_b64(b"bench-salt-16byt")
            .map_err(|error| anyhow::anyhow!("salt: {error}"))?;
        let mut times = Vec::with_capacity(count);
        for _ in 0..count.max(1) {
            let started = Instant::now();
            hasher
                .hash_password(b"a long new passphrase for the bench", &salt)
                .map_err(|error| anyhow::anyhow!("hash: {error}"))?;
            times.push(started.elapsed());
        }
        times.sort();
        Ok(times[times.len() / 2])
    })
    .await?
}
