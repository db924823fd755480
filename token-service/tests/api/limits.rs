//! The rate limits through real gRPC on real Redis: identical for known and unknown addresses,
//! per client IP, on failed token attempts, off when configured so, and on the in-memory stores
//! too. Only sequences of allowed and refused answers are asserted, never timings.

use std::time::Duration;

use passreset_proto::token::v1::{
    CheckTokenRequest, IssueTokenRequest, RedeemRequest, RequestContext, redeem_request::Password,
};
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

use crate::helpers::{
    TestApp, assert_rate_limited, context_from, spawn_app, spawn_app_in_memory_with, spawn_app_with,
};

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "a brand new passphrase 7";

fn from(ip: &str) -> Option<RequestContext> {
    context_from(ip, "persona")
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

async fn redeem_from(app: &TestApp, token: &str, password: &str, ip: &str) -> Result<(), Status> {
    app.tokens
        .clone()
        .redeem(RedeemRequest {
            token: token.to_owned(),
            password: Some(Password::NewPassword(password.to_owned())),
            context: from(ip),
        })
        .await
        .map(drop)
}

/// What a caller can tell apart: `ok`, or the code, the reason and whether a retry delay came.
fn observed(outcome: &Result<(), Status>) -> String {
    match outcome {
        Ok(()) => "ok".to_owned(),
        Err(status) => format!(
            "{:?} {} retry_info={}",
            status.code(),
            status
                .get_details_error_info()
                .map(|info| info.reason)
                .unwrap_or_default(),
            status.get_details_retry_info().is_some()
        ),
    }
}

#[tokio::test]
async fn a_known_and_an_unknown_address_both_get_five_requests_then_rate_limited() {
    // The default limit, 5/1h.
    let app = spawn_app().await;
    app.create_account(EMAIL, PASSWORD).await;

    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..7 {
        known.push(issue_from(&app, EMAIL, "203.0.113.1").await);
        unknown.push(issue_from(&app, "nobody@example.com", "203.0.113.1").await);
    }
    let known_seen: Vec<String> = known.iter().map(observed).collect();
    let unknown_seen: Vec<String> = unknown.iter().map(observed).collect();
    assert_eq!(known_seen, unknown_seen);
    assert_eq!(known_seen[..5], ["ok"; 5]);
    for refused in known[5..].iter().chain(&unknown[5..]) {
        // One request comes back every 12 minutes.
        let delay = assert_rate_limited(refused);
        assert!(delay <= Duration::from_secs(12 * 60), "{delay:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_per_address_limit_holds_across_client_ips_and_spellings_of_the_address() {
    let app = spawn_app_with(|config| {
        config.limit_per_address = "3/1h".parse().unwrap();
    })
    .await;
    for n in 0..3 {
        issue_from(&app, EMAIL, &format!("203.0.113.{n}"))
            .await
            .unwrap();
    }
    assert_rate_limited(&issue_from(&app, EMAIL, "203.0.113.9").await);
    // The address is normalised first: another spelling is the same address.
    assert_rate_limited(&issue_from(&app, "  ADA@Example.COM ", "203.0.113.10").await);
    // Without a client IP the address is still limited.
    assert_rate_limited(&issue_from(&app, EMAIL, "").await);
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
    // Another IP, and a direct caller that gives no IP, are not affected.
    issue_from(&app, "user9@example.com", "198.51.100.10")
        .await
        .unwrap();
    issue_from(&app, "user8@example.com", "").await.unwrap();
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
    // Redeem is refused before the token is looked at: the token stays usable.
    assert_rate_limited(&redeem_from(&app, &token, NEW_PASSWORD, guesser).await);
    // Valid checks do not count, and another IP is unaffected.
    for _ in 0..5 {
        check_from(&app, &token, "192.0.2.1").await.unwrap();
    }
    redeem_from(&app, &token, NEW_PASSWORD, "192.0.2.1")
        .await
        .unwrap();
    app.stop().await;
}

#[tokio::test]
async fn failed_redemptions_count_but_a_weak_password_does_not() {
    let app = spawn_app_with(|config| {
        config.limit_failures_per_ip = "2/15m".parse().unwrap();
    })
    .await;
    app.create_account(EMAIL, PASSWORD).await;
    let token = app.token_for(EMAIL).await;
    let ip = "192.0.2.70";
    // A weak password is the user's typing, not a guess: it never uses up the budget.
    for _ in 0..5 {
        let weak = redeem_from(&app, &token, "short", ip).await;
        assert_eq!(weak.unwrap_err().code(), Code::InvalidArgument);
    }
    redeem_from(&app, &token, NEW_PASSWORD, ip).await.unwrap();
    // The token is spent now: presenting it again is a failure, twice, then the IP is out.
    for _ in 0..2 {
        let spent = redeem_from(&app, &token, NEW_PASSWORD, ip).await;
        assert_eq!(spent.unwrap_err().code(), Code::FailedPrecondition);
    }
    assert_rate_limited(&redeem_from(&app, &token, NEW_PASSWORD, ip).await);
    assert_rate_limited(&check_from(&app, &token, ip).await);
    app.stop().await;
}

#[tokio::test]
async fn the_budget_refills_as_time_passes() {
    let app = spawn_app_with(|config| {
        config.limit_per_address = "2/2s".parse().unwrap();
    })
    .await;
    issue_from(&app, EMAIL, "203.0.113.1").await.unwrap();
    issue_from(&app, EMAIL, "203.0.113.1").await.unwrap();
    let delay = assert_rate_limited(&issue_from(&app, EMAIL, "203.0.113.1").await);
    assert_eq!(delay, Duration::from_secs(1));
    tokio::time::sleep(delay + Duration::from_millis(100)).await;
    issue_from(&app, EMAIL, "203.0.113.1").await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn a_limit_set_to_off_never_refuses() {
    let app = spawn_app_with(|config| {
        config.limit_per_address = "off".parse().unwrap();
        config.limit_per_ip = "off".parse().unwrap();
        config.limit_failures_per_ip = "off".parse().unwrap();
    })
    .await;
    app.create_account(EMAIL, PASSWORD).await;
    for _ in 0..20 {
        issue_from(&app, "nobody@example.com", "203.0.113.1")
            .await
            .unwrap();
        let guessed = check_from(&app, "prt_guessed_token", "203.0.113.1").await;
        assert_eq!(guessed.unwrap_err().code(), Code::NotFound);
    }
    let token = app.token_for(EMAIL).await;
    check_from(&app, &token, "203.0.113.1").await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn the_in_memory_stores_keep_the_same_limits() {
    let app = spawn_app_in_memory_with(|config| {
        config.limit_per_address = "2/1h".parse().unwrap();
        config.limit_failures_per_ip = "1/15m".parse().unwrap();
    })
    .await;
    app.create_account(EMAIL, PASSWORD).await;
    let known: Vec<String> = [
        issue_from(&app, EMAIL, "203.0.113.1").await,
        issue_from(&app, EMAIL, "203.0.113.1").await,
        issue_from(&app, EMAIL, "203.0.113.1").await,
    ]
    .iter()
    .map(observed)
    .collect();
    let unknown: Vec<String> = [
        issue_from(&app, "nobody@example.com", "203.0.113.1").await,
        issue_from(&app, "nobody@example.com", "203.0.113.1").await,
        issue_from(&app, "nobody@example.com", "203.0.113.1").await,
    ]
    .iter()
    .map(observed)
    .collect();
    assert_eq!(known, unknown);
    assert_eq!(known[..2], ["ok", "ok"]);
    assert!(known[2].starts_with("ResourceExhausted RATE_LIMITED"));

    let failed = check_from(&app, "prt_guessed_token", "192.0.2.66").await;
    assert_eq!(failed.unwrap_err().code(), Code::NotFound);
    assert_rate_limited(&check_from(&app, "prt_guessed_token", "192.0.2.66").await);
    app.stop().await;
}

/// A well-formed token that was never issued: the service looks it up and finds nothing.
fn never_issued(n: usize) -> String {
    format!("prt_{n:0>43}")
}

#[tokio::test]
async fn forty_concurrent_bad_tokens_against_a_budget_of_five_get_at_most_five_looks() {
    let app = spawn_app_with(|config| {
        config.limit_failures_per_ip = "5/15m".parse().unwrap();
    })
    .await;
    let guesser = "192.0.2.66";
    // Checks and redemptions at once, all on one channel, all from one IP.
    let attempts = (0..40).map(|n| {
        let app = &app;
        async move {
            if n % 2 == 0 {
                check_from(app, &never_issued(n), guesser).await
            } else {
                redeem_from(app, &never_issued(n), NEW_PASSWORD, guesser).await
            }
        }
    });
    let outcomes = futures::future::join_all(attempts).await;

    // A guess that was looked at answers NOT_FOUND; the rest were refused before the lookup.
    let looked_at = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(status) if status.code() == Code::NotFound))
        .count();
    for outcome in outcomes
        .iter()
        .filter(|outcome| !matches!(outcome, Err(status) if status.code() == Code::NotFound))
    {
        assert_rate_limited(outcome);
    }
    assert!(looked_at <= 5, "{looked_at} guesses were looked at");
    assert_eq!(looked_at, 5, "the whole budget is there to be spent");
    app.stop().await;
}

#[tokio::test]
async fn a_valid_token_gives_its_reserved_failure_back() {
    let app = spawn_app_with(|config| {
        config.limit_failures_per_ip = "2/15m".parse().unwrap();
    })
    .await;
    app.create_account(EMAIL, PASSWORD).await;
    let token = app.token_for(EMAIL).await;
    let ip = "192.0.2.71";
    // Many good checks at once, each reserving a unit and giving it back.
    let checks = (0..20).map(|_| check_from(&app, &token, ip));
    for outcome in futures::future::join_all(checks).await {
        // A good check may meet the budget while others hold it, never spend it.
        if outcome.is_err() {
            assert_rate_limited(&outcome);
        }
    }
    // The whole budget is left for failures.
    for n in 0..2 {
        let guessed = check_from(&app, &never_issued(n), ip).await;
        assert_eq!(guessed.unwrap_err().code(), Code::NotFound);
    }
    assert_rate_limited(&check_from(&app, &token, ip).await);
    app.stop().await;
}

#[tokio::test]
async fn ipv6_clients_of_one_64_share_a_budget_and_other_64s_have_their_own() {
    // The default prefix, 64.
    let app = spawn_app_with(|config| {
        config.limit_per_ip = "2/15m".parse().unwrap();
        config.limit_failures_per_ip = "1/15m".parse().unwrap();
    })
    .await;
    issue_from(&app, "a@example.com", "2001:db8:1:2::1")
        .await
        .unwrap();
    issue_from(&app, "b@example.com", "2001:db8:1:2:aaaa::2")
        .await
        .unwrap();
    assert_rate_limited(
        &issue_from(&app, "c@example.com", "2001:db8:1:2:ffff:ffff:ffff:ffff").await,
    );
    issue_from(&app, "c@example.com", "2001:db8:1:3::1")
        .await
        .unwrap();

    let failed = check_from(&app, &never_issued(1), "2001:db8:9:9::1").await;
    assert_eq!(failed.unwrap_err().code(), Code::NotFound);
    assert_rate_limited(&check_from(&app, &never_issued(2), "2001:db8:9:9::2").await);
    let elsewhere = check_from(&app, &never_issued(3), "2001:db8:9:a::1").await;
    assert_eq!(elsewhere.unwrap_err().code(), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn with_a_prefix_of_128_each_ipv6_address_has_its_own_budget() {
    let app = spawn_app_with(|config| {
        config.limit_per_ip = "1/15m".parse().unwrap();
        config.limit_ipv6_prefix = "128".parse().unwrap();
    })
    .await;
    issue_from(&app, "a@example.com", "2001:db8:1:2::1")
        .await
        .unwrap();
    issue_from(&app, "b@example.com", "2001:db8:1:2::2")
        .await
        .unwrap();
    assert_rate_limited(&issue_from(&app, "c@example.com", "2001:db8:1:2::1").await);
    app.stop().await;
}

#[tokio::test]
async fn an_ipv4_mapped_ipv6_client_is_its_ipv4_address() {
    let app = spawn_app_with(|config| {
        config.limit_per_ip = "1/15m".parse().unwrap();
    })
    .await;
    issue_from(&app, "a@example.com", "203.0.113.9")
        .await
        .unwrap();
    assert_rate_limited(&issue_from(&app, "b@example.com", "::ffff:203.0.113.9").await);
    // IPv4 stays per address: its neighbour is not affected.
    issue_from(&app, "b@example.com", "203.0.113.10")
        .await
        .unwrap();
    app.stop().await;
}
