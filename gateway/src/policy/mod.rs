//! What is wrong with a new password, as data, and in the reader's words.
//!
//! The token service refuses a password with one `google.rpc.BadRequest` field violation per
//! failed rule (its `reason` a `PasswordRule` name) and the rules' parameters in the
//! `ErrorInfo` metadata (`min_length=12`). [`problems_in`] reads that back into
//! [`PasswordProblem`]s, and every surface says them from here: persona's
//! `invalid_form_fields`, the reset page, the Metal errors. A rule this gateway does not know
//! (a newer token service) comes through in the service's own English words.
//!
//! - `words.rs`: the problems in the reader's words, in English, Swedish and Finnish.

mod words;

use passreset_proto::token::v1::{self as token, PasswordRule};
use tonic_types::StatusExt as _;

/// The bounds a new password must keep, as the token service reports its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PasswordBounds {
    /// Fewest characters accepted.
    pub min_length: u32,
    /// Most characters accepted.
    pub max_length: u32,
}

impl From<token::PasswordPolicy> for PasswordBounds {
    fn from(policy: token::PasswordPolicy) -> Self {
        Self {
            min_length: policy.min_length,
            max_length: policy.max_length,
        }
    }
}

/// One thing wrong with a new password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Fewer than `min_length` characters.
    TooShort { min_length: u32 },
    /// More than `max_length` characters.
    TooLong { max_length: u32 },
    /// Only white space.
    OnlySpaces,
    /// The account's address or the part before its @.
    SameAsAddress,
    /// Too easy to guess; `warning` names zxcvbn's reason (`common_password`), if it gave one.
    TooGuessable { warning: Option<String> },
    /// A rule this gateway has no words for: the token service's English description.
    Other { description: String },
    /// The confirmation is not the same password (checked here, before any call).
    Mismatch,
}

/// The form field a problem belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordField {
    /// The new password.
    Password,
    /// Its confirmation.
    Confirmation,
}

impl PasswordProblem {
    /// Which field is wrong: the confirmation for a mismatch, the password otherwise.
    pub(crate) fn field(&self) -> PasswordField {
        match self {
            Self::Mismatch => PasswordField::Confirmation,
            _ => PasswordField::Password,
        }
    }
}

/// The problems a `WEAK_PASSWORD` status names; never empty (a status without the detail still
/// says its message).
pub(crate) fn problems_in(status: &tonic::Status) -> Vec<PasswordProblem> {
    let details = status.get_error_details();
    let parameter = |key: &str| {
        details
            .error_info()
            .and_then(|info| info.metadata.get(key))
            .map(String::as_str)
    };
    let number = |key: &str| parameter(key).and_then(|value| value.parse::<u32>().ok());
    let problems: Vec<PasswordProblem> = details
        .bad_request()
        .map(|request| request.field_violations.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|violation| {
            let known =
                match PasswordRule::from_str_name(&violation.reason) {
                    Some(PasswordRule::TooShort) => number("min_length")
                        .map(|min_length| PasswordProblem::TooShort { min_length }),
                    Some(PasswordRule::TooLong) => number("max_length")
                        .map(|max_length| PasswordProblem::TooLong { max_length }),
                    Some(PasswordRule::OnlySpaces) => Some(PasswordProblem::OnlySpaces),
                    Some(PasswordRule::SameAsAddress) => Some(PasswordProblem::SameAsAddress),
                    Some(PasswordRule::TooGuessable) => Some(PasswordProblem::TooGuessable {
                        warning: parameter("guessable_warning").map(str::to_owned),
                    }),
                    Some(PasswordRule::Unspecified) | None => None,
                };
            known.unwrap_or_else(|| PasswordProblem::Other {
                description: violation.description.clone(),
            })
        })
        .collect();
    if problems.is_empty() {
        vec![PasswordProblem::Other {
            description: status.message().to_owned(),
        }]
    } else {
        problems
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use passreset_proto::token::v1::{ERROR_DOMAIN, ErrorReason};
    use tonic::Code;
    use tonic_types::{ErrorDetails, FieldViolation};

    use super::*;
    use crate::locale::Language;

    /// A status shaped as the token service sends it.
    fn weak(rules: &[(PasswordRule, &str)], metadata: &[(&str, &str)]) -> tonic::Status {
        let mut details = ErrorDetails::new();
        details.set_error_info(
            ErrorReason::WeakPassword.as_str_name(),
            ERROR_DOMAIN,
            metadata
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect::<HashMap<_, _>>(),
        );
        details.set_bad_request(
            rules
                .iter()
                .map(|(rule, description)| {
                    let mut violation = FieldViolation::new("new_password", *description);
                    violation.reason = rule.as_str_name().to_owned();
                    violation
                })
                .collect::<Vec<_>>(),
        );
        tonic::Status::with_error_details(Code::InvalidArgument, "weak", details)
    }

    #[test]
    fn every_rule_and_its_parameters_are_read_back_from_the_status() {
        let status = weak(
            &[
                (PasswordRule::TooShort, "short"),
                (PasswordRule::TooGuessable, "guessable"),
                (PasswordRule::TooLong, "long"),
                (PasswordRule::OnlySpaces, "spaces"),
                (PasswordRule::SameAsAddress, "address"),
            ],
            &[
                ("min_length", "8"),
                ("max_length", "256"),
                ("guessable_warning", "common_password"),
            ],
        );
        assert_eq!(
            problems_in(&status),
            [
                PasswordProblem::TooShort { min_length: 8 },
                PasswordProblem::TooGuessable {
                    warning: Some("common_password".to_owned())
                },
                PasswordProblem::TooLong { max_length: 256 },
                PasswordProblem::OnlySpaces,
                PasswordProblem::SameAsAddress,
            ]
        );
    }

    #[test]
    fn an_unknown_rule_or_a_bare_status_keeps_the_services_words() {
        let status = weak(&[], &[]);
        assert_eq!(
            problems_in(&status),
            [PasswordProblem::Other {
                description: "weak".to_owned()
            }]
        );
        let mut details = ErrorDetails::new();
        let mut violation = FieldViolation::new("new_password", "the password must rhyme");
        violation.reason = "PASSWORD_RULE_FROM_THE_FUTURE".to_owned();
        details.set_bad_request(vec![violation]);
        let status = tonic::Status::with_error_details(Code::InvalidArgument, "x", details);
        let problems = problems_in(&status);
        assert_eq!(
            problems[0].describe(Language::English),
            "The password must rhyme."
        );
        assert_eq!(
            problems[0].describe(Language::Finnish),
            "Tätä salasanaa ei voi käyttää: The password must rhyme."
        );
    }

    #[test]
    fn a_mismatch_belongs_to_the_confirmation_and_the_rest_to_the_password() {
        assert_eq!(
            PasswordProblem::Mismatch.field(),
            PasswordField::Confirmation
        );
        assert_eq!(PasswordProblem::OnlySpaces.field(), PasswordField::Password);
    }
}
