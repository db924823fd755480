//! How passreset's services connect to Redis: [`connect`] opens one multiplexed
//! [`ConnectionManager`] (it reconnects by itself after Redis restarts), checks that Redis
//! answers, and fails within seconds with an error that names `REDIS_URL` and never shows its
//! password ([`redact_url`]). [`RedisUrl`] holds the setting itself, so a config's `Debug` and
//! `Display` show it redacted too.

use std::time::Duration;

pub use redis::aio::ConnectionManager;
use redis::aio::ConnectionManagerConfig;

/// How long startup waits for Redis before giving up with a clear error.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one command may take before it fails (and the caller answers "unavailable").
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why no connection could be made. Each message names `REDIS_URL`, password hidden.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL does not parse as a Redis URL.
    #[error("REDIS_URL: {url} is not a valid redis url: {reason}")]
    Url {
        /// The URL, password hidden.
        url: String,
        /// What the Redis client said.
        reason: redis::RedisError,
    },
    /// Redis refused the connection or the PING.
    #[error("REDIS_URL: redis at {url} does not answer: {reason}")]
    Unreachable {
        /// The URL, password hidden.
        url: String,
        /// What the Redis client said.
        reason: redis::RedisError,
    },
    /// Redis did not answer in time.
    #[error("REDIS_URL: redis at {url} did not answer within {seconds}s")]
    Timeout {
        /// The URL, password hidden.
        url: String,
        /// How long we waited.
        seconds: u64,
    },
}

/// Connects to Redis at `url` and checks that it answers PING. Commands time out after
/// `response_timeout` (use [`RESPONSE_TIMEOUT`] unless the connection runs blocking reads).
pub async fn connect(
    url: &str,
    response_timeout: Duration,
) -> Result<ConnectionManager, ConnectError> {
    let shown = redact_url(url);
    let client = redis::Client::open(url).map_err(|reason| ConnectError::Url {
        url: shown.clone(),
        reason,
    })?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(response_timeout))
        .set_number_of_retries(2);
    let connect = async {
        let mut connection = ConnectionManager::new_with_config(client, config).await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await?;
        Ok::<_, redis::RedisError>(connection)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(reason)) => Err(ConnectError::Unreachable { url: shown, reason }),
        Err(_) => Err(ConnectError::Timeout {
            url: shown,
            seconds: CONNECT_TIMEOUT.as_secs(),
        }),
    }
}

/// Whether Redis answers a PING within a second: what a health check reports.
pub async fn answers(connection: &ConnectionManager) -> bool {
    let mut connection = connection.clone();
    let ping = redis::cmd("PING");
    let answer = tokio::time::timeout(
        Duration::from_secs(1),
        ping.query_async::<String>(&mut connection),
    );
    matches!(answer.await, Ok(Ok(_)))
}

/// `REDIS_URL` as a setting: it may hold a password, so it formats (`Debug` and `Display`) as
/// `redis://user:***@host:port`; only [`RedisUrl::expose`] gives the URL itself, to connect.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// The URL with its password, for the Redis client only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for RedisUrl {
    fn from(url: &str) -> Self {
        Self(url.to_owned())
    }
}

impl std::str::FromStr for RedisUrl {
    type Err = std::convert::Infallible;

    /// Any text: whether it is a usable Redis URL is checked when connecting, by [`connect`].
    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(url))
    }
}

impl std::fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisUrl({self})")
    }
}

/// Query parameters that carry a password in redis-rs URLs (`redis+unix:///sock?pass=...`).
const PASSWORD_PARAMS: [&str; 2] = ["pass", "password"];

/// `url` without its password (`redis://user:***@host:port`), for messages.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        // Unparsable, so no telling where a password would be: show none of it.
        return "(unparsable url)".to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed
        .query_pairs()
        .any(|(name, _)| PASSWORD_PARAMS.contains(&name.as_ref()))
    {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let value = if PASSWORD_PARAMS.contains(&name.as_ref()) {
                    "***".to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redis_password_is_never_shown() {
        let shown = redact_url("redis://user:hunter2@redis.internal:6379/0");
        assert_eq!(shown, "redis://user:***@redis.internal:6379/0");
        let unix = redact_url("redis+unix:///run/redis.sock?db=1&pass=hunter2");
        assert!(!unix.contains("hunter2"), "{unix}");
        assert!(unix.contains("db=1"), "{unix}");
    }

    #[test]
    fn a_redis_url_setting_formats_without_its_password() {
        let url: RedisUrl = "rediss://app:hunter2@redis.internal:6380".parse().unwrap();
        for shown in [format!("{url}"), format!("{url:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(
                shown.contains("rediss://app:***@redis.internal:6380"),
                "{shown}"
            );
        }
        assert_eq!(url.expose(), "rediss://app:hunter2@redis.internal:6380");
    }

    #[tokio::test]
    async fn a_redis_that_does_not_answer_fails_fast_and_clearly() {
        // A port nobody listens on: bind one, then free it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("redis://127.0.0.1:{port}");
        let message = connect(&url, RESPONSE_TIMEOUT)
            .await
            .unwrap_err()
            .to_string();
        assert!(message.contains("REDIS_URL"), "{message}");
        assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    }

    #[tokio::test]
    async fn a_malformed_redis_url_is_refused() {
        let error = connect("http://nope", RESPONSE_TIMEOUT).await.unwrap_err();
        assert!(matches!(error, ConnectError::Url { .. }), "{error}");
    }
}
