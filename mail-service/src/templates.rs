//! The built-in templates (`templates/<locale>/<kind>.{subject,txt,html}`, compiled into the
//! binary and checked at start) and how a queued mail becomes a MIME message.

use lettre::{
    Message,
    message::{
        Body, Mailbox, MultiPart, SinglePart,
        header::{ContentTransferEncoding, ContentType},
    },
};
use minijinja::{Environment, Value, context};
use time::{OffsetDateTime, format_description::BorrowedFormatItem, macros::format_description};

use crate::mail::{Content, QueuedMail};

/// Every built-in template: (name, source). HTML ones are auto-escaped by their extension.
const BUILTIN: &[(&str, &str)] = &[
    (
        "en/password_reset.subject",
        include_str!("../templates/en/password_reset.subject"),
    ),
    (
        "en/password_reset.txt",
        include_str!("../templates/en/password_reset.txt"),
    ),
    (
        "en/password_reset.html",
        include_str!("../templates/en/password_reset.html"),
    ),
    (
        "en/password_changed.subject",
        include_str!("../templates/en/password_changed.subject"),
    ),
    (
        "en/password_changed.txt",
        include_str!("../templates/en/password_changed.txt"),
    ),
    (
        "en/password_changed.html",
        include_str!("../templates/en/password_changed.html"),
    ),
    (
        "en/unknown_account.subject",
        include_str!("../templates/en/unknown_account.subject"),
    ),
    (
        "en/unknown_account.txt",
        include_str!("../templates/en/unknown_account.txt"),
    ),
    (
        "en/unknown_account.html",
        include_str!("../templates/en/unknown_account.html"),
    ),
];

/// How times are stated in mails.
const WHEN: &[BorrowedFormatItem<'static>] =
    format_description!("[hour]:[minute] UTC on [day padding:none] [month repr:long] [year]");

/// A template that does not compile: a start-up error, never a failed send.
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {reason}")]
pub struct TemplateError {
    name: String,
    reason: minijinja::Error,
}

/// Why a mail could not be composed. Permanent: trying again renders the same.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// A template failed at render time.
    #[error("rendering {kind}: {reason}")]
    Render {
        /// The template.
        kind: &'static str,
        /// Why.
        reason: minijinja::Error,
    },
    /// The recipient or a header is unusable.
    #[error("building the message: {0}")]
    Message(String),
}

/// The templates, compiled once and shared by all workers.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Compiles the built-in templates.
    pub fn builtin() -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in BUILTIN {
            env.add_template(name, source)
                .map_err(|reason| TemplateError {
                    name: (*name).to_owned(),
                    reason,
                })?;
        }
        Ok(Self { env })
    }

    /// The MIME message for `mail`: text and HTML alternatives, a subject, and a Message-ID
    /// made of the mail's id and the sender's domain, the same on every attempt.
    pub fn compose(&self, mail: &QueuedMail, from: &Mailbox) -> Result<Message, ComposeError> {
        let kind = mail.content.kind();
        let values = match &mail.content {
            Content::PasswordReset {
                link,
                expires_at_unix,
                ttl_seconds,
            } => context! {
                to => &mail.to,
                link => link.expose(),
                link_html => Value::from_safe_string(escape_html(link.expose())),
                expires_in => duration_in_words(*ttl_seconds),
                expires_at => format_unix(*expires_at_unix),
            },
            Content::PasswordChanged { changed_at_unix } => context! {
                to => &mail.to,
                changed_at => format_unix(*changed_at_unix),
            },
            Content::UnknownAccount => context! { to => &mail.to },
        };
        let render = |part: &str| {
            self.env
                .get_template(&format!("en/{kind}.{part}"))
                .and_then(|template| template.render(&values))
                .map_err(|reason| ComposeError::Render { kind, reason })
        };
        let subject = render("subject")?;
        let text = render("txt")?;
        let html = render("html")?;

        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| ComposeError::Message("the recipient is not an address".to_owned()))?;
        Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject.trim())
            .message_id(Some(format!("<{}@{}>", mail.id, from.email.domain())))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(readable_body(text)),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(readable_body(html)),
                    ),
            )
            .map_err(|error| ComposeError::Message(error.to_string()))
    }
}

/// The longest line SMTP allows (RFC 5321), without its CRLF.
const MAX_LINE: usize = 998;

/// A body that stays readable in its raw form when it can: ASCII text with lines SMTP accepts
/// goes as 7bit, so the link is one unbroken line even in an `.eml` opened in an editor;
/// anything else gets the encoding lettre chooses (quoted-printable or base64).
fn readable_body(text: String) -> Body {
    let fits_7bit = text.is_ascii() && text.lines().all(|line| line.len() <= MAX_LINE);
    if !fits_7bit {
        return Body::new(text);
    }
    let crlf = text.lines().collect::<Vec<_>>().join("\r\n") + "\r\n";
    Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
}

/// `seconds` as a person would say it: "30 minutes", "1 hour", "1 hour and 30 minutes".
pub(crate) fn duration_in_words(seconds: u32) -> String {
    let minutes = seconds.div_ceil(60);
    let (hours, minutes) = (minutes / 60, minutes % 60);
    let unit = |count: u32, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    match (hours, minutes) {
        (0, minutes) => unit(minutes, "minute", "minutes"),
        (hours, 0) => unit(hours, "hour", "hours"),
        (hours, minutes) => format!(
            "{} and {}",
            unit(hours, "hour", "hours"),
            unit(minutes, "minute", "minutes")
        ),
    }
}

/// Escapes what HTML needs escaped and no more, so a link stays readable in the HTML source
/// (the template engine's own escaping also turns every `/` into `&#x2f;`).
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn format_unix(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|when| when.format(WHEN).ok())
        .unwrap_or_else(|| "an unknown time".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::{Link, MessageId};

    fn from() -> Mailbox {
        "Acme <no-reply@acme.example>".parse().unwrap()
    }

    fn reset_mail() -> QueuedMail {
        QueuedMail {
            id: MessageId::new(),
            traceparent: String::new(),
            to: "ada@example.com".to_owned(),
            locale: String::new(),
            content: Content::PasswordReset {
                link: Link::new("https://reset.example/reset?token=prt_abc&x=<y>".to_owned()),
                expires_at_unix: 1_795_000_000,
                ttl_seconds: 1800,
            },
        }
    }

    fn formatted(message: &Message) -> String {
        String::from_utf8(message.formatted()).unwrap()
    }

    #[test]
    fn every_builtin_template_compiles() {
        Templates::builtin().unwrap();
    }

    #[test]
    fn a_reset_mail_holds_the_link_and_its_lifetime_in_words() {
        let mail = reset_mail();
        let message = Templates::builtin()
            .unwrap()
            .compose(&mail, &from())
            .unwrap();
        let raw = formatted(&message);
        assert!(raw.contains("Subject: Reset your password"), "{raw}");
        assert!(raw.contains("for 30 minutes"), "{raw}");
        assert!(raw.contains("UTC on"), "{raw}");
        assert!(raw.contains("Content-Type: text/plain"), "{raw}");
        // Unbroken in the raw message, as a person opening the .eml would look for it.
        assert!(
            raw.contains("\r\nhttps://reset.example/reset?token=prt_abc&x=<y>\r\n"),
            "{raw}"
        );
        assert!(raw.contains("Content-Type: text/html"), "{raw}");
        // The HTML part escapes what the link holds.
        assert!(
            raw.contains("&lt;y&gt;") || raw.contains("&amp;x="),
            "{raw}"
        );
    }

    #[test]
    fn the_message_id_is_the_mail_id_at_the_senders_domain_on_every_attempt() {
        let mail = reset_mail();
        let templates = Templates::builtin().unwrap();
        let expected = format!("Message-ID: <{}@acme.example>", mail.id);
        for _ in 0..2 {
            let raw = formatted(&templates.compose(&mail, &from()).unwrap());
            assert!(raw.contains(&expected), "{raw}");
        }
    }

    #[test]
    fn the_other_kinds_render_too() {
        let templates = Templates::builtin().unwrap();
        for content in [
            Content::PasswordChanged {
                changed_at_unix: 1_795_000_000,
            },
            Content::UnknownAccount,
        ] {
            let mail = QueuedMail {
                content,
                ..reset_mail()
            };
            let raw = formatted(&templates.compose(&mail, &from()).unwrap());
            assert!(raw.contains("ada@example.com"), "{raw}");
            assert!(!raw.contains("prt_abc"), "{raw}");
        }
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_in_words(60), "1 minute");
        assert_eq!(duration_in_words(1800), "30 minutes");
        assert_eq!(duration_in_words(3600), "1 hour");
        assert_eq!(duration_in_words(5400), "1 hour and 30 minutes");
        assert_eq!(duration_in_words(7260), "2 hours and 1 minute");
    }
}
