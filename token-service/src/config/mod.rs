//! The service's settings: every one a flag with an environment fallback and a default, so
//! `token-service --help` documents them all and a container needs only variables.

use std::{net::SocketAddr, path::PathBuf, str::FromStr as _, time::Duration};

use passreset_grpc_security::{
    Callers, CallersParser, ClientTlsSettings, ServerTlsSettings, TlsError,
};
use passreset_telemetry::LogFormat;
use secrecy::SecretString;

mod defaults;
mod parse;

pub use defaults::*;

use crate::{
    accounts::{password::HashLimits, policy::PasswordPolicy},
    directory::{setting::DirectorySetting, sql::HashFormat},
    limits::{Ipv6Prefix, RateSetting},
};
use parse::{
    default_hash_concurrency, parse_directory_timeout, parse_hash_concurrency, parse_hash_queue,
    parse_min_length, parse_secret,
};

/// The token service's settings.
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "token-service",
    version,
    about = "passreset token service: reset tokens and the account directory over gRPC"
)]
pub struct Config {
    /// Redis holding tokens, accounts and limits (one multiplexed connection per process).
    #[command(flatten)]
    pub redis: passreset_redis::RedisSettings,

    /// Prefix of every Redis key this service writes, so services and tests can share a Redis.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = DEFAULT_REDIS_KEY_PREFIX)]
    pub redis_key_prefix: String,

    /// Where the gRPC server listens (port 0 picks a free one).
    #[arg(long, env = "TOKEN_GRPC_ADDR", default_value = "0.0.0.0:50051")]
    pub grpc_addr: SocketAddr,

    /// Who may call, and what: comma-separated `name:perm+perm=secret` (the secret, or
    /// `sha256:<hex>` of it), or `@/path` to a file with one entry a line. Permissions: `reset`
    /// (IssueToken, CheckToken, Redeem, RevokeToken), `revoke` (RevokeToken), `verify`
    /// (VerifyPassword), `accounts` (UpsertAccount, GetAccount, ListAccounts). Empty: anyone
    /// may call, allowed on a loopback address only.
    #[arg(
        long,
        env = "TOKEN_GRPC_CALLERS",
        default_value = "",
        hide_env_values = true,
        hide_default_value = true,
        value_parser = CallersParser { variable: "TOKEN_GRPC_CALLERS", known: crate::access::PERMISSIONS }
    )]
    pub grpc_callers: Callers,

    /// Serve anyone on a non-loopback address when no callers are configured (logs a warning
    /// at every start): `true`/`false`.
    #[arg(
        long,
        env = "TOKEN_GRPC_ALLOW_ANONYMOUS",
        default_value_t = false,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub grpc_allow_anonymous: bool,

    /// Serve gRPC over TLS with this certificate chain (PEM, leaf first); needs
    /// TOKEN_GRPC_TLS_KEY. Re-read when the file changes, or on SIGHUP.
    #[arg(long, env = "TOKEN_GRPC_TLS_CERT")]
    pub grpc_tls_cert: Option<PathBuf>,

    /// The private key of TOKEN_GRPC_TLS_CERT (PEM).
    #[arg(long, env = "TOKEN_GRPC_TLS_KEY")]
    pub grpc_tls_key: Option<PathBuf>,

    /// Mutual TLS: every client must present a certificate this CA (PEM) signs.
    #[arg(long, env = "TOKEN_GRPC_TLS_CLIENT_CA")]
    pub grpc_tls_client_ca: Option<PathBuf>,

    /// Where the Prometheus `/metrics` endpoint listens, apart from the gRPC API.
    #[arg(long, env = "TOKEN_METRICS_ADDR", default_value = "0.0.0.0:9091")]
    pub metrics_addr: SocketAddr,

    /// How long a reset token stays usable, e.g. `30m`, `1h`.
    #[arg(long, env = "TOKEN_TTL", default_value = "30m", value_parser = passreset_service_runtime::parse_duration)]
    pub token_ttl: Duration,

    /// Key for HMAC-SHA256 token digests; unset, digests are plain SHA-256. With a key, a copy
    /// of Redis alone cannot even confirm a guessed token.
    #[arg(long, env = "TOKEN_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub token_secret: Option<SecretString>,

    /// Fewest characters a new password may have.
    #[arg(long, env = "TOKEN_PASSWORD_MIN_LENGTH", default_value_t = DEFAULT_PASSWORD_MIN_LENGTH, value_parser = parse_min_length)]
    pub password_min_length: usize,

    /// Whether issuing a token revokes the account's older ones (`true`/`false`).
    #[arg(
        long,
        env = "TOKEN_REVOKE_OLDER_TOKENS",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub revoke_older_tokens: bool,

    /// IssueToken calls per address, counted on a digest of the normalised address whether or
    /// not an account has it, so the answers cannot tell the two apart: `N/duration` or `off`.
    #[arg(long, env = "TOKEN_LIMIT_PER_ADDRESS", default_value = "5/1h", value_parser = RateSetting::from_str)]
    pub limit_per_address: RateSetting,

    /// IssueToken calls per client IP (a call without one is not limited per IP):
    /// `N/duration` or `off`.
    #[arg(long, env = "TOKEN_LIMIT_PER_IP", default_value = "100/15m", value_parser = RateSetting::from_str)]
    pub limit_per_ip: RateSetting,

    /// Failed CheckToken / Redeem attempts (unknown, expired or used tokens) per client IP;
    /// once they are used up, that IP may present no token, valid or not, until the budget
    /// refills: `N/duration` or `off`.
    #[arg(long, env = "TOKEN_LIMIT_FAILURES_PER_IP", default_value = "50/15m", value_parser = RateSetting::from_str)]
    pub limit_failures_per_ip: RateSetting,

    /// VerifyPassword calls per address, counted on a digest of the normalised address whether
    /// or not an account has it, from whichever IP: `N/duration` or `off`.
    #[arg(long, env = "TOKEN_LIMIT_VERIFY_PER_ADDRESS", default_value = "10/15m", value_parser = RateSetting::from_str)]
    pub limit_verify_per_address: RateSetting,

    /// VerifyPassword calls per client IP (the request's `context.client_ip`; a call without
    /// one is not limited per IP): `N/duration` or `off`.
    #[arg(long, env = "TOKEN_LIMIT_VERIFY_PER_IP", default_value = "100/15m", value_parser = RateSetting::from_str)]
    pub limit_verify_per_ip: RateSetting,

    /// How many leading bits of an IPv6 client address the per-IP limits count as one client
    /// (1 to 128): a /64 is one user's network, 128 limits each address apart. IPv4 is always
    /// per address, IPv4-mapped IPv6 too.
    #[arg(long, env = "TOKEN_LIMIT_IPV6_PREFIX", default_value_t = Ipv6Prefix::DEFAULT, value_parser = Ipv6Prefix::from_str)]
    pub limit_ipv6_prefix: Ipv6Prefix,

    /// Argon2 hashes (and verifications) that may run at once, each holding 19 MiB; the
    /// default is the number of available cores.
    #[arg(long, env = "TOKEN_HASH_CONCURRENCY", default_value_t = default_hash_concurrency(), value_parser = parse_hash_concurrency)]
    pub hash_concurrency: usize,

    /// Callers that may wait for a hashing slot; beyond them, a call answers
    /// RESOURCE_EXHAUSTED at once (and changes nothing).
    #[arg(long, env = "TOKEN_HASH_QUEUE", default_value_t = DEFAULT_HASH_QUEUE, value_parser = parse_hash_queue)]
    pub hash_queue: usize,

    /// Longest a caller waits for a hashing slot before it answers RESOURCE_EXHAUSTED, e.g.
    /// `2s`, `500ms`.
    #[arg(long, env = "TOKEN_HASH_WAIT", default_value = "2s", value_parser = passreset_service_runtime::parse_duration)]
    pub hash_wait: Duration,

    /// gRPC calls served at once; more are answered RESOURCE_EXHAUSTED at once (health
    /// checks are never refused).
    #[arg(long, env = "TOKEN_MAX_IN_FLIGHT", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_in_flight: u32,

    /// Where the accounts live:
    ///   redis             the built-in directory, in REDIS_URL (`token-service accounts ...`);
    ///   grpc://host:port  the platform's passreset.directory.v1.Directory service;
    ///   grpcs://host:port the same over TLS (TOKEN_DIRECTORY_TLS_*);
    ///   postgres://...    the platform's users table on PostgreSQL (TOKEN_DIRECTORY_*_SQL);
    ///   mysql://...       the platform's users table on MySQL or MariaDB (TOKEN_DIRECTORY_*_SQL).
    #[arg(
        long,
        env = "TOKEN_DIRECTORY",
        default_value = "redis",
        hide_env_values = true,
        verbatim_doc_comment,
        value_parser = DirectorySetting::from_str
    )]
    pub directory: DirectorySetting,

    /// Deadline of each call to the platform's directory, e.g. `2s`, `500ms`.
    #[arg(long, env = "TOKEN_DIRECTORY_TIMEOUT", default_value = "2s", value_parser = parse_directory_timeout)]
    pub directory_timeout: Duration,

    /// grpcs:// directory: the CA that signs its certificate (PEM; unset: the public roots).
    #[arg(long, env = "TOKEN_DIRECTORY_TLS_CA")]
    pub directory_tls_ca: Option<PathBuf>,

    /// grpcs:// directory: a client certificate to present, for mutual TLS (PEM); needs
    /// TOKEN_DIRECTORY_TLS_KEY.
    #[arg(long, env = "TOKEN_DIRECTORY_TLS_CERT")]
    pub directory_tls_cert: Option<PathBuf>,

    /// The private key of TOKEN_DIRECTORY_TLS_CERT (PEM).
    #[arg(long, env = "TOKEN_DIRECTORY_TLS_KEY")]
    pub directory_tls_key: Option<PathBuf>,

    /// SQL directory: the statement that finds an account by `:email` (as typed, trimmed),
    /// returning the columns `id`, `email`, optionally `locale` and `password_hash`.
    #[arg(long, env = "TOKEN_DIRECTORY_LOOKUP_SQL")]
    pub directory_lookup_sql: Option<String>,

    /// SQL directory: the statement that sets `:password_hash` on the account `:account_id`;
    /// it must change exactly one row, else it is rolled back.
    #[arg(long, env = "TOKEN_DIRECTORY_UPDATE_SQL")]
    pub directory_update_sql: Option<String>,

    /// SQL directory: the hash format the platform's login verifies: `argon2id` (PHC),
    /// `bcrypt` (`$2b$`, cost 12) or `django-pbkdf2` (`pbkdf2_sha256$...`).
    #[arg(long, env = "TOKEN_DIRECTORY_HASH", default_value = "argon2id", value_parser = HashFormat::from_str)]
    pub directory_hash: HashFormat,

    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Config {
    /// The defaults, with `redis_url`, ignoring the environment: for code that builds a
    /// config itself (tests, the `stack` binary) and wants no surprise from the caller's shell.
    /// Metrics listen on a free loopback port, so several services can share a host.
    pub fn default_for(redis_url: &str) -> Self {
        Self {
            redis: passreset_redis::RedisSettings::single(redis_url),
            redis_key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_owned(),
            grpc_addr: SocketAddr::from(([0, 0, 0, 0], 50051)),
            grpc_callers: Callers::default(),
            grpc_allow_anonymous: false,
            grpc_tls_cert: None,
            grpc_tls_key: None,
            grpc_tls_client_ca: None,
            metrics_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            token_ttl: DEFAULT_TOKEN_TTL,
            token_secret: None,
            password_min_length: DEFAULT_PASSWORD_MIN_LENGTH,
            revoke_older_tokens: true,
            limit_per_address: DEFAULT_LIMIT_PER_ADDRESS,
            limit_per_ip: DEFAULT_LIMIT_PER_IP,
            limit_failures_per_ip: DEFAULT_LIMIT_FAILURES_PER_IP,
            limit_verify_per_address: DEFAULT_LIMIT_VERIFY_PER_ADDRESS,
            limit_verify_per_ip: DEFAULT_LIMIT_VERIFY_PER_IP,
            limit_ipv6_prefix: Ipv6Prefix::DEFAULT,
            hash_concurrency: default_hash_concurrency(),
            hash_queue: DEFAULT_HASH_QUEUE,
            hash_wait: DEFAULT_HASH_WAIT,
            max_in_flight: 1024,
            directory: DirectorySetting::Redis,
            directory_timeout: DEFAULT_DIRECTORY_TIMEOUT,
            directory_tls_ca: None,
            directory_tls_cert: None,
            directory_tls_key: None,
            directory_lookup_sql: None,
            directory_update_sql: None,
            directory_hash: HashFormat::Argon2id,
            log_format: LogFormat::Text,
        }
    }

    /// The policy every new password meets, set by a reset or by an administrator alike.
    pub(crate) fn password_policy(&self) -> PasswordPolicy {
        PasswordPolicy {
            min_length: self.password_min_length,
        }
    }

    /// The gRPC server's TLS files, `None` for plaintext; a certificate without its key (or
    /// the reverse) is refused, naming both variables.
    pub fn grpc_tls(&self) -> Result<Option<ServerTlsSettings>, TlsError> {
        ServerTlsSettings::from_paths(
            self.grpc_tls_cert.as_deref(),
            self.grpc_tls_key.as_deref(),
            self.grpc_tls_client_ca.as_deref(),
            TLS_VARIABLES,
        )
    }

    /// The TLS of a `grpcs://` directory; a certificate without its key (or the reverse) is
    /// refused, naming both variables.
    pub fn directory_tls(&self) -> Result<ClientTlsSettings, TlsError> {
        ClientTlsSettings::from_paths(
            self.directory_tls_ca.as_deref(),
            self.directory_tls_cert.as_deref(),
            self.directory_tls_key.as_deref(),
            DIRECTORY_TLS_VARIABLES,
        )
    }

    /// How the argon2 work is bounded.
    pub(crate) fn hash_limits(&self) -> HashLimits {
        HashLimits {
            concurrency: self.hash_concurrency,
            queue: self.hash_queue,
            wait: self.hash_wait,
        }
    }
}

#[cfg(test)]
mod tests;
