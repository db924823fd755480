//! persona's error shape:
//! `{"http_code": 400, "http_status": "Bad Request", "<error_name>": {"message", "description"}}`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

use crate::ApiError;

/// An [`ApiError`] as persona clients expect to see it.
#[derive(Debug)]
pub(crate) struct PersonaError(pub ApiError);

impl From<ApiError> for PersonaError {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

impl PersonaError {
    /// The status, the error's name (the key of its object) and its description.
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match &self.0 {
            ApiError::InvalidRequest(_) | ApiError::InvalidEmail => (
                StatusCode::BAD_REQUEST,
                "invalid_request_body",
                "The request body is not valid for this operation.",
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                "The request body exceeds the size this service accepts.",
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with Content-Type: application/json.",
            ),
            ApiError::WeakPassword(_) => (
                StatusCode::BAD_REQUEST,
                "invalid_password",
                "The new password does not meet the password policy; the token is still valid.",
            ),
            ApiError::TokenUnknown => (
                StatusCode::FORBIDDEN,
                "invalid_token",
                "The token is not valid. Request a new password reset link.",
            ),
            ApiError::TokenExpired => (
                StatusCode::FORBIDDEN,
                "expired_token",
                "The token has expired. Request a new password reset link.",
            ),
            ApiError::TokenSpent => (
                StatusCode::FORBIDDEN,
                "used_token",
                "The token has already been used. Request a new password reset link.",
            ),
            ApiError::TokenInUse => (
                StatusCode::BAD_REQUEST,
                "token_in_use",
                "A reset with this token is in progress. Try again after the time in Retry-After.",
            ),
            ApiError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many requests. Try again after the time in Retry-After.",
            ),
            ApiError::Unavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "The service is temporarily unavailable. Try again later.",
            ),
            ApiError::Timeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "gateway_timeout",
                "The service did not answer in time. Try again later.",
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Something went wrong on our side.",
            ),
        }
    }
}

/// The body of every persona error. The error's name is the key of its detail object, e.g.
/// `{"http_code": 400, "http_status": "Bad Request", "invalid_request_body": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    as = PersonaError,
    example = json!({
        "http_code": 400,
        "http_status": "Bad Request",
        "invalid_request_body": {
            "message": "password and confirmPassword do not match",
            "description": "The request body is not valid for this operation."
        }
    })
)]
pub(crate) struct PersonaErrorBody {
    /// The HTTP status code, repeated.
    http_code: u16,
    /// The HTTP status text.
    http_status: &'static str,
    /// One entry: the error's name and its detail.
    #[serde(flatten)]
    #[schema(additional_properties)]
    error: BTreeMap<&'static str, PersonaErrorDetail>,
}

/// What went wrong, for a person.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PersonaErrorDetail {
    /// This occurrence: what was wrong with this request.
    message: String,
    /// The error in general, and what to do about it.
    description: &'static str,
}

impl IntoResponse for PersonaError {
    fn into_response(self) -> Response {
        let (status, name, description) = self.parts();
        let detail = PersonaErrorDetail {
            message: self.0.to_string(),
            description,
        };
        let body = PersonaErrorBody {
            http_code: status.as_u16(),
            http_status: status.canonical_reason().unwrap_or_default(),
            error: BTreeMap::from([(name, detail)]),
        };
        let mut response = (status, Json(body)).into_response();
        self.0.set_retry_after(&mut response);
        response
    }
}
