//! Redemptions that lose Redis half-way, through a real proxy to the real Redis that the test
//! cuts right after the password is written: the token must never set a password twice, and
//! the event must be written exactly once when Redis is back.

use std::time::Duration;

use passreset_testkit::CutProxy;
use tonic::Code;

use crate::helpers::{TestApp, assert_refused, spawn_app_with};

const OLD_PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "correct horse battery staple";
const OTHER_PASSWORD: &str = "a different fine passphrase 2";

/// A token service whose Redis connection runs through `proxy`.
async fn spawn_app_behind_a_proxy() -> (TestApp, CutProxy) {
    let redis = passreset_testkit::test_redis().await;
    let (proxy, url) = CutProxy::for_redis(&redis.url).await;
    let app = spawn_app_with(|config| config.redis.url = url.as_str().into()).await;
    (app, proxy)
}

/// Polls `check` until the token answers spent (at most `patience`); the last refusal.
async fn until_spent(app: &TestApp, token: &str, patience: Duration) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let outcome = app.check(token).await;
        match &outcome {
            Err(status) if status.message() == "token already used" => return Ok(()),
            _ if tokio::time::Instant::now() >= deadline => return Err(format!("{outcome:?}")),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[tokio::test]
async fn a_redis_blip_after_the_password_is_set_never_reopens_the_token() {
    let (app, proxy) = spawn_app_behind_a_proxy().await;
    // A first full reset loads every script into Redis, so the cut below falls after the
    // password write itself (and not after a NOSCRIPT answer).
    app.create_account("warm@example.com", OLD_PASSWORD).await;
    let warm = app.token_for("warm@example.com").await;
    app.redeem(&warm, NEW_PASSWORD).await.unwrap();

    let account = app.create_account("ada@example.com", OLD_PASSWORD).await;
    let token = app.token_for("ada@example.com").await;
    let events_before = app.events().await.len();

    // The one command carrying a password hash is the password write: cut after its reply.
    proxy.cut_after_reply_to(b"$argon2id$");
    let redeemed = app.redeem(&token, NEW_PASSWORD).await;
    assert!(proxy.is_cut(), "the proxy cut after the password write");
    let redeemed = redeemed.expect("the password was set: the redemption succeeds");
    assert_eq!(redeemed.account_id, account.id);

    // During the blip a retry of the token cannot get anywhere.
    let during = app.redeem(&token, OTHER_PASSWORD).await;
    assert!(during.is_err(), "{during:?}");

    proxy.heal();
    until_spent(&app, &token, Duration::from_secs(60))
        .await
        .expect("the token is spent once redis is back");
    assert_refused(
        app.redeem(&token, OTHER_PASSWORD).await,
        Code::FailedPrecondition,
        "TOKEN_SPENT",
    );
    assert!(app.verifies("ada@example.com", NEW_PASSWORD).await);
    assert!(!app.verifies("ada@example.com", OTHER_PASSWORD).await);

    let events = app.events().await;
    let changes: Vec<_> = events
        .iter()
        .skip(events_before)
        .filter(|event| event.get("account_id") == Some(&account.id))
        .collect();
    assert_eq!(changes.len(), 1, "{events:?}");
    let event = changes.first().unwrap();
    assert_eq!(
        event.get("type").map(String::as_str),
        Some("password_changed")
    );
    assert_eq!(
        event.get("email").map(String::as_str),
        Some("ada@example.com")
    );
    assert_eq!(event.get("locale").map(String::as_str), Some("sv"));
    assert_eq!(event.get("surface").map(String::as_str), Some("persona"));
    assert!(event.get("reset_id").is_some_and(|id| !id.is_empty()));
    app.stop().await;
}

#[tokio::test]
async fn a_password_write_cut_before_its_answer_is_settled_and_spent_once() {
    let (app, proxy) = spawn_app_behind_a_proxy().await;
    app.create_account("warm@example.com", OLD_PASSWORD).await;
    let warm = app.token_for("warm@example.com").await;
    app.redeem(&warm, NEW_PASSWORD).await.unwrap();
    let account = app.create_account("ada@example.com", OLD_PASSWORD).await;
    let token = app.token_for("ada@example.com").await;

    // The write reaches Redis but its answer never comes back: the outcome is unknown.
    proxy.cut_instead_of_reply_to(b"$argon2id$");
    let redeemed = app.redeem(&token, NEW_PASSWORD).await;
    assert!(proxy.wait_until_cut(Duration::from_secs(5)).await);
    proxy.heal();
    // Whichever answer it got, the token ends spent with the new password, once.
    if let Err(status) = &redeemed {
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    }
    until_spent(&app, &token, Duration::from_secs(60))
        .await
        .expect("the token is spent once redis is back");
    assert!(app.verifies("ada@example.com", NEW_PASSWORD).await);
    let changes = app
        .events()
        .await
        .into_iter()
        .filter(|event| event.get("account_id") == Some(&account.id))
        .count();
    assert_eq!(changes, 1);
    app.stop().await;
}
