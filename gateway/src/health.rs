//! Liveness for orchestrators: the process answers HTTP.

use axum::http::StatusCode;

/// `GET /healthz`: 200 while the process serves requests.
pub(crate) async fn healthz() -> StatusCode {
    StatusCode::OK
}
