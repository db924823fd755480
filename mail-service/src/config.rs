//! The service's settings: every one a flag with an environment fallback and a default, so
//! `mail-service --help` documents them all and a container needs only variables.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use lettre::message::Mailbox;
use passreset_grpc_security::{
    Callers, CallersParser, ClientSecret, ClientTlsSettings, SecretParser, ServerTlsSettings,
    TlsError, TlsVariables,
};
use passreset_telemetry::LogFormat;

use crate::transport::TransportUrl;

/// Default Redis, for a laptop.
pub const DEFAULT_REDIS_URL: &str = passreset_redis::DEFAULT_URL;
/// Default key prefix, shared with token-service so one Redis holds all of passreset.
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "passreset:";
/// Default transport: an outbox directory of `.eml` files, so a laptop needs no SMTP server.
pub const DEFAULT_TRANSPORT: &str = "file://./outbox";
/// Default sender.
pub const DEFAULT_FROM: &str = "passreset <no-reply@localhost>";

/// The variables of the gRPC server's TLS files, for error lines.
const SERVER_TLS: TlsVariables = TlsVariables {
    cert: "MAIL_GRPC_TLS_CERT",
    key: "MAIL_GRPC_TLS_KEY",
    ca: "MAIL_GRPC_TLS_CLIENT_CA",
};

/// The variables of the token service client's TLS files.
const CLIENT_TLS: TlsVariables = TlsVariables {
    cert: "MAIL_GRPC_TLS_CERT",
    key: "MAIL_GRPC_TLS_KEY",
    ca: "MAIL_GRPC_TLS_CA",
};

/// The mail service's settings.
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "mail-service",
    version,
    about = "passreset mail service: a durable mail queue on Redis Streams, delivered over SMTP"
)]
pub struct Config {
    /// Redis holding the queue (one multiplexed connection, plus one per worker for blocking
    /// reads).
    #[command(flatten)]
    pub redis: passreset_redis::RedisSettings,

    /// Prefix of every Redis key this service writes, so services and tests can share a Redis.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = DEFAULT_REDIS_KEY_PREFIX)]
    pub redis_key_prefix: String,

    /// Where the gRPC server listens (port 0 picks a free one).
    #[arg(long, env = "MAIL_GRPC_ADDR", default_value = "0.0.0.0:50052")]
    pub grpc_addr: SocketAddr,

    /// Serve gRPC over TLS with this certificate chain (PEM, leaf first); needs
    /// MAIL_GRPC_TLS_KEY. Re-read when the file changes, or on SIGHUP. Also the certificate
    /// presented to an `https://` token service that asks for one (mutual TLS).
    #[arg(long, env = "MAIL_GRPC_TLS_CERT")]
    pub grpc_tls_cert: Option<PathBuf>,

    /// The private key of MAIL_GRPC_TLS_CERT (PEM).
    #[arg(long, env = "MAIL_GRPC_TLS_KEY")]
    pub grpc_tls_key: Option<PathBuf>,

    /// Mutual TLS: every client must present a certificate this CA (PEM) signs.
    #[arg(long, env = "MAIL_GRPC_TLS_CLIENT_CA")]
    pub grpc_tls_client_ca: Option<PathBuf>,

    /// The CA (PEM) that signs an `https://` MAIL_TOKEN_SERVICE_URL's certificate; unset, the
    /// public web roots.
    #[arg(long, env = "MAIL_GRPC_TLS_CA")]
    pub grpc_tls_ca: Option<PathBuf>,

    /// Where the Prometheus `/metrics` endpoint listens, apart from the gRPC API.
    #[arg(long, env = "MAIL_METRICS_ADDR", default_value = "0.0.0.0:9092")]
    pub metrics_addr: SocketAddr,

    /// The token service, told to revoke the token of a reset mail that can never be delivered.
    #[arg(
        long,
        env = "MAIL_TOKEN_SERVICE_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    pub token_service_url: String,

    /// The mail service's bearer secret for the token service (its `TOKEN_GRPC_CALLERS` entry
    /// needs `revoke`), or `@/path` to a file holding it. Unset: calls carry no secret.
    #[arg(long, env = "MAIL_TOKEN_SERVICE_SECRET", hide_env_values = true, value_parser = SecretParser { variable: "MAIL_TOKEN_SERVICE_SECRET" })]
    pub token_service_secret: Option<ClientSecret>,

    /// Who may call, and what: comma-separated `name:perm+perm=secret` (the secret, or
    /// `sha256:<hex>` of it), or `@/path` to a file with one entry a line. Permission: `send`
    /// (Enqueue, GetStatus). Empty: anyone may call, allowed on a loopback address only.
    #[arg(
        long,
        env = "MAIL_GRPC_CALLERS",
        default_value = "",
        hide_env_values = true,
        hide_default_value = true,
        value_parser = CallersParser { variable: "MAIL_GRPC_CALLERS", known: crate::access::PERMISSIONS }
    )]
    pub grpc_callers: Callers,

    /// Serve anyone on a non-loopback address when no callers are configured (logs a warning
    /// at every start): `true`/`false`.
    #[arg(
        long,
        env = "MAIL_GRPC_ALLOW_ANONYMOUS",
        default_value_t = false,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub grpc_allow_anonymous: bool,

    /// How mail leaves: `smtp://[user:pass@]host:port?tls=none|starttls|tls` or `file://DIR`
    /// (an outbox of .eml files).
    #[arg(long, env = "MAIL_TRANSPORT", default_value = DEFAULT_TRANSPORT, hide_env_values = true)]
    pub transport: TransportUrl,

    /// The sender of every mail, e.g. `Acme <no-reply@acme.example>`; its domain also names
    /// the Message-IDs.
    #[arg(long, env = "MAIL_FROM", default_value = DEFAULT_FROM)]
    pub from: Mailbox,

    /// How many mails are sent at the same time.
    #[arg(long, env = "MAIL_WORKERS", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,

    /// How long a mail may sit unacknowledged with a worker (say, one that crashed) before
    /// another worker takes it over, e.g. `30s`.
    #[arg(long, env = "MAIL_CLAIM_IDLE", default_value = "30s", value_parser = passreset_service_runtime::parse_duration)]
    pub claim_idle: Duration,

    /// A directory laid out like the built-in templates (`<language>/<kind>.{subject,txt,html}`,
    /// languages `en`, `sv`, `fi`) whose files replace the built-in ones of the same path.
    #[arg(long, env = "MAIL_TEMPLATES_DIR")]
    pub templates_dir: Option<std::path::PathBuf>,

    /// Mails waiting (queued, being sent or waiting to retry) at which new mail is refused
    /// with RESOURCE_EXHAUSTED (the gateway answers 503 with Retry-After); 0 for no limit.
    #[arg(long, env = "MAIL_QUEUE_MAX", default_value_t = 10_000)]
    pub queue_max: u64,

    /// Delivery attempts before a mail that keeps failing transiently is dead-lettered.
    #[arg(long, env = "MAIL_MAX_ATTEMPTS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,

    /// The wait before the first retry; each next one doubles it (capped at 15m), with jitter.
    #[arg(long, env = "MAIL_RETRY_BASE", default_value = "30s", value_parser = passreset_service_runtime::parse_duration)]
    pub retry_base: Duration,

    /// Entries the dead-letter stream keeps at most (approximately: Redis trims whole nodes);
    /// the oldest go first.
    #[arg(long, env = "MAIL_DEAD_MAX", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub dead_max: u64,

    /// Whether an address with no account gets a notice saying so (`true`/`false`). Off by
    /// default: such mail could be used to bother strangers.
    #[arg(
        long,
        env = "MAIL_UNKNOWN_ACCOUNT_NOTICES",
        default_value_t = false,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub unknown_account_notices: bool,

    /// gRPC calls served at once; more are answered RESOURCE_EXHAUSTED at once (health
    /// checks are never refused).
    #[arg(long, env = "MAIL_MAX_IN_FLIGHT", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_in_flight: u32,

    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Config {
    /// The gRPC server's TLS files, `None` for plaintext; a certificate without its key (or
    /// the reverse) is refused, naming both variables.
    pub fn grpc_tls(&self) -> Result<Option<ServerTlsSettings>, TlsError> {
        ServerTlsSettings::from_paths(
            self.grpc_tls_cert.as_deref(),
            self.grpc_tls_key.as_deref(),
            self.grpc_tls_client_ca.as_deref(),
            SERVER_TLS,
        )
    }

    /// The TLS of the token service client (its own certificate is the server's).
    pub fn token_service_tls(&self) -> Result<ClientTlsSettings, TlsError> {
        ClientTlsSettings::from_paths(
            self.grpc_tls_ca.as_deref(),
            self.grpc_tls_cert.as_deref(),
            self.grpc_tls_key.as_deref(),
            CLIENT_TLS,
        )
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn the_defaults_suit_a_laptop() {
        let config = Config::try_parse_from(["mail-service"]).unwrap();
        assert_eq!(config.redis_key_prefix, "passreset:");
        assert_eq!(config.grpc_addr.port(), 50052);
        assert_eq!(config.transport.to_string(), "file://./outbox");
        assert_eq!(config.from.email.domain(), "localhost");
        assert_eq!(config.workers, 4);
        assert_eq!(config.claim_idle, Duration::from_secs(30));
        assert_eq!(config.max_attempts, 10);
        assert_eq!(config.dead_max, 100_000);
        assert!(!config.unknown_account_notices);
    }

    #[test]
    fn flags_override_the_defaults() {
        let config = Config::try_parse_from([
            "mail-service",
            "--transport",
            "smtp://mailer:s3cret@smtp.example.com:587?tls=starttls",
            "--from",
            "Acme <no-reply@acme.example>",
            "--workers",
            "8",
            "--claim-idle",
            "1m",
            "--unknown-account-notices",
            "true",
        ])
        .unwrap();
        assert_eq!(config.from.email.domain(), "acme.example");
        assert_eq!(config.workers, 8);
        assert_eq!(config.claim_idle, Duration::from_secs(60));
        assert!(config.unknown_account_notices);
    }

    #[test]
    fn bad_values_are_refused_at_start() {
        for args in [
            ["mail-service", "--workers", "0"],
            ["mail-service", "--from", "not an address"],
            ["mail-service", "--transport", "ftp://example.com"],
            ["mail-service", "--claim-idle", "soon"],
            ["mail-service", "--dead-max", "0"],
            ["mail-service", "--dead-max", "many"],
        ] {
            assert!(Config::try_parse_from(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn the_smtp_password_never_shows_in_debug_output() {
        let config = Config::try_parse_from([
            "mail-service",
            "--transport",
            "smtp://mailer:hunter2-secret@smtp.example.com:587?tls=starttls",
        ])
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
    }
}
