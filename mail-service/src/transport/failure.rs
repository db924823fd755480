//! How a failed SMTP send is classified for retrying, and what of it is stored and logged.

use super::SendError;

/// SMTP 5xx is permanent; everything else (4xx, refused connections, timeouts, TLS hiccups)
/// may pass, so it is retried.
pub(crate) fn classify_smtp(error: lettre::transport::smtp::Error) -> SendError {
    let reason = smtp_reason(&error);
    if error.is_permanent() {
        SendError::Permanent(reason)
    } else {
        SendError::Transient(reason)
    }
}

/// What a failed SMTP send is stored and logged as: the reply code and the enhanced status
/// code, e.g. `smtp: 550 5.1.1`, or the kind of failure when no reply came. Never the server's
/// text, which often quotes the recipient (`550 5.1.1 <ada@example.com>: user unknown`).
fn smtp_reason(error: &lettre::transport::smtp::Error) -> String {
    use std::error::Error as _;
    let Some(code) = error.status() else {
        let kind = if error.is_timeout() {
            "timeout"
        } else if error.is_tls() {
            "tls failed"
        } else if error.is_response() {
            "unreadable reply"
        } else if error.is_client() {
            "client error"
        } else {
            "connection failed"
        };
        return format!("smtp: {kind}");
    };
    let text = error.source().map(ToString::to_string).unwrap_or_default();
    match enhanced_status(&text) {
        Some(enhanced) => format!("smtp: {code} {enhanced}"),
        None => format!("smtp: {code}"),
    }
}

/// The enhanced status code (RFC 3463 `class.subject.detail`, e.g. `5.1.1`) that opens a
/// reply's text, if it has one.
fn enhanced_status(text: &str) -> Option<&str> {
    let first = text.split_whitespace().next()?;
    let parts: Vec<&str> = first.split('.').collect();
    let well_formed = matches!(parts.as_slice(), [class, subject, detail]
    if matches!(*class, "2" | "4" | "5")
        && [subject, detail].iter().all(|part| {
            (1..=3).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
        }));
    well_formed.then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_enhanced_status_code_is_taken_from_a_replys_text() {
        for (text, expected) in [
            ("5.1.1 <ada@example.com>: no such user", Some("5.1.1")),
            ("4.7.1 greylisted, try later", Some("4.7.1")),
            ("5.7.509 Access denied", Some("5.7.509")),
            ("<ada@example.com>: no such user", None),
            ("recipient refused", None),
            ("5.1 half a code", None),
            ("6.1.1 no such class", None),
            ("5.1.1.1 too long", None),
            ("5.a.1 not digits", None),
            ("", None),
        ] {
            assert_eq!(enhanced_status(text), expected, "{text:?}");
        }
    }
}
