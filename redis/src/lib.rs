//! How passreset's services connect to Redis: [`connect`] opens one multiplexed, self-healing
//! [`RedisConnection`] (to one server or to a Redis Cluster, over TLS or not, as an ACL user or
//! not), checks that Redis answers, and fails within seconds with an error that names the
//! setting at fault and never shows a password ([`redact_url`]).
//!
//! - `settings.rs`: [`RedisSettings`], the clap options every service flattens into its config
//!   (`REDIS_URL`, `REDIS_CLUSTER`, `REDIS_TLS_*`, `REDIS_PASSWORD_FILE`);
//! - `url.rs`: [`RedisUrl`], the URL as a value whose `Debug` and `Display` hide the password;
//! - `connection.rs`: [`RedisConnection`], single node or cluster behind one type;
//! - `connect.rs`: [`connect`], [`answers`] and [`ConnectError`];
//! - `scan.rs`: [`scan_page`], SCAN over every master of a cluster.

mod connect;
mod connection;
mod scan;
mod settings;
mod url;

pub use connect::{CONNECT_TIMEOUT, ConnectError, RESPONSE_TIMEOUT, answers, connect};
pub use connection::RedisConnection;
pub use scan::{ScanError, ScanPage, scan_page};
pub use settings::{DEFAULT_URL, RedisSettings};
pub use url::{RedisUrl, redact_url};

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_redis_that_does_not_answer_fails_fast_and_clearly() {
        // A port nobody listens on: bind one, then free it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("redis://127.0.0.1:{port}");
        let message = connect(&RedisSettings::single(&url), RESPONSE_TIMEOUT)
            .await
            .unwrap_err()
            .to_string();
        assert!(message.contains("REDIS_URL"), "{message}");
        assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    }

    #[tokio::test]
    async fn a_malformed_redis_url_is_refused() {
        let error = connect(&RedisSettings::single("http://nope"), RESPONSE_TIMEOUT)
            .await
            .unwrap_err();
        assert!(matches!(error, ConnectError::Url { .. }), "{error}");
    }
}
