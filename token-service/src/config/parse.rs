//! The value parsers of the settings that `clap` cannot read alone: each refusal says the
//! accepted range.

use std::time::Duration;

use secrecy::SecretString;

/// One hash per available core: more would only queue on the CPU while holding memory.
pub(super) fn default_hash_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

pub(super) fn parse_hash_concurrency(value: &str) -> Result<usize, String> {
    match value.trim().parse::<usize>() {
        Ok(count @ 1..=1024) => Ok(count),
        _ => Err("must be a whole number from 1 to 1024".to_owned()),
    }
}

pub(super) fn parse_hash_queue(value: &str) -> Result<usize, String> {
    match value.trim().parse::<usize>() {
        Ok(count @ 0..=100_000) => Ok(count),
        _ => Err("must be a whole number from 0 to 100000".to_owned()),
    }
}

pub(super) fn parse_directory_timeout(value: &str) -> Result<Duration, String> {
    let timeout = passreset_service_runtime::parse_duration(value)?;
    if timeout.is_zero() || timeout > Duration::from_secs(60) {
        return Err("must be more than 0 and at most 60s".to_owned());
    }
    Ok(timeout)
}

pub(super) fn parse_secret(value: &str) -> Result<SecretString, String> {
    if value.is_empty() {
        return Err("must not be empty (unset it for plain SHA-256 digests)".to_owned());
    }
    Ok(SecretString::from(value))
}

pub(super) fn parse_min_length(value: &str) -> Result<usize, String> {
    let length: usize = value
        .trim()
        .parse()
        .map_err(|_| "must be a whole number".to_owned())?;
    if !(8..=128).contains(&length) {
        return Err("must be between 8 and 128".to_owned());
    }
    Ok(length)
}
