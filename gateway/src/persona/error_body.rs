//! persona's error bodies as its published models (OpenAPI 1.3.0) name and spell them, with
//! the members this gateway adds; `error.rs` fills them in.

use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// persona's 400 (`InlineResponse400`), with the members this gateway adds.
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    as = PersonaBadRequest,
    example = json!({
        "http_code": 400,
        "http_status": "Bad request",
        "invalid_request_body": {
            "message": "the reset token has expired",
            "description": "Could not parse the request body."
        },
        "expired_token": {
            "message": "the reset token has expired",
            "description": "The token has expired. Request a new password reset link."
        }
    })
)]
pub(crate) struct PersonaBadRequest {
    /// Always 400.
    #[schema(minimum = 400, maximum = 400)]
    pub(super) http_code: u16,
    /// Always `Bad request`.
    pub(super) http_status: BadRequestStatus,
    /// What was wrong; `description` is always the same sentence.
    pub(super) invalid_request_body: InvalidRequestBody,
    /// When the new password cannot be used: each problem under its field (`password`,
    /// `confirmPassword`), in the request's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) invalid_form_fields: Option<InvalidFormFields>,
    /// The reason, as an extra member named for it: one of `invalid_email`,
    /// `password_mismatch`, `invalid_password`, `invalid_token`, `expired_token`, `used_token`,
    /// `token_in_use`, each `{"message", "description"}`.
    #[serde(flatten)]
    #[schema(additional_properties)]
    pub(super) reason: BTreeMap<String, PersonaErrorDetail>,
}

/// `http_status` of a 400.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) enum BadRequestStatus {
    #[serde(rename = "Bad request")]
    BadRequest,
}

/// `invalid_request_body` (`InlineResponse400InvalidRequestBody`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InvalidRequestBody {
    /// This occurrence: what was wrong with this request.
    pub(super) message: String,
    /// Always `Could not parse the request body.`
    pub(super) description: InvalidRequestBodyDescription,
}

/// `invalid_request_body.description`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) enum InvalidRequestBodyDescription {
    #[serde(rename = "Could not parse the request body.")]
    CouldNotParse,
}

/// `invalid_form_fields`: KSF's form errors.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InvalidFormFields {
    /// What is wrong, in general.
    pub(super) description: String,
    /// Field name (`password`, `confirmPassword`) to its messages.
    pub(super) errors: BTreeMap<String, Vec<String>>,
}

/// persona's 415 (`InlineResponse415`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    as = PersonaUnsupportedMediaType,
    example = json!({
        "http_code": 415,
        "http_status": "Unsupported media type",
        "unsupported_media_type": { "description": "Unsupported media type" }
    })
)]
pub(crate) struct PersonaUnsupportedMediaType {
    /// Always 415.
    #[schema(minimum = 415, maximum = 415)]
    pub(super) http_code: u16,
    /// Always `Unsupported media type`.
    pub(super) http_status: UnsupportedMediaTypeStatus,
    /// Its one member.
    pub(super) unsupported_media_type: UnsupportedMediaTypeDetail,
}

/// `http_status` of a 415.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) enum UnsupportedMediaTypeStatus {
    #[serde(rename = "Unsupported media type")]
    UnsupportedMediaType,
}

/// `unsupported_media_type` (`InlineResponse415UnsupportedMediaType`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnsupportedMediaTypeDetail {
    /// Always `Unsupported media type`.
    pub(super) description: UnsupportedMediaTypeStatus,
}

/// The other errors (413, 429, 500, 503, 504): the same shape, the error's name as the member.
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    as = PersonaError,
    example = json!({
        "http_code": 429,
        "http_status": "Too many requests",
        "too_many_requests": {
            "message": "too many requests",
            "description": "Too many requests. Try again after the time in Retry-After."
        }
    })
)]
pub(crate) struct PersonaErrorBody {
    /// The HTTP status code, repeated.
    pub(super) http_code: u16,
    /// The HTTP status text, first letter capital.
    pub(super) http_status: String,
    /// One entry: the error's name (`request_too_large`, `too_many_requests`,
    /// `internal_error`, `service_unavailable`, `gateway_timeout`) and its detail.
    #[serde(flatten)]
    #[schema(additional_properties)]
    pub(super) error: BTreeMap<String, PersonaErrorDetail>,
}

/// What went wrong, for a person.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PersonaErrorDetail {
    /// This occurrence: what was wrong with this request.
    pub(super) message: String,
    /// The error in general, and what to do about it.
    pub(super) description: String,
}
