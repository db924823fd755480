//! The language a request prefers, from its `Accept-Language`: passed on to the mail service
//! so a mail to an address without a stored locale is still written in the reader's language,
//! and the [`Language`] the gateway's own words (pages, persona's form-field errors) are in.

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};

/// The longest language tag passed on (BCP 47 tags in practice are far shorter).
const MAX_TAG: usize = 35;

/// The languages passreset speaks to people: its pages, its error texts and its mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    English,
    Swedish,
    Finnish,
}

impl Language {
    /// The language of a preferred tag (`sv-SE`, `fi`, ...): its primary subtag decides, so
    /// `sv-FI` is Swedish; anything else, and no tag at all, is English.
    pub(crate) fn of_tag(tag: &str) -> Self {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("sv") {
            Self::Swedish
        } else if primary.eq_ignore_ascii_case("fi") {
            Self::Finnish
        } else {
            Self::English
        }
    }

    /// The tag for `<html lang>`, so screen readers pick the right voice.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::Swedish => "sv",
            Self::Finnish => "fi",
        }
    }
}

/// The request's most preferred language tag (e.g. `sv-SE`), empty when it states none. Only
/// a well-formed tag is kept, so nothing odd reaches a log line or the mail service.
#[derive(Debug, Clone, Default)]
pub(crate) struct AcceptLanguage(pub String);

impl<S: Send + Sync> FromRequestParts<S> for AcceptLanguage {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        Ok(Self(preferred(value).unwrap_or_default()))
    }
}

impl AcceptLanguage {
    /// The language of the gateway's own words for this request.
    pub(crate) fn language(&self) -> Language {
        Language::of_tag(&self.0)
    }
}

/// The tag with the highest quality; the first of equals wins, `*` and malformed entries are
/// skipped.
fn preferred(header: &str) -> Option<String> {
    let mut best: Option<(&str, f32)> = None;
    for entry in header.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let tag = parts.next().unwrap_or_default();
        let well_formed = !tag.is_empty()
            && tag.len() <= MAX_TAG
            && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !well_formed {
            continue;
        }
        let quality = parts
            .find_map(|parameter| parameter.strip_prefix("q="))
            .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
            .filter(|q| (0.0..=1.0).contains(q) && *q > 0.0);
        let Some(quality) = quality else {
            continue;
        };
        if best.is_none_or(|(_, best_quality)| quality > best_quality) {
            best = Some((tag, quality));
        }
    }
    best.map(|(tag, _)| tag.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_preferred_language_wins() {
        assert_eq!(
            preferred("sv-SE, sv;q=0.9, en;q=0.8").as_deref(),
            Some("sv-SE")
        );
        assert_eq!(preferred("en;q=0.5, fi;q=0.9").as_deref(), Some("fi"));
        assert_eq!(preferred("fi").as_deref(), Some("fi"));
    }

    #[test]
    fn wildcards_refusals_and_garbage_state_no_language() {
        assert_eq!(preferred(""), None);
        assert_eq!(preferred("*"), None);
        assert_eq!(preferred("sv;q=0"), None);
        assert_eq!(preferred("fi\r\nX-Evil: 1"), None);
        assert_eq!(preferred("<script>, en;q=0.1").as_deref(), Some("en"));
    }

    #[test]
    fn the_primary_subtag_picks_the_language() {
        assert_eq!(Language::of_tag("sv-SE"), Language::Swedish);
        assert_eq!(Language::of_tag("SV"), Language::Swedish);
        assert_eq!(Language::of_tag("sv-FI"), Language::Swedish);
        assert_eq!(Language::of_tag("fi"), Language::Finnish);
        assert_eq!(Language::of_tag("fi-FI"), Language::Finnish);
        assert_eq!(Language::of_tag("en-GB"), Language::English);
        assert_eq!(Language::of_tag("de"), Language::English);
        assert_eq!(Language::of_tag(""), Language::English);
        assert_eq!(
            Language::of_tag("fil"),
            Language::English,
            "Filipino is not Finnish"
        );
    }
}
