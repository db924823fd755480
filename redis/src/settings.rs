//! The Redis settings every service takes: one clap struct flattened into each service's
//! config, so every `--help` shows the same lines and every service reads the same variables.

use std::path::PathBuf;

use crate::RedisUrl;

/// Default Redis, for a laptop.
pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

/// Where Redis is and how to prove who we are to it.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct RedisSettings {
    /// Redis: `redis://host:port`, `rediss://` for TLS, `user:password@` for an ACL user; with
    /// REDIS_CLUSTER, comma-separated seed nodes. Shown with its password hidden.
    #[arg(
        id = "redis_url",
        long = "redis-url",
        env = "REDIS_URL",
        default_value = DEFAULT_URL,
        hide_env_values = true
    )]
    pub url: RedisUrl,

    /// Whether REDIS_URL lists seed nodes of a Redis Cluster (`true`/`false`).
    #[arg(
        id = "redis_cluster",
        long = "redis-cluster",
        env = "REDIS_CLUSTER",
        default_value_t = false,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub cluster: bool,

    /// PEM file of the CA that signs the Redis server certificate (`rediss://` only); unset,
    /// the system's trusted roots.
    #[arg(id = "redis_tls_ca", long = "redis-tls-ca", env = "REDIS_TLS_CA")]
    pub tls_ca: Option<PathBuf>,

    /// PEM file of a client certificate, for a Redis with `tls-auth-clients yes` (needs
    /// REDIS_TLS_KEY).
    #[arg(
        id = "redis_tls_cert",
        long = "redis-tls-cert",
        env = "REDIS_TLS_CERT",
        requires = "redis_tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM file of the client certificate's private key (needs REDIS_TLS_CERT).
    #[arg(
        id = "redis_tls_key",
        long = "redis-tls-key",
        env = "REDIS_TLS_KEY",
        requires = "redis_tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// File holding the Redis password (a mounted secret), used instead of the one in
    /// REDIS_URL; a trailing newline is ignored.
    #[arg(
        id = "redis_password_file",
        long = "redis-password-file",
        env = "REDIS_PASSWORD_FILE"
    )]
    pub password_file: Option<PathBuf>,
}

impl RedisSettings {
    /// One Redis at `url`, nothing else set: for code that builds settings itself.
    pub fn single(url: &str) -> Self {
        Self {
            url: url.into(),
            cluster: false,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
            password_file: None,
        }
    }

    /// A Redis Cluster reached through `seeds` (comma-separated URLs).
    pub fn cluster(seeds: &str) -> Self {
        Self {
            cluster: true,
            ..Self::single(seeds)
        }
    }
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self::single(DEFAULT_URL)
    }
}
