//! The mail templates and how a queued mail becomes a MIME message.
//!
//! Built in: `templates/<language>/<kind>.{subject,txt,html}` for English, Swedish and Finnish,
//! compiled into the binary. `MAIL_TEMPLATES_DIR` overrides any of them by the same path. Every
//! template is rendered once at start with sample values under strict undefined behaviour, so a
//! broken one (or a directory that is missing, or a file in it that would replace nothing) stops
//! the service there, naming the file, instead of failing sends or going unnoticed.
//!
//! - `language.rs`: which built-in language a mail's locale (a tag or an `Accept-Language`
//!   list) asks for;
//! - `words.rs`: durations and times in the reader's language.

mod language;
mod words;

use std::path::{Path, PathBuf};

use lettre::{
    Message,
    message::{
        Body, Mailbox, MultiPart, SinglePart,
        header::{ContentTransferEncoding, ContentType},
    },
};
use minijinja::{Environment, Value, context};

use self::{
    language::{LANGUAGES, language_of},
    words::{duration_in_words, time_in_words},
};
use crate::mail::{Content, MessageId, QueuedMail, Secret};

/// The parts of each template set. HTML is auto-escaped by its extension.
const PARTS: [&str; 3] = ["subject", "txt", "html"];

/// Every built-in template, by its path under `templates/`.
macro_rules! builtin {
    ($($language:literal),*) => {
        &[$(
            builtin!(@one $language, "password_reset"),
            builtin!(@one $language, "password_changed"),
            builtin!(@one $language, "unknown_account"),
        )*]
    };
    (@one $language:literal, $kind:literal) => {
        [
            (
                concat!($language, "/", $kind, ".subject"),
                include_str!(concat!("../../templates/", $language, "/", $kind, ".subject")),
            ),
            (
                concat!($language, "/", $kind, ".txt"),
                include_str!(concat!("../../templates/", $language, "/", $kind, ".txt")),
            ),
            (
                concat!($language, "/", $kind, ".html"),
                include_str!(concat!("../../templates/", $language, "/", $kind, ".html")),
            ),
        ]
    };
}
const BUILTIN: &[[(&str, &str); 3]] = builtin!("en", "sv", "fi");

/// A template that cannot be used: a start-up error, never a failed send.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// `MAIL_TEMPLATES_DIR` is not a directory that can be read.
    #[error("MAIL_TEMPLATES_DIR: {path} is not a readable directory: {reason}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why not.
        reason: std::io::Error,
    },
    /// A file of `MAIL_TEMPLATES_DIR` looks like a template but replaces none, so it would be
    /// silently ignored (a misspelt name, or a language there is no built-in template for).
    #[error(
        "MAIL_TEMPLATES_DIR: {path} replaces no template (expected <language>/<kind>.<part> \
         with language {languages}, kind password_reset, password_changed or unknown_account, \
         part subject, txt or html)",
        languages = LANGUAGES.join(", ")
    )]
    Unknown {
        /// The file.
        path: PathBuf,
    },
    /// A file of `MAIL_TEMPLATES_DIR` cannot be read.
    #[error("MAIL_TEMPLATES_DIR: cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why not.
        reason: std::io::Error,
    },
    /// A template does not compile or does not render with sample values.
    #[error("{origin}: template {name} is broken: {reason}")]
    Broken {
        /// `MAIL_TEMPLATES_DIR` with the file, or "built-in".
        origin: String,
        /// The template's path under the templates directory.
        name: String,
        /// What minijinja said.
        reason: minijinja::Error,
    },
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
    /// The built-in templates, each replaced by the file of the same path under `overrides`
    /// when there is one; every template checked with sample values.
    pub fn load(overrides: Option<&Path>) -> Result<Self, TemplateError> {
        if let Some(dir) = overrides {
            check_overrides(dir)?;
        }
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        let mut origins = Vec::new();
        for (name, source) in BUILTIN.iter().flatten() {
            let file = overrides
                .map(|dir| dir.join(name))
                .filter(|file| file.is_file());
            let (source, origin) = match &file {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(path).map_err(|reason| TemplateError::Read {
                            path: path.clone(),
                            reason,
                        })?;
                    (text, format!("MAIL_TEMPLATES_DIR ({})", path.display()))
                }
                None => ((*source).to_owned(), "built-in".to_owned()),
            };
            env.add_template_owned((*name).to_owned(), source)
                .map_err(|reason| TemplateError::Broken {
                    origin: origin.clone(),
                    name: (*name).to_owned(),
                    reason,
                })?;
            origins.push(((*name).to_owned(), origin));
        }
        let templates = Self { env };
        templates.check_all(&origins)?;
        Ok(templates)
    }

    /// Renders every template with sample values, so unknown variables show up now.
    fn check_all(&self, origins: &[(String, String)]) -> Result<(), TemplateError> {
        let samples = [
            Content::PasswordReset {
                link: Secret::new("https://example.com/reset?token=sample".to_owned()),
                token: None,
                expires_at_unix: 0,
                ttl_seconds: 1800,
            },
            Content::PasswordChanged { changed_at_unix: 0 },
            Content::UnknownAccount,
        ];
        for language in LANGUAGES {
            for content in &samples {
                let mail = QueuedMail {
                    id: MessageId::new(),
                    traceparent: String::new(),
                    to: "sample@example.com".to_owned(),
                    locale: language.to_owned(),
                    content: content.clone(),
                };
                let values = values_for(&mail, language);
                for part in PARTS {
                    let name = format!("{language}/{}.{part}", content.kind());
                    let rendered = self
                        .env
                        .get_template(&name)
                        .and_then(|template| template.render(&values));
                    if let Err(reason) = rendered {
                        let origin = origins
                            .iter()
                            .find(|(known, _)| *known == name)
                            .map_or_else(|| "built-in".to_owned(), |(_, origin)| origin.clone());
                        return Err(TemplateError::Broken {
                            origin,
                            name,
                            reason,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The MIME message for `mail` in its recipient's language: text and HTML alternatives, a
    /// subject, and a Message-ID made of the mail's id and the sender's domain, the same on
    /// every attempt.
    pub fn compose(&self, mail: &QueuedMail, from: &Mailbox) -> Result<Message, ComposeError> {
        let kind = mail.content.kind();
        let language = language_of(&mail.locale);
        let values = values_for(mail, language);
        let render = |part: &str| {
            self.env
                .get_template(&format!("{language}/{kind}.{part}"))
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

/// Checks that `dir` is a readable directory in which every file that looks like a template
/// (a `.subject`, `.txt` or `.html` at the top or one directory down) replaces a built-in one.
/// Hidden entries are skipped (a Kubernetes ConfigMap volume keeps its data in `..data`).
fn check_overrides(dir: &Path) -> Result<(), TemplateError> {
    let unreadable = |path: &Path| {
        let path = path.to_owned();
        move |reason| TemplateError::Dir { path, reason }
    };
    let visible = |path: &Path| {
        std::fs::read_dir(path)
            .map_err(unreadable(path))?
            .map(|entry| entry.map(|entry| entry.path()).map_err(unreadable(path)))
            .filter(|entry| {
                entry.as_ref().map_or(true, |path| {
                    !path
                        .file_name()
                        .is_some_and(|name| name.to_string_lossy().starts_with('.'))
                })
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let mut files = Vec::new();
    for entry in visible(dir)? {
        if entry.is_dir() {
            files.extend(visible(&entry)?);
        } else {
            files.push(entry);
        }
    }
    let known = |file: &Path| {
        file.strip_prefix(dir).is_ok_and(|name| {
            BUILTIN
                .iter()
                .flatten()
                .any(|(builtin, _)| name == Path::new(builtin))
        })
    };
    let looks_like_a_template = |file: &Path| {
        file.extension()
            .is_some_and(|extension| PARTS.iter().any(|part| extension == *part))
    };
    match files
        .into_iter()
        .find(|file| file.is_file() && looks_like_a_template(file) && !known(file))
    {
        Some(path) => Err(TemplateError::Unknown { path }),
        None => Ok(()),
    }
}

/// What the templates of `mail`'s kind may use.
fn values_for(mail: &QueuedMail, language: &str) -> Value {
    match &mail.content {
        Content::PasswordReset {
            link,
            expires_at_unix,
            ttl_seconds,
            ..
        } => context! {
            to => &mail.to,
            link => link.expose(),
            link_html => Value::from_safe_string(escape_html(link.expose())),
            expires_in => duration_in_words(*ttl_seconds, language),
            expires_at => time_in_words(*expires_at_unix, language),
        },
        Content::PasswordChanged { changed_at_unix } => context! {
            to => &mail.to,
            changed_at => time_in_words(*changed_at_unix, language),
        },
        Content::UnknownAccount => context! { to => &mail.to },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::{MessageId, Secret};

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
                link: Secret::new("https://reset.example/reset?token=prt_abc&x=<y>".to_owned()),
                token: None,
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
        Templates::load(None).unwrap();
    }

    #[test]
    fn a_reset_mail_holds_the_link_and_its_lifetime_in_words() {
        let mail = reset_mail();
        let message = Templates::load(None)
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
        let templates = Templates::load(None).unwrap();
        let expected = format!("Message-ID: <{}@acme.example>", mail.id);
        for _ in 0..2 {
            let raw = formatted(&templates.compose(&mail, &from()).unwrap());
            assert!(raw.contains(&expected), "{raw}");
        }
    }

    #[test]
    fn swedish_and_finnish_readers_get_their_language() {
        let templates = Templates::load(None).unwrap();
        for (locale, subject, expiry) in [
            ("sv-SE", "Återställ ditt lösenord", "30 minuter"),
            ("fi", "Salasanan vaihtaminen", "30 minuuttia"),
            ("de-DE", "Reset your password", "30 minutes"),
        ] {
            let mail = QueuedMail {
                locale: locale.to_owned(),
                ..reset_mail()
            };
            let message = templates.compose(&mail, &from()).unwrap();
            let subject_header = message
                .headers()
                .get_raw("Subject")
                .unwrap_or_default()
                .to_owned();
            let raw = formatted(&message);
            assert!(
                raw.contains(subject) || subject_header.contains(subject),
                "{locale}: {subject_header}"
            );
            let parsed = mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .unwrap();
            assert_eq!(parsed.subject(), Some(subject), "{locale}");
            assert!(parsed.body_text(0).unwrap().contains(expiry), "{locale}");
        }
    }

    #[test]
    fn a_templates_dir_overrides_one_template_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sv")).unwrap();
        std::fs::write(
            dir.path().join("sv/password_reset.subject"),
            "Acme: nytt lösenord",
        )
        .unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        let swedish = QueuedMail {
            locale: "sv".to_owned(),
            ..reset_mail()
        };
        let parse = |mail: &QueuedMail| {
            let raw = formatted(&templates.compose(mail, &from()).unwrap());
            mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .unwrap()
                .subject()
                .map(str::to_owned)
        };
        assert_eq!(parse(&swedish).as_deref(), Some("Acme: nytt lösenord"));
        assert_eq!(parse(&reset_mail()).as_deref(), Some("Reset your password"));
    }

    #[test]
    fn a_broken_template_stops_the_start_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("fi")).unwrap();
        std::fs::write(
            dir.path().join("fi/password_changed.txt"),
            "{{ no_such_value }}",
        )
        .unwrap();
        let error = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(error.contains("MAIL_TEMPLATES_DIR"), "{error}");
        assert!(error.contains("fi/password_changed.txt"), "{error}");

        std::fs::write(dir.path().join("fi/password_changed.txt"), "{% if %}").unwrap();
        let error = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(error.contains("fi/password_changed.txt"), "{error}");
    }

    #[test]
    fn a_templates_dir_that_is_missing_or_holds_a_stray_template_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-dir");
        let error = Templates::load(Some(&missing)).unwrap_err().to_string();
        assert!(error.contains("MAIL_TEMPLATES_DIR"), "{error}");
        assert!(error.contains("no-such-dir"), "{error}");

        for stray in [
            "sv/password_rest.txt",
            "de/password_reset.txt",
            "password_reset.html",
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(stray);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "Hello").unwrap();
            let error = Templates::load(Some(dir.path())).unwrap_err().to_string();
            assert!(error.contains("MAIL_TEMPLATES_DIR"), "{error}");
            assert!(error.contains(stray), "{stray}: {error}");
        }
    }

    #[test]
    fn other_files_and_hidden_entries_of_a_templates_dir_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("README.md"), "our templates").unwrap();
        std::fs::create_dir_all(dir.path().join("..data/sv")).unwrap();
        std::fs::write(dir.path().join("..data/sv/whatever.txt"), "x").unwrap();
        std::fs::create_dir_all(dir.path().join("fi")).unwrap();
        std::fs::write(dir.path().join("fi/.password_reset.txt.swp"), "x").unwrap();
        Templates::load(Some(dir.path())).unwrap();
    }

    #[test]
    fn the_other_kinds_render_too() {
        let templates = Templates::load(None).unwrap();
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
}
