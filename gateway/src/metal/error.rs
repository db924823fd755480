//! Equinix Metal's `Error` model: `{"error": "...", "errors": ["..."]}`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{ApiError, locale::Language};

/// An error as Metal clients expect to see it.
#[derive(Debug)]
pub(crate) enum MetalError {
    /// No or a wrong credential in `X-Auth-Token`: 401 with this message.
    Unauthorized(&'static str),
    /// A flow's error.
    Api(ApiError),
}

impl From<ApiError> for MetalError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

/// Equinix Metal's `Error` model.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub(crate) struct MetalErrorBody {
    /// A description of the error that caused the request to fail.
    error: String,
    /// A list of errors that contributed to the request failing.
    errors: Vec<String>,
}

impl IntoResponse for MetalError {
    fn into_response(self) -> Response {
        let (status, error, errors) = match &self {
            Self::Unauthorized(message) => (
                StatusCode::UNAUTHORIZED,
                (*message).to_owned(),
                vec![(*message).to_owned()],
            ),
            // One entry per problem, so a client can list them.
            Self::Api(error @ ApiError::PasswordRefused(problems)) => (
                status_of(error),
                error.to_string(),
                problems
                    .iter()
                    .map(|problem| problem.describe(Language::English))
                    .collect(),
            ),
            Self::Api(error) => (status_of(error), error.to_string(), vec![error.to_string()]),
        };
        let body = MetalErrorBody { error, errors };
        let response = (status, Json(body)).into_response();
        match &self {
            Self::Api(error) => error.respond(response),
            Self::Unauthorized(_) => response,
        }
    }
}

/// Metal documents 401 for credential problems and 422 for bad input.
fn status_of(error: &ApiError) -> StatusCode {
    match error {
        ApiError::InvalidRequest(_) | ApiError::InvalidEmail | ApiError::PasswordRefused(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        // The reset token is this surface's credential.
        ApiError::TokenUnknown | ApiError::TokenExpired | ApiError::TokenSpent => {
            StatusCode::UNAUTHORIZED
        }
        ApiError::TokenInUse => StatusCode::CONFLICT,
        ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        ApiError::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
