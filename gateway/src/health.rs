//! Health for orchestrators: `/healthz` says the process serves HTTP (liveness); `/readyz`
//! says both upstreams answer their gRPC health check with SERVING (readiness), so a load
//! balancer sends no traffic to a gateway whose requests would only fail.

use std::{sync::Arc, time::Duration};

use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::Upstreams;

/// How long a readiness probe waits for each upstream.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// The gRPC services whose health decides readiness, by the names their servers register.
const TOKEN_SERVICE: &str = passreset_proto::token::v1::token_service_server::SERVICE_NAME;
const MAIL_SERVICE: &str = passreset_proto::mail::v1::mail_service_server::SERVICE_NAME;

/// `GET /healthz`: 200 while the process serves requests.
pub(crate) async fn healthz() -> StatusCode {
    StatusCode::OK
}

/// What `/readyz` reports: each upstream's state, never an address or an error text.
#[derive(Debug, Serialize)]
pub(crate) struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    /// The token service's health.
    token_service: &'static str,
    /// The mail service's health.
    mail_service: &'static str,
}

/// `GET /readyz`: 200 while both upstreams are SERVING, else 503.
pub(crate) async fn readyz(
    State(upstreams): State<Arc<Upstreams>>,
) -> (StatusCode, Json<Readiness>) {
    let (tokens, mail) = tokio::join!(
        probe(upstreams.health_of_tokens.clone(), TOKEN_SERVICE),
        probe(upstreams.health_of_mail.clone(), MAIL_SERVICE),
    );
    let ready = tokens == "serving" && mail == "serving";
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let readiness = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        token_service: tokens,
        mail_service: mail,
    };
    (code, Json(readiness))
}

/// One upstream's health: `serving`, `not_serving` or `unreachable`.
async fn probe(mut client: HealthClient<Channel>, service: &str) -> &'static str {
    let request = HealthCheckRequest {
        service: service.to_owned(),
    };
    match tokio::time::timeout(PROBE_TIMEOUT, client.check(request)).await {
        Ok(Ok(response)) if response.get_ref().status == ServingStatus::Serving as i32 => "serving",
        Ok(Ok(_)) => "not_serving",
        Ok(Err(status)) => {
            tracing::debug!(service, code = ?status.code(), "health probe failed");
            "unreachable"
        }
        Err(_) => "unreachable",
    }
}
