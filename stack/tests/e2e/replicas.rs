//! Two of everything on one Redis: two gateways, two token services, two mail services (each
//! `spawn_app_on` is one of each, sharing the Redis and its key prefix). Limits and single use
//! hold across replicas, whichever one a request lands on.

use std::time::Duration;

use passreset_testkit::test_redis;
use reqwest::StatusCode;

use crate::helpers::{TestApp, spawn_app_on, token_in};

const EMAIL: &str = "twin@example.com";
const OLD_PASSWORD: &str = "the old password 1";

/// The reset mails both mail services delivered (either may send any queued mail), once there
/// are `count`.
async fn mails_of_both(first: &TestApp, second: &TestApp, count: usize) -> Vec<String> {
    for _ in 0..200 {
        let tokens = first
            .smtp
            .messages()
            .iter()
            .chain(second.smtp.messages().iter())
            .map(token_in)
            .collect::<Vec<_>>();
        if tokens.len() >= count {
            return tokens;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {count} mails arrived");
}

#[tokio::test]
async fn the_per_address_limit_allows_the_same_number_whichever_replica_is_asked() {
    let redis = test_redis().await;
    let flags = ["--limit-per-address", "3/1h"];
    let first = spawn_app_on(redis.clone(), &flags).await;
    let second = spawn_app_on(redis, &flags).await;
    first.create_account(EMAIL, OLD_PASSWORD).await;
    let mut accepted = 0;
    for n in 0..10 {
        let app = if n % 2 == 0 { &first } else { &second };
        if app.forgot(EMAIL).await.status() == StatusCode::NO_CONTENT {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 3);
    assert_eq!(mails_of_both(&first, &second, 3).await.len(), 3);
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn of_50_concurrent_redemptions_over_two_token_services_exactly_one_wins() {
    let redis = test_redis().await;
    let first = spawn_app_on(redis.clone(), &[]).await;
    let second = spawn_app_on(redis, &[]).await;
    first.create_account(EMAIL, OLD_PASSWORD).await;
    assert_eq!(first.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    let token = mails_of_both(&first, &second, 1).await.remove(0);

    let attempts = (0..50).map(|n| {
        let app = if n % 2 == 0 { &first } else { &second };
        let password = format!("a brand new password {n}");
        let token = token.clone();
        async move { app.reset(&token, &password, &password).await.status() }
    });
    let statuses = futures::future::join_all(attempts).await;
    let won = statuses
        .iter()
        .filter(|status| **status == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(won, 1, "{statuses:?}");
    assert!(!first.password_verifies(EMAIL, OLD_PASSWORD).await);
    first.stop().await;
    second.stop().await;
}
