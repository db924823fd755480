//! The problems with a new password in the reader's words: English, Swedish and Finnish, with
//! zxcvbn's warnings by the names the token service sends.

use super::PasswordProblem;
use crate::locale::Language;

impl PasswordProblem {
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
    use super::*;

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
}
