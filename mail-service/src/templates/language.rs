//! Which of the built-in languages a mail is written in, from the locale its caller gave: one
//! BCP 47 tag (`sv-SE`, `fi`, `en-GB`) or an `Accept-Language` style list
//! (`de-DE,sv;q=0.9,en;q=0.8`), because the gateway passes the account's locale when it knows
//! one and the request's `Accept-Language` when it does not.

/// The languages the built-in templates are written in; the first is the fallback.
pub(crate) const LANGUAGES: [&str; 3] = ["en", "sv", "fi"];

/// The most preferred supported language of `locale`, else English.
///
/// Entries are taken by falling quality (`q`, 1 when absent), the first of equals first;
/// `q=0` means "not this one", and `*`, malformed entries and unsupported languages are
/// skipped, so `de-DE,sv;q=0.9` reads Swedish rather than falling back to English.
pub(crate) fn language_of(locale: &str) -> &'static str {
    let mut ranges: Vec<(u16, &'static str)> = locale
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.split(';').map(str::trim);
            let language = supported(parts.next()?)?;
            let quality = match parts.find_map(|parameter| {
                parameter
                    .strip_prefix("q=")
                    .or_else(|| parameter.strip_prefix("Q="))
            }) {
                Some(q) => quality(q)?,
                None => 1000,
            };
            (quality > 0).then_some((quality, language))
        })
        .collect();
    // Stable: among equal qualities the earlier entry stays first.
    ranges.sort_by_key(|(quality, _)| std::cmp::Reverse(*quality));
    ranges
        .first()
        .map_or(LANGUAGES[0], |(_, language)| language)
}

/// The built-in language whose code is the tag's primary subtag (`sv` of `sv-SE`).
fn supported(tag: &str) -> Option<&'static str> {
    let primary = tag.split(['-', '_']).next().unwrap_or_default();
    LANGUAGES
        .into_iter()
        .find(|language| language.eq_ignore_ascii_case(primary))
}

/// A quality value (`0` to `1`, at most three decimals) in thousandths; `None` if malformed.
fn quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits_only = |text: &str| text.bytes().all(|b| b.is_ascii_digit());
    if fraction.len() > 3 || !digits_only(whole) || !digits_only(fraction) {
        return None;
    }
    let thousandths = match whole {
        "0" => format!("{fraction:0<3}").parse().ok()?,
        "1" if fraction.bytes().all(|b| b == b'0') => 1000,
        _ => return None,
    };
    Some(thousandths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tag_reads_as_its_primary_language_if_supported() {
        assert_eq!(language_of("sv-SE"), "sv");
        assert_eq!(language_of("FI"), "fi");
        assert_eq!(language_of("fi_FI"), "fi");
        assert_eq!(language_of("en-GB"), "en");
        assert_eq!(language_of("de"), "en");
        assert_eq!(language_of(""), "en");
    }

    #[test]
    fn a_list_reads_as_its_most_preferred_supported_language() {
        assert_eq!(language_of("sv-SE,sv;q=0.9,en;q=0.8"), "sv");
        assert_eq!(language_of("de-DE, fi;q=0.8, en;q=0.5"), "fi");
        assert_eq!(language_of("en;q=0.5, fi;q=0.9"), "fi");
        assert_eq!(language_of("fi;q=0.7, sv;q=0.7"), "fi");
        assert_eq!(language_of("sv;q=1.000, en"), "sv");
    }

    #[test]
    fn refusals_wildcards_and_garbage_fall_back_to_english() {
        assert_eq!(language_of("sv;q=0"), "en");
        assert_eq!(language_of("sv;q=0.000, de"), "en");
        assert_eq!(language_of("*"), "en");
        assert_eq!(language_of("sv;q=2"), "en");
        assert_eq!(language_of("sv;q=0.1234"), "en");
        assert_eq!(language_of("sv;q=abc, fi;q=0.1"), "fi");
        assert_eq!(language_of(",,;"), "en");
    }
}
