//! VerifyPassword's own rate limits through real gRPC on real Redis: per address across IPs,
//! known or not; per client IP across addresses; each subject apart; and a refused guess
//! hashes nothing. Only sequences of answers and counters are asserted, never timings.

use std::time::Duration;

use passreset_proto::token::v1::VerifyPasswordRequest;
use tonic::Status;

use crate::helpers::{TestApp, assert_rate_limited, context_from, spawn_app, spawn_app_with};

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "tulip orbit kettle 42";

/// A login service's call for `email` on behalf of a user at `ip`.
async fn verify_from(app: &TestApp, email: &str, password: &str, ip: &str) -> Result<bool, Status> {
    app.directory
        .clone()
        .verify_password(VerifyPasswordRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            context: context_from(ip, "login"),
        })
        .await
        .map(|response| response.into_inner().valid)
}

/// Asserts a refusal by a limit, with a retry delay within `period`.
#[track_caller]
fn assert_limited_within(outcome: &Result<bool, Status>, period: Duration) {
    let delay = assert_rate_limited(outcome);
    assert!(delay <= period, "{delay:?}");
}

#[tokio::test]
async fn the_eleventh_verify_of_an_address_is_refused_from_any_ip_known_or_not() {
    // The default limit, 10/15m per address.
    let app = spawn_app().await;
    app.create_account(EMAIL, PASSWORD).await;
    let fifteen_minutes = Duration::from_secs(15 * 60);
    for address in [EMAIL, "nobody@example.com"] {
        for n in 0..10 {
            let ip = format!("198.51.100.{n}");
            assert_eq!(
                verify_from(&app, address, "a wrong guess at it", &ip)
                    .await
                    .ok(),
                Some(false),
                "{address} guess {n}"
            );
        }
        // The right password from an IP never seen is refused all the same.
        let refused = verify_from(&app, address, PASSWORD, "192.0.2.200").await;
        assert_limited_within(&refused, fifteen_minutes);
    }
    // Another address, from the very same IPs, has its own budget.
    app.create_account("grace@example.com", PASSWORD).await;
    assert_eq!(
        verify_from(&app, "grace@example.com", PASSWORD, "198.51.100.0")
            .await
            .ok(),
        Some(true)
    );
    app.stop().await;
}

#[tokio::test]
async fn one_ip_trying_many_addresses_is_refused_while_other_ips_are_not() {
    let app = spawn_app_with(|config| {
        config.limit_verify_per_ip = "5/15m".parse().unwrap();
    })
    .await;
    app.create_account(EMAIL, PASSWORD).await;
    let sprayer = "203.0.113.66";
    for n in 0..5 {
        let address = format!("user{n}@example.com");
        assert_eq!(
            verify_from(&app, &address, PASSWORD, sprayer).await.ok(),
            Some(false),
            "{address}"
        );
    }
    let refused = verify_from(&app, EMAIL, PASSWORD, sprayer).await;
    assert_limited_within(&refused, Duration::from_secs(15 * 60));
    // The sprayer's refusal cost the address nothing, and other IPs are not held up.
    assert_eq!(
        verify_from(&app, EMAIL, PASSWORD, "203.0.113.67")
            .await
            .ok(),
        Some(true)
    );
    assert_eq!(
        verify_from(&app, "user0@example.com", PASSWORD, "2001:db8::1")
            .await
            .ok(),
        Some(false)
    );
    app.stop().await;
}

/// Argon2 hashes and verifications the service has started.
async fn hashes(app: &TestApp) -> f64 {
    app.metric("password_hashes_total").await.unwrap_or(0.0)
}

/// VerifyPassword answers counted with `outcome`.
async fn verifications(app: &TestApp, outcome: &str) -> f64 {
    app.metric(&format!(
        "password_verifications_total{{outcome=\"{outcome}\"}}"
    ))
    .await
    .unwrap_or(0.0)
}

#[tokio::test]
async fn a_refused_verify_hashes_nothing_and_is_counted_by_its_limit() {
    let app = spawn_app_with(|config| {
        config.limit_verify_per_address = "2/15m".parse().unwrap();
        config.limit_verify_per_ip = "3/15m".parse().unwrap();
    })
    .await;
    app.create_account(EMAIL, PASSWORD).await;

    assert_eq!(
        verify_from(&app, EMAIL, PASSWORD, "192.0.2.1").await.ok(),
        Some(true)
    );
    assert_eq!(
        verify_from(&app, EMAIL, "not it", "192.0.2.2").await.ok(),
        Some(false)
    );
    let before = hashes(&app).await;
    for _ in 0..3 {
        assert!(
            verify_from(&app, EMAIL, PASSWORD, "192.0.2.3")
                .await
                .is_err()
        );
    }
    for n in 0..3 {
        let address = format!("spray{n}@example.com");
        assert!(
            verify_from(&app, &address, PASSWORD, "192.0.2.4")
                .await
                .is_ok()
        );
    }
    assert!(
        verify_from(&app, "spray9@example.com", PASSWORD, "192.0.2.4")
            .await
            .is_err()
    );
    assert_eq!(
        hashes(&app).await,
        before + 3.0,
        "only the three allowed ones hashed"
    );

    assert_eq!(verifications(&app, "valid").await, 1.0);
    assert_eq!(verifications(&app, "invalid").await, 4.0);
    assert_eq!(verifications(&app, "rate_limited_per_address").await, 3.0);
    assert_eq!(verifications(&app, "rate_limited_per_ip").await, 1.0);
    app.stop().await;
}

#[tokio::test]
async fn limits_that_are_off_never_refuse() {
    let app = spawn_app_with(|config| {
        config.limit_verify_per_address = "off".parse().unwrap();
        config.limit_verify_per_ip = "off".parse().unwrap();
    })
    .await;
    app.create_account(EMAIL, PASSWORD).await;
    for _ in 0..15 {
        assert_eq!(
            verify_from(&app, EMAIL, PASSWORD, "192.0.2.1").await.ok(),
            Some(true)
        );
    }
    app.stop().await;
}
