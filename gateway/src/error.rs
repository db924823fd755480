//! What a reset flow can fail with, surface-independent. Upstream `tonic::Status` values are
//! translated here and nowhere else; each surface then renders an [`ApiError`] in its own error
//! shape. Internal detail is logged here and never sent to the client.

use std::time::Duration;

use passreset_proto::token::v1::{ERROR_DOMAIN, ErrorReason};
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::{
    locale::Language,
    policy::{PasswordProblem, problems_in},
};

/// Why a request failed, in terms a REST client can act on.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request body or parameters are malformed; the text says what is wrong.
    #[error("{0}")]
    InvalidRequest(String),
    /// The body is larger than the gateway accepts.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// The body is not JSON.
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// The email address is not a valid address.
    #[error("the email address is not valid")]
    InvalidEmail,
    /// The new password cannot be used: every problem with it (a policy rule it fails, or a
    /// confirmation that differs). The token stays usable.
    #[error("the new password cannot be used: {}", describe_all(.0))]
    PasswordRefused(Vec<PasswordProblem>),
    /// No such token (never issued, or revoked).
    #[error("the reset token is not valid")]
    TokenUnknown,
    /// The token's lifetime has passed.
    #[error("the reset token has expired")]
    TokenExpired,
    /// The token was already used.
    #[error("the reset token has already been used")]
    TokenSpent,
    /// Another reset with the same token is under way; try again in a moment.
    #[error("a reset with this token is already in progress")]
    TokenInUse,
    /// Too many requests from this client or for this address.
    #[error("too many requests")]
    RateLimited {
        /// When the client may try again.
        retry_after: Duration,
    },
    /// An upstream is down or overloaded.
    #[error("the service is temporarily unavailable")]
    Unavailable {
        /// A hint for `Retry-After`.
        retry_after: Duration,
    },
    /// An upstream did not answer in time.
    #[error("the service did not answer in time")]
    Timeout,
    /// A fault on our side; details are in the logs.
    #[error("internal error")]
    Internal,
}

/// The problems in English, for the error's text (logs and English-only callers).
fn describe_all(problems: &[PasswordProblem]) -> String {
    let sentences: Vec<String> = problems
        .iter()
        .map(|problem| problem.describe(Language::English))
        .collect();
    sentences.join(" ")
}

const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);
/// How soon a caller that met a reset in progress should look again.
const IN_USE_RETRY_AFTER: Duration = Duration::from_secs(1);

impl ApiError {
    /// When the client may try again, for the failures that have such a time.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } | Self::Unavailable { retry_after } => {
                Some(*retry_after)
            }
            Self::TokenInUse => Some(IN_USE_RETRY_AFTER),
            _ => None,
        }
    }

    /// `answer` as the response to this error, with the `Retry-After` header (whole seconds,
    /// at least one) the error asks for: every surface answers its errors through here.
    pub(crate) fn respond(
        &self,
        answer: impl axum::response::IntoResponse,
    ) -> axum::response::Response {
        let mut response = answer.into_response();
        if let Some(retry_after) = self.retry_after() {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from(retry_after.as_secs().max(1)),
            );
        }
        response
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        let details = status.get_error_details();
        let reason = details
            .error_info()
            .filter(|info| info.domain == ERROR_DOMAIN)
            .and_then(|info| ErrorReason::from_str_name(&info.reason));
        let retry_after = details
            .retry_info()
            .and_then(|info| info.retry_delay)
            .unwrap_or(DEFAULT_RETRY_AFTER);

        match (status.code(), reason) {
            (_, Some(ErrorReason::InvalidEmail)) => Self::InvalidEmail,
            (_, Some(ErrorReason::WeakPassword)) => Self::PasswordRefused(problems_in(&status)),
            (_, Some(ErrorReason::TokenUnknown)) => Self::TokenUnknown,
            (_, Some(ErrorReason::TokenExpired)) => Self::TokenExpired,
            (_, Some(ErrorReason::TokenSpent)) => Self::TokenSpent,
            (_, Some(ErrorReason::TokenInUse)) => Self::TokenInUse,
            (_, Some(ErrorReason::RateLimited)) => Self::RateLimited { retry_after },
            (Code::Unavailable | Code::ResourceExhausted, _) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "upstream unavailable");
                Self::Unavailable { retry_after }
            }
            (Code::DeadlineExceeded | Code::Cancelled, _) => {
                tracing::warn!(code = ?status.code(), "upstream timed out");
                Self::Timeout
            }
            (code, _) => {
                tracing::error!(?code, message = status.message(), "upstream call failed");
                Self::Internal
            }
        }
    }
}
