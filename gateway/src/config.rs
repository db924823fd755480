//! Gateway settings: flags with environment fallbacks, checked once at start.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use passreset_grpc_security::{
    ClientSecret, ClientTlsSettings, SecretParser, TlsError, TlsVariables,
};
use passreset_service_runtime::parse_duration;
use passreset_telemetry::LogFormat;
use tokio::sync::Semaphore;

use crate::{api_keys::ApiKeys, client_ip::TrustedProxies};

/// The whole command line: the gateway's settings and an optional subcommand.
#[derive(Debug, clap::Parser)]
#[command(
    name = "gateway",
    version,
    about = "passreset REST gateway (persona and Equinix Metal APIs)",
    long_about = "Serves the REST APIs when run without a subcommand. Settings go before the \
                  subcommand or in the environment."
)]
pub struct Cli {
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The gateway's settings.
    #[command(flatten)]
    pub config: Config,
}

/// What to do instead of serving.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Exit 0 if the gateway at GATEWAY_HTTP_ADDR answers `/healthz` (for container health
    /// checks).
    Healthcheck,
}

/// Everything the gateway needs to know, from flags or `GATEWAY_*` variables.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "gateway",
    version,
    about = "passreset REST gateway (persona and Equinix Metal APIs)"
)]
pub struct Config {
    /// Address the REST APIs listen on.
    #[arg(long, env = "GATEWAY_HTTP_ADDR", default_value = "0.0.0.0:8080")]
    pub http_addr: SocketAddr,

    /// Address of the Prometheus `/metrics` endpoint, apart from the public API.
    #[arg(long, env = "GATEWAY_METRICS_ADDR", default_value = "0.0.0.0:9090")]
    pub metrics_addr: SocketAddr,

    /// The token service's gRPC endpoint.
    #[arg(
        long,
        env = "GATEWAY_TOKEN_SERVICE_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    pub token_service_url: String,

    /// The mail service's gRPC endpoint.
    #[arg(
        long,
        env = "GATEWAY_MAIL_SERVICE_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    pub mail_service_url: String,

    /// The gateway's bearer secret for the token service (its `TOKEN_GRPC_CALLERS` entry needs
    /// `reset`), or `@/path` to a file holding it. Unset: calls carry no secret.
    #[arg(long, env = "GATEWAY_TOKEN_SERVICE_SECRET", hide_env_values = true, value_parser = SecretParser { variable: "GATEWAY_TOKEN_SERVICE_SECRET" })]
    pub token_service_secret: Option<ClientSecret>,

    /// The gateway's bearer secret for the mail service (its `MAIL_GRPC_CALLERS` entry needs
    /// `send`), or `@/path` to a file holding it. Unset: calls carry no secret.
    #[arg(long, env = "GATEWAY_MAIL_SERVICE_SECRET", hide_env_values = true, value_parser = SecretParser { variable: "GATEWAY_MAIL_SERVICE_SECRET" })]
    pub mail_service_secret: Option<ClientSecret>,

    /// The CA (PEM) that signs the certificates of `https://` upstreams; unset, the public web
    /// roots.
    #[arg(long, env = "GATEWAY_GRPC_TLS_CA")]
    pub grpc_tls_ca: Option<PathBuf>,

    /// The certificate chain (PEM) the gateway presents to `https://` upstreams that ask for
    /// one (mutual TLS); needs GATEWAY_GRPC_TLS_KEY.
    #[arg(long, env = "GATEWAY_GRPC_TLS_CERT")]
    pub grpc_tls_cert: Option<PathBuf>,

    /// The private key of GATEWAY_GRPC_TLS_CERT (PEM).
    #[arg(long, env = "GATEWAY_GRPC_TLS_KEY")]
    pub grpc_tls_key: Option<PathBuf>,

    /// The link put in reset mails; `{token}` is replaced by the token. Never taken from the
    /// request, so a forged Host header cannot redirect a reset.
    #[arg(
        long,
        env = "GATEWAY_RESET_URL",
        default_value = "http://localhost:8080/reset?token={token}",
        value_parser = ResetUrl::parse
    )]
    pub reset_url: ResetUrl,

    /// API keys for the Equinix Metal surface: comma-separated `name=secret` or
    /// `name=sha256:<hex>`. Only digests are kept; the name goes into logs and audit.
    #[arg(
        long,
        env = "GATEWAY_API_KEYS",
        default_value = "",
        hide_env_values = true,
        hide_default_value = true
    )]
    pub api_keys: ApiKeys,

    /// Proxies whose `X-Forwarded-For` is believed: comma-separated CIDRs or addresses. Empty:
    /// the socket peer is the client.
    #[arg(long, env = "GATEWAY_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,

    /// The least time a reset request (persona forgot, Metal create) takes to answer, so the
    /// answer's timing does not tell an address with an account from one without (the work
    /// behind the two differs by a fraction of a millisecond). `0s` turns it off.
    #[arg(long, env = "GATEWAY_FORGOT_MIN_DURATION", default_value = "100ms", value_parser = parse_floor)]
    pub forgot_min_duration: Duration,

    /// How long one call to an upstream may take before the client gets a 504. A whole
    /// request may take two such calls, the reset floor and a second more (then it is a 504).
    #[arg(long, env = "GATEWAY_UPSTREAM_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub upstream_timeout: Duration,

    /// Requests served at once across the REST surfaces; more are answered 503 with
    /// `Retry-After` at once (`/healthz`, `/readyz` and `/openapi.json` are never refused).
    #[arg(long, env = "GATEWAY_MAX_IN_FLIGHT", default_value_t = 1024, value_parser = parse_max_in_flight)]
    pub max_in_flight: usize,

    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Config {
    /// The TLS of the upstream channels (used for `https://` URLs).
    pub fn grpc_tls(&self) -> Result<ClientTlsSettings, TlsError> {
        ClientTlsSettings::from_paths(
            self.grpc_tls_ca.as_deref(),
            self.grpc_tls_cert.as_deref(),
            self.grpc_tls_key.as_deref(),
            TlsVariables {
                cert: "GATEWAY_GRPC_TLS_CERT",
                key: "GATEWAY_GRPC_TLS_KEY",
                ca: "GATEWAY_GRPC_TLS_CA",
            },
        )
    }

    /// The longest a request may take: the most upstream calls one makes (two: the token
    /// service, then the mail service), each within `upstream_timeout`, plus the reset floor
    /// and a second for the gateway's own work. A flow whose call times out answers 504 itself
    /// first; this bounds everything else, such as a body that never arrives.
    pub fn request_timeout(&self) -> Duration {
        self.upstream_timeout * 2 + self.forgot_min_duration + Duration::from_secs(1)
    }
}

fn parse_max_in_flight(value: &str) -> Result<usize, String> {
    match value.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(max) if max > Semaphore::MAX_PERMITS => {
            Err(format!("must be at most {}", Semaphore::MAX_PERMITS))
        }
        Ok(max) => Ok(max),
        Err(error) => Err(error.to_string()),
    }
}

/// A duration that may be zero (`0s` for off), at most ten seconds.
fn parse_floor(value: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(value.trim()).map_err(|error| error.to_string())?;
    if duration > Duration::from_secs(10) {
        return Err("must be at most 10s".to_owned());
    }
    Ok(duration)
}

/// The reset link template: an absolute http(s) URL with one `{token}` placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetUrl(String);

const PLACEHOLDER: &str = "{token}";

impl ResetUrl {
    /// Accepts an absolute `http`/`https` URL that holds `{token}` exactly once.
    pub fn parse(template: &str) -> Result<Self, String> {
        let template = template.trim();
        match template.matches(PLACEHOLDER).count() {
            0 => return Err(format!("must contain {PLACEHOLDER}")),
            1 => {}
            _ => return Err(format!("must contain {PLACEHOLDER} only once")),
        }
        let probe = url::Url::parse(&template.replace(PLACEHOLDER, "token"))
            .map_err(|error| format!("is not an absolute URL: {error}"))?;
        if !matches!(probe.scheme(), "http" | "https") {
            return Err("must be an http or https URL".to_owned());
        }
        Ok(Self(template.to_owned()))
    }

    /// The link for one token, the token percent-encoded for where it stands.
    pub(crate) fn link_for(&self, token: &str) -> String {
        let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        self.0.replace(PLACEHOLDER, &encoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_url_puts_the_token_where_the_placeholder_stands() {
        let url = ResetUrl::parse("https://example.test/reset?token={token}&x=1").unwrap();
        assert_eq!(
            url.link_for("prt_ab-c"),
            "https://example.test/reset?token=prt_ab-c&x=1"
        );
    }

    #[test]
    fn a_reset_url_without_a_placeholder_or_scheme_is_refused() {
        assert!(ResetUrl::parse("https://example.test/reset").is_err());
        assert!(ResetUrl::parse("/reset?token={token}").is_err());
        assert!(ResetUrl::parse("ftp://example.test/{token}").is_err());
        assert!(ResetUrl::parse("https://x.test/{token}/{token}").is_err());
    }
}
