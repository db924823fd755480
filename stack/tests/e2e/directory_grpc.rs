//! `TOKEN_DIRECTORY=grpc://`: the persona and Metal flows against the reference directory
//! (`examples/json-directory`), and what each failure of the platform's directory does.

use std::{sync::Arc, time::Duration};

use json_directory::{Fault, Faults, JsonDirectory, UsersFile};
use passreset_proto::token::v1::{GetAccountRequest, get_account_request::Key};
use reqwest::StatusCode;
use tonic::Code;

use crate::helpers::{TestApp, json_of, spawn_app_with, token_in};

const EMAIL: &str = "ada@example.com";
const ACCOUNT_ID: &str = "user-1001";
const OLD_PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "correct horse battery staple";

/// The reference directory on a free port over a fresh users file holding one account.
pub struct Platform {
    pub faults: Arc<Faults>,
    pub url: String,
    file: tempfile::TempDir,
}

impl Platform {
    pub async fn start(latency: Duration) -> Self {
        let file = tempfile::tempdir().unwrap();
        let path = file.path().join("users.json");
        let mut users = UsersFile::default();
        users.upsert(ACCOUNT_ID, EMAIL, "sv", OLD_PASSWORD).unwrap();
        users.save(&path).unwrap();
        let directory = JsonDirectory::new(path, latency);
        let faults = directory.faults();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("grpc://{}", listener.local_addr().unwrap());
        tokio::spawn(directory.serve(listener, std::future::pending()));
        Self { faults, url, file }
    }

    /// Whether the users file holds `password` for `email`, by the file's own argon2id hash.
    pub fn password_is(&self, email: &str, password: &str) -> bool {
        let users = UsersFile::load(&self.file.path().join("users.json")).unwrap();
        let user = users.by_email(email).expect("the account is there");
        json_directory::store::verify(&user.password_hash, password)
    }
}

/// passreset over `platform`, each directory call with a short deadline.
pub async fn spawn_app_over(platform: &Platform) -> TestApp {
    spawn_app_with(&["--directory", &platform.url, "--directory-timeout", "500ms"]).await
}

async fn mailed_token(app: &TestApp, number: usize) -> String {
    assert_eq!(app.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    token_in(&app.mail_number(number).await)
}

#[tokio::test]
async fn a_persona_reset_sets_the_password_in_the_platforms_directory() {
    let platform = Platform::start(Duration::ZERO).await;
    let app = spawn_app_over(&platform).await;

    // The directory matches addresses case-insensitively; the mail goes to its address.
    assert_eq!(
        app.forgot("  ADA@Example.com ").await.status(),
        StatusCode::NO_CONTENT
    );
    let mail = app.mail_number(1).await;
    assert_eq!(mail.recipients, vec![EMAIL.to_owned()]);
    let token = token_in(&mail);
    // Keys name the platform's account id, never the address.
    let keys = app.redis.keys().await.join(" ");
    assert!(keys.contains(ACCOUNT_ID), "{keys}");
    assert!(!keys.contains(EMAIL), "{keys}");
    assert_eq!(
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(platform.password_is(EMAIL, NEW_PASSWORD));
    assert!(!platform.password_is(EMAIL, OLD_PASSWORD));
    assert_eq!(platform.faults.passwords_written(), 1);
    assert_eq!(platform.faults.calls_without_deadline(), 0);

    let again = app.reset(&token, "another fine password 2", "another fine password 2");
    assert!(again.await.status().is_client_error());
    assert_eq!(platform.faults.passwords_written(), 1);
    // The notice follows, in the account's locale.
    let notice = app.mail_number(2).await;
    assert_eq!(notice.recipients, vec![EMAIL.to_owned()]);
    app.stop().await;
}

#[tokio::test]
async fn a_metal_reset_sets_a_generated_password_in_the_platforms_directory() {
    let platform = Platform::start(Duration::ZERO).await;
    let app = spawn_app_over(&platform).await;

    let new_password = app.metal_generated_password(EMAIL, 1).await;
    assert!(platform.password_is(EMAIL, &new_password));
    app.stop().await;
}

#[tokio::test]
async fn an_unavailable_set_keeps_the_token_and_the_retry_finishes_the_reset() {
    let platform = Platform::start(Duration::ZERO).await;
    let app = spawn_app_over(&platform).await;
    let token = mailed_token(&app, 1).await;

    platform.faults.fail_next_set_password(Fault::Unavailable);
    let failed = app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(platform.password_is(EMAIL, OLD_PASSWORD));
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(platform.password_is(EMAIL, NEW_PASSWORD));
    assert_eq!(platform.faults.passwords_written(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_set_that_lands_after_the_deadline_is_finished_by_the_retry_without_a_second_write() {
    let platform = Platform::start(Duration::ZERO).await;
    let app = spawn_app_over(&platform).await;
    let token = mailed_token(&app, 1).await;

    platform
        .faults
        .fail_next_set_password(Fault::AnswerLate(Duration::from_secs(2)));
    let late = app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(late.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(platform.faults.passwords_written(), 1);

    // Another password cannot ride on the same reset: the first may have landed.
    let other = "a different long password 3";
    let refused = app.reset(&token, other, other).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(json_of(refused).await["token_in_use"].is_object());
    assert!(platform.password_is(EMAIL, NEW_PASSWORD));

    // The same password finishes it, with the same idempotency key: nothing is written again.
    assert_eq!(
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(platform.faults.passwords_written(), 1);
    assert!(app.check_token(&token).await.status().is_client_error());
    app.stop().await;
}

#[tokio::test]
async fn a_password_the_directory_refuses_is_a_policy_failure_in_its_words_and_the_token_stays_usable()
 {
    let platform = Platform::start(Duration::ZERO).await;
    let app = spawn_app_over(&platform).await;
    let token = mailed_token(&app, 1).await;

    let words = "This password appears in a list of breached passwords";
    platform
        .faults
        .fail_next_set_password(Fault::Refuse(words.to_owned()));
    let refused = app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = json_of(refused).await.to_string();
    assert!(body.contains(words), "{body}");
    assert_eq!(platform.faults.passwords_written(), 0);

    // Another password goes through with the same token.
    let other = "a different long password 3";
    assert_eq!(
        app.reset(&token, other, other).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(platform.password_is(EMAIL, other));
    app.stop().await;
}

#[tokio::test]
async fn a_lookup_that_hangs_past_the_deadline_is_503_for_every_address_counted_and_mails_nothing()
{
    let platform = Platform::start(Duration::ZERO).await;
    let app = spawn_app_over(&platform).await;

    platform.faults.hang_lookups(true);
    let known = app.forgot(EMAIL).await;
    let unknown = app.forgot("nobody@example.com").await;
    assert_eq!(known.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(unknown.status(), known.status());
    assert_eq!(json_of(known).await, json_of(unknown).await);
    let metrics = app
        .http
        .get(&app.token_metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"tokens_total{event="directory_unavailable"} 2"#),
        "{metrics}"
    );

    // Once the directory answers, the next request's mail is the first one sent.
    platform.faults.hang_lookups(false);
    let token = mailed_token(&app, 1).await;
    assert!(token.starts_with("prt_"));
    assert_eq!(app.smtp.messages().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_admin_calls_of_the_built_in_directory_are_failed_precondition() {
    let platform = Platform::start(Duration::ZERO).await;
    let app = spawn_app_over(&platform).await;
    let status = app
        .directory
        .clone()
        .get_account(GetAccountRequest {
            key: Some(Key::Email(EMAIL.to_owned())),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("TOKEN_DIRECTORY"),
        "{}",
        status.message()
    );
    app.stop().await;
}
