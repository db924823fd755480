//! The gateway's upstreams: one lazily connected HTTP/2 channel each, shared by every request
//! (tonic clients are cheap clones of it), with a deadline on every call and the request's
//! trace context and the gateway's secret for that upstream in every call's metadata.

use std::time::Duration;

use passreset_grpc_security::{ClientSecret, ClientTls, Outgoing};
use passreset_proto::{
    mail::v1::mail_service_client::MailServiceClient,
    token::v1::token_service_client::TokenServiceClient,
};
use tonic::{Request, Status, service::interceptor::InterceptedService, transport::Channel};
use tonic_health::pb::health_client::HealthClient;

/// A channel whose calls carry the caller's trace context and the gateway's secret.
pub type TracedChannel = InterceptedService<Channel, Outgoing>;

/// Clients of the token and mail services.
#[derive(Debug, Clone)]
pub struct Upstreams {
    /// Issues, checks and redeems tokens.
    pub tokens: TokenServiceClient<TracedChannel>,
    /// Queues the mails.
    pub mail: MailServiceClient<TracedChannel>,
    /// The token service's gRPC health, on the same channel.
    pub health_of_tokens: HealthClient<Channel>,
    /// The mail service's gRPC health, on the same channel.
    pub health_of_mail: HealthClient<Channel>,
}

/// An upstream URL that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct InvalidUpstream {
    variable: &'static str,
    reason: String,
}

impl Upstreams {
    /// Builds the channels without connecting: the gateway starts even while an upstream is
    /// down, and answers 503 until it is up. Each upstream's calls carry its secret
    /// (`GATEWAY_TOKEN_SERVICE_SECRET`, `GATEWAY_MAIL_SERVICE_SECRET`) when there is one; an
    /// `https://` upstream is reached over `tls`.
    pub fn connect_lazy(
        token_service_url: &str,
        mail_service_url: &str,
        call_timeout: Duration,
        [token_secret, mail_secret]: [Option<ClientSecret>; 2],
        tls: &ClientTls,
    ) -> Result<Self, InvalidUpstream> {
        let tokens = channel(
            "GATEWAY_TOKEN_SERVICE_URL",
            token_service_url,
            call_timeout,
            tls,
        )?;
        let mail = channel(
            "GATEWAY_MAIL_SERVICE_URL",
            mail_service_url,
            call_timeout,
            tls,
        )?;
        Ok(Self {
            tokens: TokenServiceClient::with_interceptor(
                tokens.clone(),
                Outgoing::new(token_secret, TRACED),
            ),
            mail: MailServiceClient::with_interceptor(
                mail.clone(),
                Outgoing::new(mail_secret, TRACED),
            ),
            health_of_tokens: HealthClient::new(tokens),
            health_of_mail: HealthClient::new(mail),
        })
    }
}

/// The interceptor, as the `fn` pointer [`TracedChannel`] names.
const TRACED: fn(Request<()>) -> Result<Request<()>, Status> =
    passreset_telemetry::propagation::inject_into_metadata;

fn channel(
    variable: &'static str,
    url: &str,
    call_timeout: Duration,
    tls: &ClientTls,
) -> Result<Channel, InvalidUpstream> {
    let invalid = |reason: String| InvalidUpstream { variable, reason };
    tls.connect_lazy(url, |endpoint| {
        endpoint
            .connect_timeout(Duration::from_secs(2))
            .timeout(call_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true)
    })
    .map_err(|error| invalid(error.to_string()))
}
