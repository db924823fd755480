//! Mail in the reader's language, chosen from the request's locale (a tag or an
//! `Accept-Language` list), and templates replaced from `MAIL_TEMPLATES_DIR`, or refused at
//! start when they are broken.

use std::{path::Path, time::Duration};

use passreset_testkit::{SmtpSink, test_redis};

use crate::helpers::{config, localised_reset_mail, spawn_app, wait_for_mail_to};

const WAIT: Duration = Duration::from_secs(20);

/// A reset mail to `to` whose link lasts `ttl_seconds`, in `locale`.
fn reset_lasting(
    to: &str,
    locale: &str,
    ttl_seconds: u32,
) -> passreset_proto::mail::v1::EnqueueRequest {
    let mut request = localised_reset_mail(to, "prt_localised", locale);
    if let Some(passreset_proto::mail::v1::enqueue_request::Kind::PasswordReset(reset)) =
        &mut request.kind
    {
        reset.ttl_seconds = ttl_seconds;
    }
    request
}

#[tokio::test]
async fn reset_mails_arrive_in_swedish_and_finnish_with_the_expiry_in_words() {
    let sink = SmtpSink::start().await;
    let app = spawn_app(test_redis().await, &sink.url(), &[]).await;
    // (recipient, locale, link lifetime, subject, words the text must hold)
    let cases: [(&str, &str, u32, &str, &[&str]); 6] = [
        (
            "sv-half-hour@example.com",
            "sv-SE,sv;q=0.9,en;q=0.8",
            1800,
            "Återställ ditt lösenord",
            &["gäller i 30 minuter", "23 november 2026 kl. 14:05 UTC"],
        ),
        (
            "sv-hour@example.com",
            "sv",
            3600,
            "Återställ ditt lösenord",
            &["gäller i 1 timme"],
        ),
        (
            "fi-half-hour@example.com",
            "fi",
            1800,
            "Salasanan vaihtaminen",
            &["voimassa 30 minuuttia", "23.11.2026 klo 14.05 UTC"],
        ),
        (
            "fi-hour@example.com",
            "de-DE, fi;q=0.8, en;q=0.5",
            3600,
            "Salasanan vaihtaminen",
            &["voimassa 1 tunti"],
        ),
        (
            "en@example.com",
            "en-GB",
            1800,
            "Reset your password",
            &["for 30 minutes", "14:05 UTC on 23 November 2026"],
        ),
        (
            "unsupported@example.com",
            "de-DE",
            1800,
            "Reset your password",
            &["for 30 minutes"],
        ),
    ];
    for (to, locale, ttl, _, _) in &cases {
        app.enqueue(reset_lasting(to, locale, *ttl)).await.unwrap();
    }
    for (to, locale, _, subject, words) in &cases {
        let mail = wait_for_mail_to(&sink, to, WAIT).await;
        assert_eq!(mail.subject(), *subject, "{locale}");
        let (text, html) = (mail.text_body(), mail.html_body());
        for word in *words {
            assert!(text.contains(word), "{locale}: {word:?} not in\n{text}");
            assert!(html.contains(word), "{locale}: {word:?} not in\n{html}");
        }
        assert!(
            text.contains("prt_localised"),
            "{locale}: the link is missing"
        );
    }
    app.stop().await;
}

/// Writes `text` to `relative` under `dir`, creating its language directory.
fn write(dir: &Path, relative: &str, text: &str) {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn a_templates_dir_replaces_one_template_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "fi/password_reset.subject",
        "Acme: vaihda salasanasi ({{ expires_in }})",
    );
    let sink = SmtpSink::start().await;
    let templates_dir = dir.path().to_str().unwrap();
    let app = spawn_app(
        test_redis().await,
        &sink.url(),
        &["--templates-dir", templates_dir],
    )
    .await;
    app.enqueue(reset_lasting("fi@example.com", "fi", 1800))
        .await
        .unwrap();
    app.enqueue(reset_lasting("sv@example.com", "sv", 1800))
        .await
        .unwrap();

    let finnish = wait_for_mail_to(&sink, "fi@example.com", WAIT).await;
    assert_eq!(finnish.subject(), "Acme: vaihda salasanasi (30 minuuttia)");
    assert!(
        finnish.text_body().contains("voimassa 30 minuuttia"),
        "the built-in body stays"
    );
    let swedish = wait_for_mail_to(&sink, "sv@example.com", WAIT).await;
    assert_eq!(swedish.subject(), "Återställ ditt lösenord");
    app.stop().await;
}

#[tokio::test]
async fn a_broken_templates_dir_stops_the_start_naming_the_setting_and_the_file() {
    let redis = test_redis().await;
    let sink = SmtpSink::start().await;
    for (file, text) in [
        // An unknown variable: only a render with sample values finds it.
        ("sv/password_changed.html", "<p>{{ account_name }}</p>"),
        // A syntax error.
        ("fi/password_reset.txt", "{% if link %}{{ link }}"),
        // A misspelt name, which would otherwise be silently ignored.
        ("en/pasword_reset.subject", "Reset"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), file, text);
        let flags = ["--templates-dir", dir.path().to_str().unwrap()];
        let error = mail_service::Application::build(config(&redis, &sink.url(), &flags))
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("MAIL_TEMPLATES_DIR"), "{file}: {error}");
        assert!(error.contains(file), "{file}: {error}");
    }
    let missing = ["--templates-dir", "/no/such/templates"];
    let error = mail_service::Application::build(config(&redis, &sink.url(), &missing))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("MAIL_TEMPLATES_DIR"), "{error}");
    assert!(error.contains("/no/such/templates"), "{error}");
    assert!(sink.messages().is_empty());
}
