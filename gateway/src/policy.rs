//! What is wrong with a new password, as data, and in the reader's words.
//!
//! The token service refuses a password with one `google.rpc.BadRequest` field violation per
//! failed rule (its `reason` a `PasswordRule` name) and the rules' parameters in the
//! `ErrorInfo` metadata (`min_length=12`). [`problems_in`] reads that back into
//! [`PasswordProblem`]s, and every surface says them from here: persona's
//! `invalid_form_fields`, the reset page, the Metal errors. A rule this gateway does not know
//! (a newer token service) comes through in the service's own English words.

use passreset_proto::token::v1::{self as token, PasswordRule};
use tonic_types::StatusExt as _;

use crate::locale::Language;

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

    /// This problem as a sentence in `language`.
    pub(crate) fn describe(&self, language: Language) -> String {
        let words = words(language);
        match self {
            Self::TooShort { min_length } => words.at_least.replace("{n}", &min_length.to_string()),
            Self::TooLong { max_length } => words.at_most.replace("{n}", &max_length.to_string()),
            Self::OnlySpaces => words.only_spaces.to_owned(),
            Self::SameAsAddress => words.same_as_address.to_owned(),
            Self::Mismatch => words.mismatch.to_owned(),
            Self::TooGuessable { warning } => {
                match warning
                    .as_deref()
                    .and_then(|name| warning_in(language, name))
                {
                    Some(why) => format!("{}: {why}. {}", words.too_easy, words.advice),
                    None => format!("{}. {}", words.too_easy, words.advice),
                }
            }
            Self::Other { description } => match language {
                Language::English => sentence(description),
                _ => format!("{} {}", words.lead_in, sentence(description)),
            },
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

/// The words of one language for each kind of problem.
struct Words {
    /// `{n}` stands for the number of characters.
    at_least: &'static str,
    at_most: &'static str,
    only_spaces: &'static str,
    same_as_address: &'static str,
    too_easy: &'static str,
    advice: &'static str,
    mismatch: &'static str,
    /// Before a reason this gateway can only say in English.
    lead_in: &'static str,
}

fn words(language: Language) -> &'static Words {
    match language {
        Language::English => &EN,
        Language::Swedish => &SV,
        Language::Finnish => &FI,
    }
}

const EN: Words = Words {
    at_least: "The password must be at least {n} characters long.",
    at_most: "The password must be at most {n} characters long.",
    only_spaces: "The password must not be only spaces.",
    same_as_address: "The password must not be your email address or the part before the @.",
    too_easy: "The password is too easy to guess",
    advice: "A few unrelated words make a strong password.",
    mismatch: "The two passwords do not match.",
    lead_in: "This password cannot be used:",
};

const SV: Words = Words {
    at_least: "Lösenordet måste ha minst {n} tecken.",
    at_most: "Lösenordet får ha högst {n} tecken.",
    only_spaces: "Lösenordet får inte bestå av bara mellanslag.",
    same_as_address: "Lösenordet får inte vara din e-postadress eller delen före @.",
    too_easy: "Lösenordet är för lätt att gissa",
    advice: "Några ord som inte hör ihop ger ett starkt lösenord.",
    mismatch: "Lösenorden stämmer inte överens.",
    lead_in: "Det här lösenordet kan inte användas:",
};

const FI: Words = Words {
    at_least: "Salasanassa on oltava vähintään {n} merkkiä.",
    at_most: "Salasanassa saa olla enintään {n} merkkiä.",
    only_spaces: "Salasana ei saa koostua pelkistä välilyönneistä.",
    same_as_address: "Salasana ei saa olla sähköpostiosoitteesi eikä sen @-merkkiä edeltävä osa.",
    too_easy: "Salasana on liian helppo arvata",
    advice: "Muutama toisiinsa liittymätön sana tekee vahvan salasanan.",
    mismatch: "Salasanat eivät täsmää.",
    lead_in: "Tätä salasanaa ei voi käyttää:",
};

/// zxcvbn's warnings by the name the token service sends, in English, Swedish and Finnish.
const WARNINGS: [(&str, [&str; 3]); 14] = [
    (
        "straight_rows_of_keys",
        [
            "straight rows of keys are easy to guess",
            "raka tangentrader är lätta att gissa",
            "näppäimistön suorat rivit on helppo arvata",
        ],
    ),
    (
        "short_keyboard_patterns",
        [
            "short keyboard patterns are easy to guess",
            "korta tangentbordsmönster är lätta att gissa",
            "lyhyet näppäimistökuviot on helppo arvata",
        ],
    ),
    (
        "repeats_like_aaa",
        [
            "repeats like “aaa” are easy to guess",
            "upprepningar som ”aaa” är lätta att gissa",
            "toistot kuten ”aaa” on helppo arvata",
        ],
    ),
    (
        "repeats_like_abcabc",
        [
            "repeats like “abcabcabc” are only slightly harder to guess than “abc”",
            "upprepningar som ”abcabcabc” är bara lite svårare att gissa än ”abc”",
            "toistot kuten ”abcabcabc” ovat vain vähän vaikeampia arvata kuin ”abc”",
        ],
    ),
    (
        "top10_password",
        [
            "this is one of the ten most common passwords",
            "det är ett av de tio vanligaste lösenorden",
            "se on yksi kymmenestä yleisimmästä salasanasta",
        ],
    ),
    (
        "top100_password",
        [
            "this is one of the hundred most common passwords",
            "det är ett av de hundra vanligaste lösenorden",
            "se on yksi sadasta yleisimmästä salasanasta",
        ],
    ),
    (
        "common_password",
        [
            "this is a very common password",
            "det är ett mycket vanligt lösenord",
            "se on hyvin yleinen salasana",
        ],
    ),
    (
        "similar_to_common_password",
        [
            "this is similar to a commonly used password",
            "det liknar ett vanligt lösenord",
            "se muistuttaa yleistä salasanaa",
        ],
    ),
    (
        "sequences_like_abc",
        [
            "sequences like abc or 6543 are easy to guess",
            "följder som abc eller 6543 är lätta att gissa",
            "sarjat kuten abc tai 6543 on helppo arvata",
        ],
    ),
    (
        "recent_years",
        [
            "recent years are easy to guess",
            "årtal från de senaste åren är lätta att gissa",
            "viime vuosien vuosiluvut on helppo arvata",
        ],
    ),
    (
        "word_by_itself",
        [
            "a word by itself is easy to guess",
            "ett ensamt ord är lätt att gissa",
            "yksittäinen sana on helppo arvata",
        ],
    ),
    (
        "dates",
        [
            "dates are often easy to guess",
            "datum är ofta lätta att gissa",
            "päivämäärät on usein helppo arvata",
        ],
    ),
    (
        "names_by_themselves",
        [
            "names and surnames by themselves are easy to guess",
            "för- och efternamn ensamma är lätta att gissa",
            "pelkät etu- ja sukunimet on helppo arvata",
        ],
    ),
    (
        "common_names",
        [
            "common names and surnames are easy to guess",
            "vanliga för- och efternamn är lätta att gissa",
            "yleiset etu- ja sukunimet on helppo arvata",
        ],
    ),
];

/// zxcvbn's warning `name` in `language`, if this gateway knows it.
fn warning_in(language: Language, name: &str) -> Option<&'static str> {
    let (_, words) = WARNINGS.iter().find(|(known, _)| *known == name)?;
    let index = match language {
        Language::English => 0,
        Language::Swedish => 1,
        Language::Finnish => 2,
    };
    words.get(index).copied()
}

/// `text` with a capital first letter and a full stop.
fn sentence(text: &str) -> String {
    let text = text.trim().trim_end_matches('.');
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    format!("{}{}.", first.to_uppercase(), chars.as_str())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use passreset_proto::token::v1::{ERROR_DOMAIN, ErrorReason};
    use tonic::Code;
    use tonic_types::{ErrorDetails, FieldViolation};

    use super::*;

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
    fn each_problem_is_said_in_each_language() {
        let cases = [
            (
                PasswordProblem::TooShort { min_length: 16 },
                "The password must be at least 16 characters long.",
                "Lösenordet måste ha minst 16 tecken.",
                "Salasanassa on oltava vähintään 16 merkkiä.",
            ),
            (
                PasswordProblem::TooGuessable {
                    warning: Some("common_password".to_owned()),
                },
                "The password is too easy to guess: this is a very common password. A few \
                 unrelated words make a strong password.",
                "Lösenordet är för lätt att gissa: det är ett mycket vanligt lösenord. Några ord \
                 som inte hör ihop ger ett starkt lösenord.",
                "Salasana on liian helppo arvata: se on hyvin yleinen salasana. Muutama \
                 toisiinsa liittymätön sana tekee vahvan salasanan.",
            ),
            (
                PasswordProblem::Mismatch,
                "The two passwords do not match.",
                "Lösenorden stämmer inte överens.",
                "Salasanat eivät täsmää.",
            ),
        ];
        for (problem, english, swedish, finnish) in cases {
            assert_eq!(problem.describe(Language::English), english);
            assert_eq!(problem.describe(Language::Swedish), swedish);
            assert_eq!(problem.describe(Language::Finnish), finnish);
        }
    }

    #[test]
    fn every_warning_has_words_in_every_language_and_an_unknown_one_still_says_too_easy() {
        for (name, _) in WARNINGS {
            for language in [Language::English, Language::Swedish, Language::Finnish] {
                let said = PasswordProblem::TooGuessable {
                    warning: Some(name.to_owned()),
                }
                .describe(language);
                assert_eq!(said.matches(':').count(), 1, "{said}");
            }
        }
        assert_eq!(
            PasswordProblem::TooGuessable {
                warning: Some("a_new_warning".to_owned())
            }
            .describe(Language::Swedish),
            "Lösenordet är för lätt att gissa. Några ord som inte hör ihop ger ett starkt lösenord."
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
