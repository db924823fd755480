//! No secret in any log line: the whole flow on both surfaces and the reset page runs with every
//! crate logging at TRACE (spans included) into a buffer, which is then searched for every
//! token, password, link, API key and gRPC bearer secret used. A binary of its own, because the capturing subscriber is process-wide.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step must fail the test loudly"
)]

#[allow(dead_code, reason = "shared with the e2e binary, which uses all of it")]
#[path = "e2e/helpers.rs"]
mod helpers;

use std::{
    io::Write,
    sync::{Arc, Mutex, PoisonError},
};

use helpers::{RESET_URL, json_of, spawn_app_secured, token_in};
use reqwest::StatusCode;
use tracing_subscriber::fmt::{MakeWriter, format::FmtSpan};

const PERSONA_EMAIL: &str = "ada@example.com";
const METAL_EMAIL: &str = "grace@example.com";
const OLD_PASSWORD: &str = "old-Secret-Passw0rd-1";
const NEW_PASSWORD: &str = "violet-Harbour-Quokka-77";
const MISMATCH: &str = "other-Harbour-Quokka-78";
const WEAK: &str = "password1234";

/// Everything logged, in one buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_password_link_api_key_or_bearer_secret_reaches_a_log_line_even_at_trace() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(capture.clone())
        .init();

    let app = spawn_app_secured().await;
    app.create_account(PERSONA_EMAIL, OLD_PASSWORD).await;
    app.create_account(METAL_EMAIL, OLD_PASSWORD).await;

    // persona: forgot, check, a mismatch, a weak password, then the reset.
    assert_eq!(
        app.forgot(PERSONA_EMAIL).await.status(),
        StatusCode::NO_CONTENT
    );
    let persona_mail = app.mail_number(1).await;
    let persona_token = token_in(&persona_mail);
    assert_eq!(
        app.check_token(&persona_token).await.status(),
        StatusCode::NO_CONTENT
    );
    // The reset page, with the token in its address and in its form.
    let page = app
        .http
        .get(format!("{}/reset?token={persona_token}", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page_weak = app
        .http
        .post(format!("{}/reset", app.base_url))
        .form(&[
            ("token", persona_token.as_str()),
            ("password", WEAK),
            ("confirm_password", WEAK),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page_weak.status(), StatusCode::BAD_REQUEST);
    let mismatch = app.reset(&persona_token, NEW_PASSWORD, MISMATCH).await;
    assert_eq!(mismatch.status(), StatusCode::BAD_REQUEST);
    let weak = app.reset(&persona_token, WEAK, WEAK).await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let reset = app.reset(&persona_token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.check_token(&persona_token).await.status(),
        StatusCode::BAD_REQUEST
    );

    // Metal: an API key starts it, the mailed token spends it for a generated password.
    let created = app
        .http
        .post(format!("{}/metal/v1/reset-password", app.base_url))
        .query(&[("email", METAL_EMAIL)])
        .header("X-Auth-Token", &app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let metal_token = token_in(&app.mail_number(3).await);
    let deleted = app
        .http
        .delete(format!("{}/metal/v1/reset-password", app.base_url))
        .header("X-Auth-Token", &metal_token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::CREATED);
    let generated = json_of(deleted).await["new_password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(app.password_verifies(METAL_EMAIL, &generated).await);
    app.mail_number(4).await;
    let api_key = app.api_key.clone();
    let bearers = app.secrets.clone().expect("a secured app");
    app.stop().await;

    let logs = capture.text();
    // The capture works: the flow's own audit lines are there.
    assert!(logs.contains(r#"event="issued""#), "nothing was captured");
    assert!(logs.contains("TRACE"), "not captured at trace level");
    // The gRPC calls were made as named callers, and their lines say who.
    assert!(
        logs.contains(r#"caller="gateway""#),
        "no caller in the lines"
    );
    let link = RESET_URL.replace("{token}", &persona_token);
    let secrets = [
        ("the persona token", persona_token.as_str()),
        ("the metal token", metal_token.as_str()),
        ("the reset link", link.as_str()),
        ("the old password", OLD_PASSWORD),
        ("the new password", NEW_PASSWORD),
        ("the mismatched confirmation", MISMATCH),
        ("the weak password", WEAK),
        ("the generated password", generated.as_str()),
        ("the API key", api_key.as_str()),
        (
            "the gateway's token-service secret",
            &bearers.gateway_to_tokens,
        ),
        (
            "the gateway's mail-service secret",
            &bearers.gateway_to_mail,
        ),
        (
            "the mail service's token-service secret",
            &bearers.mail_to_tokens,
        ),
        ("the admin client's secret", &bearers.admin),
    ];
    for (what, secret) in secrets {
        if let Some(at) = logs.find(secret) {
            let line_start = logs[..at].rfind('\n').map_or(0, |n| n + 1);
            let line_end = logs[at..].find('\n').map_or(logs.len(), |n| at + n);
            panic!("{what} is in the logs:\n{}", &logs[line_start..line_end]);
        }
    }
}
