//! The password policy a new password must meet (NIST SP 800-63B: length, no context words,
//! not guessable), and its verdict as data: every failed rule with its parameters, so each
//! surface can say it in its reader's language without parsing English.

use std::fmt;

use passreset_proto::token::v1::PasswordRule;
use secrecy::{ExposeSecret as _, SecretString};
use zxcvbn::{Score, feedback::Warning};

use super::{email::NormalizedEmail, password::normalize};

/// Longest password accepted, in characters: hashing cost stays bounded.
pub(crate) const MAX_LENGTH: usize = 256;
/// The lowest zxcvbn score accepted: 3 means more than 10^8 guesses, "safely unguessable" for
/// an online attack on a rate-limited service.
const MIN_SCORE: Score = Score::Three;
/// How much of a password zxcvbn looks at: its cost grows fast with length, and a password
/// whose first 100 characters are guessable is not saved by the rest.
const SCORED_PREFIX: usize = 100;

/// What a new password must satisfy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PasswordPolicy {
    /// Fewest characters allowed.
    pub min_length: usize,
}

/// One failed rule of the policy, with the parameters a reader needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyViolation {
    /// Fewer than `min_length` characters.
    TooShort {
        /// The policy's minimum.
        min_length: usize,
    },
    /// More than `max_length` characters.
    TooLong {
        /// The policy's maximum.
        max_length: usize,
    },
    /// Only white space.
    OnlySpaces,
    /// The account's address or the part before its @.
    SameAsAddress,
    /// Too easy to guess; zxcvbn's warning says why, when it has one.
    TooGuessable {
        /// zxcvbn's stable name for the weakness, e.g. `common_password`.
        warning: Option<&'static str>,
    },
}

impl PolicyViolation {
    /// The rule, as the proto names it.
    pub(crate) fn rule(self) -> PasswordRule {
        match self {
            Self::TooShort { .. } => PasswordRule::TooShort,
            Self::TooLong { .. } => PasswordRule::TooLong,
            Self::OnlySpaces => PasswordRule::OnlySpaces,
            Self::SameAsAddress => PasswordRule::SameAsAddress,
            Self::TooGuessable { .. } => PasswordRule::TooGuessable,
        }
    }
}

/// The rule in English words, for the status message and for callers that show it as it is.
impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { min_length } => {
                write!(
                    f,
                    "the password must be at least {min_length} characters long"
                )
            }
            Self::TooLong { max_length } => {
                write!(
                    f,
                    "the password must be at most {max_length} characters long"
                )
            }
            Self::OnlySpaces => f.write_str("the password must not be only spaces"),
            Self::SameAsAddress => {
                f.write_str("the password must not be the email address or its name part")
            }
            Self::TooGuessable { warning } => {
                let why = warning
                    .and_then(english_warning)
                    .unwrap_or("it follows a common pattern");
                write!(
                    f,
                    "the password is too easy to guess: {why}; a few unrelated words make a strong one"
                )
            }
        }
    }
}

/// Every rule a refused password failed, in the order the policy checks them; never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRefusal(Vec<PolicyViolation>);

impl PolicyRefusal {
    /// A refusal for one rule.
    #[cfg(test)]
    pub(crate) fn of(violation: PolicyViolation) -> Self {
        Self(vec![violation])
    }

    /// The failed rules.
    pub(crate) fn violations(&self) -> &[PolicyViolation] {
        &self.0
    }
}

impl fmt::Display for PolicyRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, violation) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}

impl PasswordPolicy {
    /// `Ok` when `password` may become the password of `email`'s account; otherwise every
    /// rule it fails.
    pub(crate) fn check(
        &self,
        password: &SecretString,
        email: &NormalizedEmail,
    ) -> Result<(), PolicyRefusal> {
        let password = normalize(password.expose_secret());
        let password = password.as_str();
        let mut violations = Vec::new();
        let length = password.chars().count();
        if length < self.min_length {
            violations.push(PolicyViolation::TooShort {
                min_length: self.min_length,
            });
        }
        if length > MAX_LENGTH {
            violations.push(PolicyViolation::TooLong {
                max_length: MAX_LENGTH,
            });
        }
        let lowered = password.to_lowercase();
        if password.trim().is_empty() {
            violations.push(PolicyViolation::OnlySpaces);
        } else if lowered == email.as_str().to_lowercase()
            || lowered == email.local_part().to_lowercase()
        {
            violations.push(PolicyViolation::SameAsAddress);
        } else if let Some(warning) = guessable(password, email) {
            violations.push(PolicyViolation::TooGuessable { warning });
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(PolicyRefusal(violations))
        }
    }

    /// The policy's bounds, for a form to say before anything is sent.
    pub(crate) fn bounds(&self) -> (usize, usize) {
        (self.min_length, MAX_LENGTH)
    }
}

/// `Some(why)` when zxcvbn finds `password` too easy to guess for `email`'s account.
fn guessable(password: &str, email: &NormalizedEmail) -> Option<Option<&'static str>> {
    let scored: String = password.chars().take(SCORED_PREFIX).collect();
    let context = context_words(email);
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(&scored, &context);
    (estimate.score() < MIN_SCORE).then(|| {
        estimate
            .feedback()
            .and_then(zxcvbn::feedback::Feedback::warning)
            .map(warning_name)
    })
}

/// The words an attacker knows about the account: the address, its parts and the domain's
/// name, which zxcvbn then treats as a dictionary.
fn context_words(email: &NormalizedEmail) -> Vec<String> {
    let address = email.as_str().to_lowercase();
    let mut words = vec![address.clone()];
    words.extend(
        address
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| word.len() >= 3)
            .map(str::to_owned),
    );
    words
}

/// zxcvbn's warnings: the stable name sent on the wire, and the English words.
const WARNINGS: [(&str, &str); 14] = [
    (
        "straight_rows_of_keys",
        "straight rows of keys are easy to guess",
    ),
    (
        "short_keyboard_patterns",
        "short keyboard patterns are easy to guess",
    ),
    ("repeats_like_aaa", "repeats like \"aaa\" are easy to guess"),
    (
        "repeats_like_abcabc",
        "repeats like \"abcabcabc\" are only slightly harder to guess than \"abc\"",
    ),
    ("top10_password", "this is a top-10 common password"),
    ("top100_password", "this is a top-100 common password"),
    ("common_password", "this is a very common password"),
    (
        "similar_to_common_password",
        "this is similar to a commonly used password",
    ),
    (
        "sequences_like_abc",
        "sequences like abc or 6543 are easy to guess",
    ),
    ("recent_years", "recent years are easy to guess"),
    ("word_by_itself", "a word by itself is easy to guess"),
    ("dates", "dates are often easy to guess"),
    (
        "names_by_themselves",
        "names and surnames by themselves are easy to guess",
    ),
    (
        "common_names",
        "common names and surnames are easy to guess",
    ),
];

fn warning_name(warning: Warning) -> &'static str {
    match warning {
        Warning::StraightRowsOfKeysAreEasyToGuess => "straight_rows_of_keys",
        Warning::ShortKeyboardPatternsAreEasyToGuess => "short_keyboard_patterns",
        Warning::RepeatsLikeAaaAreEasyToGuess => "repeats_like_aaa",
        Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => "repeats_like_abcabc",
        Warning::ThisIsATop10Password => "top10_password",
        Warning::ThisIsATop100Password => "top100_password",
        Warning::ThisIsACommonPassword => "common_password",
        Warning::ThisIsSimilarToACommonlyUsedPassword => "similar_to_common_password",
        Warning::SequencesLikeAbcAreEasyToGuess => "sequences_like_abc",
        Warning::RecentYearsAreEasyToGuess => "recent_years",
        Warning::AWordByItselfIsEasyToGuess => "word_by_itself",
        Warning::DatesAreOftenEasyToGuess => "dates",
        Warning::NamesAndSurnamesByThemselvesAreEasyToGuess => "names_by_themselves",
        Warning::CommonNamesAndSurnamesAreEasyToGuess => "common_names",
    }
}

fn english_warning(name: &str) -> Option<&'static str> {
    WARNINGS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, words)| *words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PasswordPolicy {
        PasswordPolicy { min_length: 12 }
    }

    fn email() -> NormalizedEmail {
        NormalizedEmail::parse("Ada.Lovelace@example.com").unwrap()
    }

    fn violations(password: &str) -> Vec<PolicyViolation> {
        match policy().check(&SecretString::from(password), &email()) {
            Ok(()) => Vec::new(),
            Err(refusal) => refusal.violations().to_vec(),
        }
    }

    #[test]
    fn a_long_enough_unguessable_password_passes() {
        assert_eq!(violations("correct horse battery staple"), []);
        assert_eq!(violations("tulip orbit kettle 42"), []);
        let longest: String = "horse battery staple correct "
            .chars()
            .cycle()
            .take(MAX_LENGTH)
            .collect();
        assert_eq!(violations(&longest), []);
    }

    #[test]
    fn a_short_password_is_refused_saying_the_minimum() {
        assert!(violations("short").contains(&PolicyViolation::TooShort { min_length: 12 }));
        // Characters, not bytes: eleven two-byte characters are still too short.
        assert!(
            violations(&"é".repeat(11)).contains(&PolicyViolation::TooShort { min_length: 12 })
        );
        assert_eq!(
            PolicyViolation::TooShort { min_length: 12 }.to_string(),
            "the password must be at least 12 characters long"
        );
    }

    #[test]
    fn every_failed_rule_is_reported_not_only_the_first() {
        let failed = violations("password");
        assert_eq!(
            failed,
            [
                PolicyViolation::TooShort { min_length: 12 },
                PolicyViolation::TooGuessable {
                    warning: Some("top10_password")
                }
            ]
        );
    }

    #[test]
    fn an_overlong_password_is_refused_saying_the_maximum() {
        assert!(
            violations(&"x".repeat(MAX_LENGTH + 1)).contains(&PolicyViolation::TooLong {
                max_length: MAX_LENGTH
            })
        );
    }

    #[test]
    fn the_address_or_its_local_part_is_refused_in_any_case() {
        assert_eq!(
            violations("ada.lovelace@EXAMPLE.com"),
            [PolicyViolation::SameAsAddress]
        );
        assert_eq!(
            violations("ADA.LOVELACE"),
            [PolicyViolation::SameAsAddress],
            "twelve characters: only the address rule fails"
        );
    }

    #[test]
    fn common_and_guessable_passwords_are_refused_saying_why() {
        for weak in [
            "password1234",
            "qwertyuiopas",
            "aaaaaaaaaaaaaaaa",
            "123456789012",
            "iloveyou2024!",
        ] {
            let failed = violations(weak);
            assert!(
                matches!(failed.as_slice(), [PolicyViolation::TooGuessable { .. }]),
                "{weak}: {failed:?}"
            );
        }
        let common = PolicyViolation::TooGuessable {
            warning: Some("common_password"),
        };
        assert_eq!(
            common.to_string(),
            "the password is too easy to guess: this is a very common password; a few unrelated \
             words make a strong one"
        );
    }

    #[test]
    fn the_address_makes_a_password_built_on_it_guessable() {
        assert!(matches!(
            violations("lovelace2024").as_slice(),
            [PolicyViolation::TooGuessable { .. }]
        ));
    }

    #[test]
    fn passwords_are_judged_in_nfkc_form() {
        // Full-width digits and letters are their ASCII selves after NFKC.
        assert!(!violations("ｐａｓｓｗｏｒｄ１２３").is_empty());
    }

    #[test]
    fn a_blank_password_is_refused_as_only_spaces() {
        assert_eq!(violations(&" ".repeat(20)), [PolicyViolation::OnlySpaces]);
    }

    #[test]
    fn every_warning_has_a_name_and_english_words() {
        for (name, words) in WARNINGS {
            assert_eq!(english_warning(name), Some(words));
        }
        let names: std::collections::HashSet<_> = WARNINGS.iter().map(|(name, _)| name).collect();
        assert_eq!(names.len(), WARNINGS.len(), "names are unique");
    }
}
