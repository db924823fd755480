//! The rate limits through real gRPC on real Redis: identical for known and unknown addresses,
//! per client IP, on failed token attempts, and off when configured so.

use passreset_proto::token::v1::{CheckTokenRequest, IssueTokenRequest, RequestContext};
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

use crate::helpers::{TestApp, spawn_app_with};

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "the old password 1";

fn from(ip: &str) -> Option<RequestContext> {
    Some(RequestContext {
        client_ip: ip.to_owned(),
        surface: "persona".to_owned(),
        api_key_name: String::new(),
    })
}

async fn issue_from(app: &TestApp, email: &str, ip: &str) -> Result<(), Status> {
    app.tokens
        .clone()
        .issue_token(IssueTokenRequest {
            email: email.to_owned(),
            context: from(ip),
        })
        .await
        .map(drop)
}

async fn check_from(app: &TestApp, token: &str, ip: &str) -> Result<(), Status> {
    app.tokens
        .clone()
        .check_token(CheckTokenRequest {
            token: token.to_owned(),
            context: from(ip),
        })
        .await
        .map(drop)
}

/// `"ok"`, or the refusal's code, reason and retry delay: what a caller can observe.
fn observed(outcome: &Result<(), Status>) -> String {
    match outcome {
        Ok(()) => "ok".to_owned(),
        Err(status) => format!(
            "{:?} {:?} {:?}",
            status.code(),
            status.get_details_error_info().map(|info| info.reason),
            status
                .get_details_retry_info()
                .and_then(|info| info.retry_delay)
        ),
    }
}

fn assert_rate_limited(outcome: &Result<(), Status>) {
    let Err(status) = outcome else {
        panic!("allowed");
    };
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(
        status
            .get_details_error_info()
            .map(|info| info.reason)
            .as_deref(),
        Some("RATE_LIMITED")
    );
    let delay = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
        .expect("a retry delay");
    assert!(delay.as_secs() >= 1);
}

#[tokio::test]
async fn a_known_and_an_unknown_address_meet_the_same_per_address_limit() {
    let app = spawn_app_with(|config| {
        config.limit_per_address = "3/1h".parse().unwrap();
    })
    .await;
    app.create_account(EMAIL, PASSWORD).await;

    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..5 {
        known.push(observed(&issue_from(&app, EMAIL, "203.0.113.1").await));
        unknown.push(observed(
            &issue_from(&app, "nobody@example.com", "203.0.113.2").await,
        ));
    }
    assert_eq!(known, unknown);
    assert_eq!(known[..3], ["ok", "ok", "ok"]);
    assert_rate_limited(&issue_from(&app, EMAIL, "203.0.113.3").await);
    // The address is normalised first: another spelling is the same address.
    assert_rate_limited(&issue_from(&app, "  ADA@Example.COM ", "203.0.113.4").await);
    // Another address is not affected.
    issue_from(&app, "grace@example.com", "203.0.113.1")
        .await
        .unwrap();
    app.stop().await;
}

#[tokio::test]
async fn one_client_ip_is_limited_across_addresses() {
    let app = spawn_app_with(|config| {
        config.limit_per_ip = "4/15m".parse().unwrap();
    })
    .await;
    for n in 0..4 {
        issue_from(&app, &format!("user{n}@example.com"), "198.51.100.9")
            .await
            .unwrap();
    }
    assert_rate_limited(&issue_from(&app, "user9@example.com", "198.51.100.9").await);
    issue_from(&app, "user9@example.com", "198.51.100.10")
        .await
        .unwrap();
    app.stop().await;
}

#[tokio::test]
async fn failed_token_attempts_lock_out_that_ip_even_for_a_valid_token() {
    let app = spawn_app_with(|config| {
        config.limit_failures_per_ip = "3/15m".parse().unwrap();
    })
    .await;
    app.create_account(EMAIL, PASSWORD).await;
    let token = app.token_for(EMAIL).await;
    let guesser = "192.0.2.66";
    for _ in 0..3 {
        let guessed = check_from(&app, "prt_guessed_token", guesser).await;
        assert_eq!(guessed.unwrap_err().code(), Code::NotFound);
    }
    assert_rate_limited(&check_from(&app, "prt_guessed_token", guesser).await);
    assert_rate_limited(&check_from(&app, &token, guesser).await);
    // Valid checks do not count, and another IP is unaffected.
    for _ in 0..5 {
        check_from(&app, &token, "192.0.2.1").await.unwrap();
    }
    app.stop().await;
}

#[tokio::test]
async fn a_limit_set_to_off_never_refuses() {
    let app = spawn_app_with(|config| {
        config.limit_per_address = "off".parse().unwrap();
        config.limit_per_ip = "off".parse().unwrap();
    })
    .await;
    for _ in 0..20 {
        issue_from(&app, "nobody@example.com", "203.0.113.1")
            .await
            .unwrap();
    }
    app.stop().await;
}
