//! The password policy's verdict in the reader's language.
//!
//! The token service explains a refused password in English words of its own
//! (`token-service/src/accounts/password.rs`): a too short or too long password, one of only
//! spaces, the address itself, or one too easy to guess with zxcvbn's warning saying why. The
//! page recognises those shapes and says them again in Swedish or Finnish. A message of another
//! shape (a policy this page does not know yet) is shown as it came, after a lead-in in the
//! reader's language: better an English reason than none. The stack's page tests pin each shape
//! against the real token service.

use super::texts::Language;

/// The words of one language for each shape of verdict.
struct Verdicts {
    /// `{n}` stands for the number of characters.
    at_least: &'static str,
    at_most: &'static str,
    only_spaces: &'static str,
    like_address: &'static str,
    too_easy: &'static str,
    advice: &'static str,
}

const SV: Verdicts = Verdicts {
    at_least: "Lösenordet måste ha minst {n} tecken.",
    at_most: "Lösenordet får ha högst {n} tecken.",
    only_spaces: "Lösenordet får inte bestå av bara mellanslag.",
    like_address: "Lösenordet får inte vara din e-postadress eller delen före @.",
    too_easy: "Lösenordet är för lätt att gissa",
    advice: "Några ord som inte hör ihop ger ett starkt lösenord.",
};

const FI: Verdicts = Verdicts {
    at_least: "Salasanassa on oltava vähintään {n} merkkiä.",
    at_most: "Salasanassa saa olla enintään {n} merkkiä.",
    only_spaces: "Salasana ei saa koostua pelkistä välilyönneistä.",
    like_address: "Salasana ei saa olla sähköpostiosoitteesi eikä sen @-merkkiä edeltävä osa.",
    too_easy: "Salasana on liian helppo arvata",
    advice: "Muutama toisiinsa liittymätön sana tekee vahvan salasanan.",
};

/// zxcvbn's warnings as the token service passes them on (lowercase, no full stop), then in
/// Swedish and Finnish.
const WARNINGS: [(&str, &str, &str); 15] = [
    (
        "straight rows of keys are easy to guess",
        "raka tangentrader är lätta att gissa",
        "näppäimistön suorat rivit on helppo arvata",
    ),
    (
        "short keyboard patterns are easy to guess",
        "korta tangentbordsmönster är lätta att gissa",
        "lyhyet näppäimistökuviot on helppo arvata",
    ),
    (
        "repeats like \"aaa\" are easy to guess",
        "upprepningar som ”aaa” är lätta att gissa",
        "toistot kuten ”aaa” on helppo arvata",
    ),
    (
        "repeats like \"abcabcabc\" are only slightly harder to guess than \"abc\"",
        "upprepningar som ”abcabcabc” är bara lite svårare att gissa än ”abc”",
        "toistot kuten ”abcabcabc” ovat vain vähän vaikeampia arvata kuin ”abc”",
    ),
    (
        "this is a top-10 common password",
        "det är ett av de tio vanligaste lösenorden",
        "se on yksi kymmenestä yleisimmästä salasanasta",
    ),
    (
        "this is a top-100 common password",
        "det är ett av de hundra vanligaste lösenorden",
        "se on yksi sadasta yleisimmästä salasanasta",
    ),
    (
        "this is a very common password",
        "det är ett mycket vanligt lösenord",
        "se on hyvin yleinen salasana",
    ),
    (
        "this is similar to a commonly used password",
        "det liknar ett vanligt lösenord",
        "se muistuttaa yleistä salasanaa",
    ),
    (
        "sequences like abc or 6543 are easy to guess",
        "följder som abc eller 6543 är lätta att gissa",
        "sarjat kuten abc tai 6543 on helppo arvata",
    ),
    (
        "recent years are easy to guess",
        "årtal från de senaste åren är lätta att gissa",
        "viime vuosien vuosiluvut on helppo arvata",
    ),
    (
        "a word by itself is easy to guess",
        "ett ensamt ord är lätt att gissa",
        "yksittäinen sana on helppo arvata",
    ),
    (
        "dates are often easy to guess",
        "datum är ofta lätta att gissa",
        "päivämäärät on usein helppo arvata",
    ),
    (
        "names and surnames by themselves are easy to guess",
        "för- och efternamn ensamma är lätta att gissa",
        "pelkät etu- ja sukunimet on helppo arvata",
    ),
    (
        "common names and surnames are easy to guess",
        "vanliga för- och efternamn är lätta att gissa",
        "yleiset etu- ja sukunimet on helppo arvata",
    ),
    (
        "it follows a common pattern",
        "det följer ett vanligt mönster",
        "se noudattaa yleistä kaavaa",
    ),
];

/// The token service's reason for refusing a password, as a sentence in `language`.
pub(crate) fn explain(language: Language, reason: &str) -> String {
    let reason = reason.trim().trim_end_matches('.');
    let lead_in = language.texts().refused_password;
    if reason.is_empty() {
        return format!("{}.", lead_in.trim_end_matches(':'));
    }
    let words = match language {
        Language::English => return sentence(reason),
        Language::Swedish => &SV,
        Language::Finnish => &FI,
    };
    if let Some(n) = number_between(reason, "the password must be at least ", " characters long") {
        return words.at_least.replace("{n}", n);
    }
    if let Some(n) = number_between(reason, "the password must be at most ", " characters long") {
        return words.at_most.replace("{n}", n);
    }
    match reason {
        "the password must not be only spaces" => return words.only_spaces.to_owned(),
        "the password must not be the email address or its name part" => {
            return words.like_address.to_owned();
        }
        _ => {}
    }
    if let Some(rest) = reason.strip_prefix("the password is too easy to guess") {
        let why = rest
            .trim_start_matches(':')
            .split(';')
            .next()
            .unwrap_or_default();
        return match warning_in(language, why.trim()) {
            Some(why) => format!("{}: {why}. {}", words.too_easy, words.advice),
            None => format!("{}. {}", words.too_easy, words.advice),
        };
    }
    format!("{lead_in} {}", sentence(reason))
}

/// zxcvbn's `warning` in Swedish or Finnish, if it is one this page knows.
fn warning_in(language: Language, warning: &str) -> Option<&'static str> {
    let (_, swedish, finnish) = WARNINGS.iter().find(|known| known.0 == warning)?;
    match language {
        Language::Swedish => Some(swedish),
        Language::Finnish => Some(finnish),
        Language::English => None,
    }
}

/// The digits between `prefix` and `suffix`, when `text` is exactly that.
fn number_between<'a>(text: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    let n = text.strip_prefix(prefix)?.strip_suffix(suffix)?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(n)
}

/// `text` with a capital first letter and a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    format!("{}{}.", first.to_uppercase(), chars.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMON: &str = "the password is too easy to guess: this is a very common password; a few \
                          unrelated words make a strong one";

    #[test]
    fn english_readers_get_the_policys_own_words_as_a_sentence() {
        assert_eq!(
            explain(Language::English, COMMON),
            "The password is too easy to guess: this is a very common password; a few unrelated \
             words make a strong one."
        );
    }

    #[test]
    fn every_shape_of_verdict_is_said_in_swedish_and_finnish() {
        let cases = [
            (
                "the password must be at least 16 characters long",
                "Lösenordet måste ha minst 16 tecken.",
                "Salasanassa on oltava vähintään 16 merkkiä.",
            ),
            (
                "the password must be at most 256 characters long",
                "Lösenordet får ha högst 256 tecken.",
                "Salasanassa saa olla enintään 256 merkkiä.",
            ),
            (
                "the password must not be only spaces",
                "Lösenordet får inte bestå av bara mellanslag.",
                "Salasana ei saa koostua pelkistä välilyönneistä.",
            ),
            (
                "the password must not be the email address or its name part",
                "Lösenordet får inte vara din e-postadress eller delen före @.",
                "Salasana ei saa olla sähköpostiosoitteesi eikä sen @-merkkiä edeltävä osa.",
            ),
            (
                COMMON,
                "Lösenordet är för lätt att gissa: det är ett mycket vanligt lösenord. Några ord \
                 som inte hör ihop ger ett starkt lösenord.",
                "Salasana on liian helppo arvata: se on hyvin yleinen salasana. Muutama \
                 toisiinsa liittymätön sana tekee vahvan salasanan.",
            ),
        ];
        for (reason, swedish, finnish) in cases {
            assert_eq!(explain(Language::Swedish, reason), swedish);
            assert_eq!(explain(Language::Finnish, reason), finnish);
        }
    }

    #[test]
    fn every_warning_has_a_translation_and_an_unknown_one_still_says_too_easy() {
        for (english, _, _) in WARNINGS {
            let reason = format!("the password is too easy to guess: {english}; advice");
            for language in [Language::Swedish, Language::Finnish] {
                let said = explain(language, &reason);
                assert!(!said.contains(english), "{said}");
                assert!(said.matches(':').count() == 1, "{said}");
            }
        }
        assert_eq!(
            explain(
                Language::Swedish,
                "the password is too easy to guess: a new warning; advice"
            ),
            "Lösenordet är för lätt att gissa. Några ord som inte hör ihop ger ett starkt lösenord."
        );
    }

    #[test]
    fn an_unknown_verdict_comes_through_after_a_local_lead_in() {
        assert_eq!(
            explain(Language::Finnish, "the password must contain a haiku"),
            "Tätä salasanaa ei voi käyttää: The password must contain a haiku."
        );
        assert_eq!(
            explain(Language::Swedish, ""),
            "Det här lösenordet kan inte användas."
        );
    }
}
