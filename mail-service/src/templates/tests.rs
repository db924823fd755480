//! The templates as a whole: loaded, overridden, checked and composed.

use lettre::{Message, message::Mailbox};

use super::Templates;
use crate::mail::{Content, MessageId, QueuedMail, Secret};

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

/// A templates directory holding `files`: (path under it, text).
fn templates_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
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
    let dir = templates_dir(&[("sv/password_reset.subject", "Acme: nytt lösenord")]);
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
    let dir = templates_dir(&[("fi/password_changed.txt", "{{ no_such_value }}")]);
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
        let dir = templates_dir(&[(stray, "Hello")]);
        let error = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(error.contains("MAIL_TEMPLATES_DIR"), "{error}");
        assert!(error.contains(stray), "{stray}: {error}");
    }
}

#[test]
fn other_files_and_hidden_entries_of_a_templates_dir_are_left_alone() {
    let dir = templates_dir(&[
        ("README.md", "our templates"),
        ("..data/sv/whatever.txt", "x"),
        ("fi/.password_reset.txt.swp", "x"),
    ]);
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
