//! What a call can fail with, and the one place those failures become `tonic::Status`.
//!
//! Policy: a caller gets the gRPC code and a `google.rpc.ErrorInfo` whose `reason` is the
//! proto's `ErrorReason` name, so it can branch without parsing text. Messages sent are short
//! and fixed (or, for a weak password, say which rule failed). Storage and internal failures
//! are logged here with their detail and answered with a generic message. No variant ever holds
//! a token, a password or a reset link.

use std::collections::HashMap;

use passreset_proto::token::v1::{ERROR_DOMAIN, ErrorReason};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt as _};

use crate::accounts::policy::{PolicyRefusal, PolicyViolation};

/// Everything the token service and its stores can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The address is not one we can send mail to; the text says why.
    #[error("invalid email address: {0}")]
    InvalidEmail(&'static str),
    /// A new password breaks the policy: every rule it failed, and the request field it came in
    /// (what the `BadRequest` field violations name).
    #[error("{refusal}")]
    WeakPassword {
        /// The failed rules.
        refusal: PolicyRefusal,
        /// `new_password` (Redeem) or `password` (UpsertAccount).
        field: &'static str,
    },
    /// Never issued, malformed, revoked by a newer one, or forgotten after its grace period.
    #[error("unknown token")]
    TokenUnknown,
    /// Issued, but its lifetime has passed.
    #[error("token expired")]
    TokenExpired,
    /// Already used for a reset.
    #[error("token already used")]
    TokenSpent,
    /// Another redemption of the same token is in progress right now.
    #[error("token is being redeemed")]
    TokenInUse,
    /// No account has this id or address (account directory calls).
    #[error("account not found")]
    AccountNotFound,
    /// A request field other than the address or password is unusable; the text names it.
    #[error("{0}")]
    InvalidArgument(&'static str),
    /// Too many requests for this address or from this client; try again after `retry_after`.
    #[error("too many requests")]
    RateLimited {
        /// When one more request will be allowed.
        retry_after: std::time::Duration,
    },
    /// A reset took so long that it was given up before its password was written; the token
    /// is usable again.
    #[error("the reset was interrupted, try again")]
    ResetInterrupted,
    /// The platform's directory failed or did not answer in time; the text is for the logs.
    #[error("the account directory is unavailable: {0}")]
    DirectoryUnavailable(String),
    /// The platform's directory refused the new password; its words, for the user.
    #[error("{0}")]
    DirectoryRefusedPassword(String),
    /// An admin call that only the built-in directory supports; the text says so.
    #[error("{0}")]
    BuiltInOnly(&'static str),
    /// An interrupted reset sent another password to the platform's directory: only that
    /// password can finish it.
    #[error("this reset is being finished with the password chosen first: submit that one again")]
    ResetPending,
    /// Too many passwords are being hashed right now; try again shortly.
    #[error("too busy, try again shortly")]
    Busy,
    /// Redis did not answer, or answered with an error.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A stored record lacks a field or holds one we cannot read.
    #[error("corrupt {kind} record: {detail}")]
    CorruptRecord {
        /// Which kind of record (`token`, `account`).
        kind: &'static str,
        /// What is wrong with it (never a value that could be a secret).
        detail: String,
    },
    /// A fault on our side (random source, a hashing task); the text is for the logs.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    /// A refused `RedeemRequest.new_password`.
    pub(crate) fn weak_new_password(refusal: PolicyRefusal) -> Self {
        Self::WeakPassword {
            refusal,
            field: "new_password",
        }
    }

    /// A refused `UpsertAccountRequest.password`.
    pub(crate) fn weak_account_password(refusal: PolicyRefusal) -> Self {
        Self::WeakPassword {
            refusal,
            field: "password",
        }
    }

    /// The `ErrorReason` a caller branches on, when the failure has one.
    fn reason(&self) -> Option<ErrorReason> {
        match self {
            Self::InvalidEmail(_) => Some(ErrorReason::InvalidEmail),
            Self::WeakPassword { .. } => Some(ErrorReason::WeakPassword),
            Self::TokenUnknown => Some(ErrorReason::TokenUnknown),
            Self::TokenExpired => Some(ErrorReason::TokenExpired),
            Self::TokenSpent => Some(ErrorReason::TokenSpent),
            Self::TokenInUse | Self::ResetPending => Some(ErrorReason::TokenInUse),
            Self::DirectoryRefusedPassword(_) => Some(ErrorReason::WeakPassword),
            Self::AccountNotFound => Some(ErrorReason::AccountNotFound),
            Self::RateLimited { .. } => Some(ErrorReason::RateLimited),
            Self::InvalidArgument(_)
            | Self::ResetInterrupted
            | Self::DirectoryUnavailable(_)
            | Self::BuiltInOnly(_)
            | Self::Busy
            | Self::Redis(_)
            | Self::CorruptRecord { .. }
            | Self::Internal(_) => None,
        }
    }

    fn code(&self) -> Code {
        match self {
            Self::InvalidEmail(_)
            | Self::WeakPassword { .. }
            | Self::InvalidArgument(_)
            | Self::DirectoryRefusedPassword(_) => Code::InvalidArgument,
            Self::TokenUnknown | Self::AccountNotFound => Code::NotFound,
            Self::TokenExpired
            | Self::TokenSpent
            | Self::TokenInUse
            | Self::ResetPending
            | Self::BuiltInOnly(_) => Code::FailedPrecondition,
            Self::RateLimited { .. } => Code::ResourceExhausted,
            Self::Busy => Code::ResourceExhausted,
            Self::Redis(_) | Self::ResetInterrupted | Self::DirectoryUnavailable(_) => {
                Code::Unavailable
            }
            Self::CorruptRecord { .. } | Self::Internal(_) => Code::Internal,
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        let code = error.code();
        let message = match &error {
            Error::Redis(_) => {
                tracing::error!(%error, "storage failure");
                "storage is temporarily unavailable".to_owned()
            }
            Error::DirectoryUnavailable(_) => {
                tracing::warn!(%error, "directory failure");
                "the account directory is temporarily unavailable".to_owned()
            }
            Error::CorruptRecord { .. } | Error::Internal(_) => {
                tracing::error!(%error, "internal failure");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let Some(reason) = error.reason() else {
            return Status::new(code, message);
        };
        let mut details = ErrorDetails::new();
        let mut metadata = HashMap::<String, String>::new();
        if let Error::WeakPassword { refusal, field } = &error {
            metadata = policy_parameters(refusal);
            details.set_bad_request(field_violations(refusal, field));
        }
        if let Error::DirectoryRefusedPassword(words) = &error {
            // Not one of our rules: the directory's own words, under no rule name.
            details.set_bad_request(vec![FieldViolation::new("new_password", words.clone())]);
        }
        details.set_error_info(reason.as_str_name(), ERROR_DOMAIN, metadata);
        if let Error::RateLimited { retry_after } = error {
            // Whole seconds rounded up, at least one: what a Retry-After header can say, and
            // never earlier than the limit would let the caller in.
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            details.set_retry_info(Some(std::time::Duration::from_secs(seconds.max(1))));
        }
        Status::with_error_details(code, message, details)
    }
}

/// One `FieldViolation` of `field` per failed rule: the rule's name as the reason, its English
/// words as the description.
fn field_violations(refusal: &PolicyRefusal, field: &str) -> Vec<FieldViolation> {
    refusal
        .violations()
        .iter()
        .map(|violation| {
            let mut field = FieldViolation::new(field, violation.to_string());
            field.reason = violation.rule().as_str_name().to_owned();
            field
        })
        .collect()
}

/// The rules' parameters, as `ErrorInfo` metadata (`min_length=12`).
fn policy_parameters(refusal: &PolicyRefusal) -> HashMap<String, String> {
    refusal
        .violations()
        .iter()
        .filter_map(|violation| match *violation {
            PolicyViolation::TooShort { min_length } => {
                Some(("min_length", min_length.to_string()))
            }
            PolicyViolation::TooLong { max_length } => Some(("max_length", max_length.to_string())),
            PolicyViolation::TooGuessable {
                warning: Some(warning),
            } => Some(("guessable_warning", warning.to_owned())),
            PolicyViolation::TooGuessable { warning: None }
            | PolicyViolation::OnlySpaces
            | PolicyViolation::SameAsAddress => None,
        })
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason_of(status: &Status) -> Option<String> {
        status
            .get_details_error_info()
            .map(|info| format!("{}/{}", info.domain, info.reason))
    }

    #[test]
    fn token_failures_carry_their_code_and_reason() {
        let cases = [
            (Error::TokenUnknown, Code::NotFound, "TOKEN_UNKNOWN"),
            (
                Error::TokenExpired,
                Code::FailedPrecondition,
                "TOKEN_EXPIRED",
            ),
            (Error::TokenSpent, Code::FailedPrecondition, "TOKEN_SPENT"),
            (Error::TokenInUse, Code::FailedPrecondition, "TOKEN_IN_USE"),
            (
                Error::weak_new_password(PolicyRefusal::of(PolicyViolation::OnlySpaces)),
                Code::InvalidArgument,
                "WEAK_PASSWORD",
            ),
            (
                Error::InvalidEmail("no @"),
                Code::InvalidArgument,
                "INVALID_EMAIL",
            ),
            (Error::AccountNotFound, Code::NotFound, "ACCOUNT_NOT_FOUND"),
        ];
        for (error, code, reason) in cases {
            let status = Status::from(error);
            assert_eq!(status.code(), code);
            assert_eq!(reason_of(&status), Some(format!("{ERROR_DOMAIN}/{reason}")));
        }
    }

    #[test]
    fn a_rate_limited_call_says_when_to_try_again_in_whole_seconds() {
        let retry_delay = |retry_after_ms: u64| {
            let status = Status::from(Error::RateLimited {
                retry_after: std::time::Duration::from_millis(retry_after_ms),
            });
            assert_eq!(status.code(), Code::ResourceExhausted);
            assert_eq!(
                reason_of(&status),
                Some(format!("{ERROR_DOMAIN}/RATE_LIMITED"))
            );
            status
                .get_details_retry_info()
                .and_then(|info| info.retry_delay)
                .map(|delay| delay.as_millis())
        };
        // Rounded up, never below a second: a client that waits as told is let in.
        assert_eq!(retry_delay(1500), Some(2000));
        assert_eq!(retry_delay(2000), Some(2000));
        assert_eq!(retry_delay(1), Some(1000));
        assert_eq!(retry_delay(0), Some(1000));
        assert_eq!(retry_delay(720_000), Some(720_000));
    }

    #[test]
    fn a_weak_password_says_every_failed_rule_in_words_and_as_data() {
        let status = Status::from(Error::weak_new_password(PolicyRefusal::of(
            PolicyViolation::TooShort { min_length: 12 },
        )));
        assert_eq!(
            status.message(),
            "the password must be at least 12 characters long"
        );
        let info = status.get_details_error_info().unwrap();
        assert_eq!(
            info.metadata.get("min_length").map(String::as_str),
            Some("12")
        );
        let violations = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "new_password");
        assert_eq!(violations[0].reason, "PASSWORD_RULE_TOO_SHORT");
        assert_eq!(
            violations[0].description,
            "the password must be at least 12 characters long"
        );
    }

    #[test]
    fn a_weak_account_password_names_the_upsert_field() {
        let status = Status::from(Error::weak_account_password(PolicyRefusal::of(
            PolicyViolation::OnlySpaces,
        )));
        let violations = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(violations[0].field, "password");
        assert_eq!(violations[0].reason, "PASSWORD_RULE_ONLY_SPACES");
    }

    #[test]
    fn a_directory_failure_is_unavailable_without_its_detail_and_a_refusal_is_a_weak_password() {
        let status = Status::from(Error::DirectoryUnavailable(
            "LookupAccount: Unavailable: db01.internal is down".into(),
        ));
        assert_eq!(status.code(), Code::Unavailable);
        assert!(!status.message().contains("db01"), "{}", status.message());
        let status = Status::from(Error::DirectoryRefusedPassword(
            "this password was found in a breach".into(),
        ));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            reason_of(&status),
            Some(format!("{ERROR_DOMAIN}/WEAK_PASSWORD"))
        );
        let violations = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(
            violations[0].description,
            "this password was found in a breach"
        );
    }

    #[test]
    fn internal_detail_is_never_sent() {
        let status = Status::from(Error::Internal("hasher exploded at 0xdead".into()));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
        let redis_failure = redis::RedisError::from(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused by 10.0.0.7:6379",
        ));
        let status = Status::from(Error::Redis(redis_failure));
        assert_eq!(status.code(), Code::Unavailable);
        assert!(!status.message().contains("10.0.0.7"));
    }
}
