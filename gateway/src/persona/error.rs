//! persona's error shape, exactly as its published clients (OpenAPI 1.3.0) model it:
//!
//! - 400: `{"http_code": 400, "http_status": "Bad request", "invalid_request_body":
//!   {"message": ..., "description": "Could not parse the request body."}}`, whatever the cause;
//! - 415: `{"http_code": 415, "http_status": "Unsupported media type", "unsupported_media_type":
//!   {"description": "Unsupported media type"}}`.
//!
//! The generated models pin those strings as enums, so they are sent to the letter. A caller that
//! wants to branch finds the reason beside them as an extra member named for it (`expired_token`,
//! `invalid_password`, ...; the models ignore members they do not know), and a refused password
//! also as `invalid_form_fields`, the shape KSF's frontend reads: one message per problem, per
//! field, in the request's language. Statuses persona does not document (413, 429, 500, 503,
//! 504) keep the same shape with their own member.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use std::collections::BTreeMap;

use super::error_body::{
    BadRequestStatus, InvalidFormFields, InvalidRequestBody, InvalidRequestBodyDescription,
    PersonaBadRequest, PersonaErrorBody, PersonaErrorDetail, PersonaUnsupportedMediaType,
    UnsupportedMediaTypeDetail, UnsupportedMediaTypeStatus,
};
use crate::{
    ApiError,
    locale::Language,
    policy::{PasswordField, PasswordProblem},
};

/// An [`ApiError`] as persona clients expect to see it, in the language its words are for.
#[derive(Debug)]
pub(crate) struct PersonaError {
    error: ApiError,
    language: Language,
}

impl PersonaError {
    /// `error`, with any words for people in `language`.
    pub(crate) fn new(error: ApiError, language: Language) -> Self {
        Self { error, language }
    }
}

impl From<ApiError> for PersonaError {
    fn from(error: ApiError) -> Self {
        Self::new(error, Language::English)
    }
}

/// How one error is said: its status, and the member naming this very error (beside persona's
/// own, for callers that branch) with that member's description.
struct Shape {
    status: StatusCode,
    reason: Option<(&'static str, &'static str)>,
}

fn shape_of(error: &ApiError) -> Shape {
    let bad_request = |reason, description| Shape {
        status: StatusCode::BAD_REQUEST,
        reason: Some((reason, description)),
    };
    let other = |status, member, description| Shape {
        status,
        reason: Some((member, description)),
    };
    match error {
        ApiError::InvalidRequest(_) => Shape {
            status: StatusCode::BAD_REQUEST,
            reason: None,
        },
        ApiError::InvalidEmail => bad_request("invalid_email", "The email address is not valid."),
        ApiError::PasswordRefused(problems) if problems == &[PasswordProblem::Mismatch] => {
            bad_request(
                "password_mismatch",
                "password and confirmPassword must be the same password.",
            )
        }
        ApiError::PasswordRefused(_) => bad_request(
            "invalid_password",
            "The new password does not meet the password policy; the token is still valid.",
        ),
        ApiError::TokenUnknown => bad_request(
            "invalid_token",
            "The token is not valid. Request a new password reset link.",
        ),
        ApiError::TokenExpired => bad_request(
            "expired_token",
            "The token has expired. Request a new password reset link.",
        ),
        ApiError::TokenSpent => bad_request(
            "used_token",
            "The token has already been used. Request a new password reset link.",
        ),
        ApiError::TokenInUse => bad_request(
            "token_in_use",
            "A reset with this token is in progress. Try again after the time in Retry-After.",
        ),
        ApiError::UnsupportedMediaType => Shape {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            reason: None,
        },
        ApiError::PayloadTooLarge => other(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large",
            "The request body exceeds the size this service accepts.",
        ),
        ApiError::RateLimited { .. } => other(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too many requests. Try again after the time in Retry-After.",
        ),
        ApiError::Unavailable { .. } => other(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "The service is temporarily unavailable. Try again later.",
        ),
        ApiError::Timeout => other(
            StatusCode::GATEWAY_TIMEOUT,
            "gateway_timeout",
            "The service did not answer in time. Try again later.",
        ),
        ApiError::Internal => other(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side.",
        ),
    }
}

/// persona's `http_status` texts: the reason phrase with only its first letter capital
/// (`Bad request`), as its models spell them.
fn status_text(status: StatusCode) -> String {
    let phrase = status.canonical_reason().unwrap_or_default();
    let mut chars = phrase.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_string() + &chars.as_str().to_lowercase()
    })
}

/// `invalid_form_fields`: each problem under the field it concerns, in `language`.
fn form_fields(problems: &[PasswordProblem], language: Language) -> InvalidFormFields {
    let mut errors = BTreeMap::<String, Vec<String>>::new();
    for problem in problems {
        let field = match problem.field() {
            PasswordField::Password => "password",
            PasswordField::Confirmation => "confirmPassword",
        };
        errors
            .entry(field.to_owned())
            .or_default()
            .push(problem.describe(language));
    }
    let description = match language {
        Language::English => "The new password cannot be used.",
        Language::Swedish => "Det nya lösenordet kan inte användas.",
        Language::Finnish => "Uutta salasanaa ei voi käyttää.",
    };
    InvalidFormFields {
        description: description.to_owned(),
        errors,
    }
}

impl IntoResponse for PersonaError {
    fn into_response(self) -> Response {
        let shape = shape_of(&self.error);
        let message = self.error.to_string();
        let reason: BTreeMap<String, PersonaErrorDetail> = shape
            .reason
            .map(|(name, description)| {
                let detail = PersonaErrorDetail {
                    message: message.clone(),
                    description: description.to_owned(),
                };
                (name.to_owned(), detail)
            })
            .into_iter()
            .collect();
        let response = match shape.status {
            StatusCode::BAD_REQUEST => {
                let invalid_form_fields = match &self.error {
                    ApiError::PasswordRefused(problems) => {
                        Some(form_fields(problems, self.language))
                    }
                    _ => None,
                };
                let body = PersonaBadRequest {
                    http_code: 400,
                    http_status: BadRequestStatus::BadRequest,
                    invalid_request_body: InvalidRequestBody {
                        message,
                        description: InvalidRequestBodyDescription::CouldNotParse,
                    },
                    invalid_form_fields,
                    reason,
                };
                (shape.status, Json(body)).into_response()
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                let body = PersonaUnsupportedMediaType {
                    http_code: 415,
                    http_status: UnsupportedMediaTypeStatus::UnsupportedMediaType,
                    unsupported_media_type: UnsupportedMediaTypeDetail {
                        description: UnsupportedMediaTypeStatus::UnsupportedMediaType,
                    },
                };
                (shape.status, Json(body)).into_response()
            }
            status => {
                let body = PersonaErrorBody {
                    http_code: status.as_u16(),
                    http_status: status_text(status),
                    error: reason,
                };
                (status, Json(body)).into_response()
            }
        };
        self.error.respond(response)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    async fn body_of(error: ApiError, language: Language) -> (StatusCode, Value) {
        let response = PersonaError::new(error, language).into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn every_400_carries_personas_member_to_the_letter_and_its_reason_beside_it() {
        for (error, reason) in [
            (ApiError::TokenUnknown, Some("invalid_token")),
            (ApiError::TokenExpired, Some("expired_token")),
            (ApiError::TokenSpent, Some("used_token")),
            (ApiError::TokenInUse, Some("token_in_use")),
            (ApiError::InvalidEmail, Some("invalid_email")),
            (ApiError::InvalidRequest("no json".into()), None),
        ] {
            let (status, body) = body_of(error, Language::English).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(body["http_code"], 400);
            assert_eq!(body["http_status"], "Bad request");
            assert_eq!(
                body["invalid_request_body"]["description"],
                "Could not parse the request body."
            );
            assert!(body["invalid_request_body"]["message"].is_string());
            if let Some(reason) = reason {
                assert!(body[reason]["message"].is_string(), "{body}");
            }
        }
    }

    #[tokio::test]
    async fn a_415_is_exactly_personas() {
        let (status, body) = body_of(ApiError::UnsupportedMediaType, Language::Finnish).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            body,
            json!({
                "http_code": 415,
                "http_status": "Unsupported media type",
                "unsupported_media_type": {"description": "Unsupported media type"}
            })
        );
    }

    #[tokio::test]
    async fn a_refused_password_lists_each_problem_under_its_field_in_the_readers_language() {
        let problems = vec![
            PasswordProblem::TooShort { min_length: 12 },
            PasswordProblem::TooGuessable {
                warning: Some("common_password".into()),
            },
        ];
        let (_, body) = body_of(ApiError::PasswordRefused(problems), Language::Swedish).await;
        let errors = &body["invalid_form_fields"]["errors"];
        assert_eq!(
            errors["password"][0],
            "Lösenordet måste ha minst 12 tecken."
        );
        assert_eq!(errors["password"].as_array().unwrap().len(), 2);
        assert!(errors.get("confirmPassword").is_none());
        assert!(body["invalid_password"]["message"].is_string());

        let (_, body) = body_of(
            ApiError::PasswordRefused(vec![PasswordProblem::Mismatch]),
            Language::Finnish,
        )
        .await;
        assert_eq!(
            body["invalid_form_fields"]["errors"]["confirmPassword"][0],
            "Salasanat eivät täsmää."
        );
        assert!(body["password_mismatch"]["message"].is_string());
    }

    #[tokio::test]
    async fn undocumented_statuses_keep_the_shape_with_their_own_member() {
        let (status, body) = body_of(
            ApiError::RateLimited {
                retry_after: std::time::Duration::from_secs(3),
            },
            Language::English,
        )
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body["http_status"], "Too many requests");
        assert!(body["too_many_requests"]["description"].is_string());
    }
}
