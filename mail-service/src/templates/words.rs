//! Durations and times in the reader's language: "30 minutes", "30 minuter", "30 minuuttia".

use time::{OffsetDateTime, format_description::BorrowedFormatItem, macros::format_description};

/// `seconds` as a person would say it, rounded up to whole minutes.
pub(crate) fn duration_in_words(seconds: u32, language: &str) -> String {
    let minutes = seconds.div_ceil(60);
    let (hours, minutes) = (minutes / 60, minutes % 60);
    // (one, many) per unit, and the word for "and".
    let (minute, hour, and) = match language {
        "sv" => (("minut", "minuter"), ("timme", "timmar"), "och"),
        "fi" => (("minuutti", "minuuttia"), ("tunti", "tuntia"), "ja"),
        _ => (("minute", "minutes"), ("hour", "hours"), "and"),
    };
    let unit = |count: u32, (one, many): (&str, &str)| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    match (hours, minutes) {
        (0, minutes) => unit(minutes, minute),
        (hours, 0) => unit(hours, hour),
        (hours, minutes) => format!("{} {and} {}", unit(hours, hour), unit(minutes, minute)),
    }
}

const EN: &[BorrowedFormatItem<'static>] =
    format_description!("[hour]:[minute] UTC on [day padding:none] [month repr:long] [year]");
const FI: &[BorrowedFormatItem<'static>] =
    format_description!("[day padding:none].[month padding:none].[year] klo [hour].[minute] UTC");
const SV_DATE: &[BorrowedFormatItem<'static>] = format_description!("[day padding:none]");
const SV_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year] kl. [hour]:[minute] UTC");
const SV_MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
];

/// A Unix time as the reader's language writes it (always in UTC, said so).
pub(crate) fn time_in_words(seconds: i64, language: &str) -> String {
    let Ok(when) = OffsetDateTime::from_unix_timestamp(seconds) else {
        return String::new();
    };
    let written = match language {
        "fi" => when.format(FI),
        "sv" => {
            let month = SV_MONTHS[usize::from(u8::from(when.month())) - 1];
            when.format(SV_DATE).and_then(|day| {
                when.format(SV_TIME)
                    .map(|rest| format!("{day} {month} {rest}"))
            })
        }
        _ => when.format(EN),
    };
    written.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words_in_each_language() {
        assert_eq!(duration_in_words(60, "en"), "1 minute");
        assert_eq!(duration_in_words(1800, "en"), "30 minutes");
        assert_eq!(duration_in_words(3600, "en"), "1 hour");
        assert_eq!(duration_in_words(5400, "en"), "1 hour and 30 minutes");
        assert_eq!(duration_in_words(7260, "en"), "2 hours and 1 minute");
        assert_eq!(duration_in_words(1800, "sv"), "30 minuter");
        assert_eq!(duration_in_words(5400, "sv"), "1 timme och 30 minuter");
        assert_eq!(duration_in_words(1800, "fi"), "30 minuuttia");
        assert_eq!(duration_in_words(7200, "fi"), "2 tuntia");
        assert_eq!(duration_in_words(3660, "fi"), "1 tunti ja 1 minuutti");
    }

    #[test]
    fn times_are_written_the_readers_way() {
        // 2026-11-23 14:05:00 UTC
        let when = 1_795_442_700;
        assert_eq!(time_in_words(when, "en"), "14:05 UTC on 23 November 2026");
        assert_eq!(time_in_words(when, "sv"), "23 november 2026 kl. 14:05 UTC");
        assert_eq!(time_in_words(when, "fi"), "23.11.2026 klo 14.05 UTC");
    }
}
