//! `TokenService` over gRPC: issue, check, redeem.

use std::time::Duration;

use passreset_proto::token::v1::{issue_token_response::Outcome, redeem_request::Password};
use secrecy::SecretString;
use sha2::{Digest as _, Sha256};
use tonic::Code;

use crate::helpers::{assert_refused, spawn_app, spawn_app_in_memory, spawn_app_with};

const EMAIL: &str = "ada@example.com";
const OLD_PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn a_password_is_reset_with_an_issued_token_exactly_once() {
    let app = spawn_app().await;
    let account = app.create_account(EMAIL, OLD_PASSWORD).await;

    let issued = app.issue(EMAIL).await.unwrap();
    assert_eq!(issued.email, EMAIL);
    let Some(Outcome::Issued(token)) = issued.outcome else {
        panic!("no token: {issued:?}");
    };
    assert_eq!(token.account_id, account.id);
    assert_eq!(token.ttl_seconds, 1800);
    assert_eq!(token.locale, "sv");
    assert!(token.token.starts_with("prt_") && token.token.len() == 47);

    // Checking never spends it.
    for _ in 0..2 {
        let checked = app.check(&token.token).await.unwrap();
        assert_eq!(checked.account_id, account.id);
        assert_eq!(checked.expires_at_unix, token.expires_at_unix);
    }

    // A weak password is refused before anything is spent.
    let weak = app.redeem(&token.token, "short").await;
    let status = weak.as_ref().unwrap_err();
    assert!(status.message().contains("at least 12"), "{status:?}");
    assert_refused(weak, Code::InvalidArgument, "WEAK_PASSWORD");
    app.check(&token.token).await.unwrap();

    let redeemed = app.redeem(&token.token, NEW_PASSWORD).await.unwrap();
    assert_eq!(redeemed.account_id, account.id);
    assert_eq!(redeemed.email, EMAIL);
    assert_eq!(redeemed.locale, "sv");
    assert!(redeemed.generated_password.is_empty());
    assert!(redeemed.changed_at_unix >= account.password_changed_at_unix);
    assert!(app.verifies(EMAIL, NEW_PASSWORD).await);
    assert!(!app.verifies(EMAIL, OLD_PASSWORD).await);

    assert_refused(
        app.check(&token.token).await,
        Code::FailedPrecondition,
        "TOKEN_SPENT",
    );
    assert_refused(
        app.redeem(&token.token, "another fine password 2").await,
        Code::FailedPrecondition,
        "TOKEN_SPENT",
    );
    assert!(app.verifies(EMAIL, NEW_PASSWORD).await);
    app.stop().await;
}

#[tokio::test]
async fn an_address_without_an_account_gets_no_token() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let answer = app.issue("  nobody@EXAMPLE.com ").await.unwrap();
    assert_eq!(answer.email, "nobody@example.com");
    assert!(matches!(answer.outcome, Some(Outcome::NoAccount(_))));
    // Nothing but the account's own keys and the rate-limit counters (keyed on digests) was
    // written: no token.
    assert!(
        app.redis
            .keys()
            .await
            .iter()
            .all(|key| key.contains(":account") || key.contains(":limit:")),
        "{:?}",
        app.redis.keys().await
    );
    app.stop().await;
}

#[tokio::test]
async fn an_address_is_found_whatever_the_case_of_its_domain_or_its_idn_form() {
    let app = spawn_app().await;
    app.create_account("jo@bücher.example", OLD_PASSWORD).await;
    for typed in [
        "jo@BÜCHER.example",
        "jo@xn--bcher-kva.example",
        " jo@Bücher.Example ",
    ] {
        let answer = app.issue(typed).await.unwrap();
        assert_eq!(answer.email, "jo@xn--bcher-kva.example");
        assert!(
            matches!(answer.outcome, Some(Outcome::Issued(_))),
            "{typed}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_address_is_invalid_email() {
    let app = spawn_app().await;
    for typed in [
        "not an address",
        "ada@example.com\r\nBcc: eve@example.com",
        "",
    ] {
        assert_refused(
            app.issue(typed).await,
            Code::InvalidArgument,
            "INVALID_EMAIL",
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn made_up_and_malformed_tokens_are_unknown_to_check_and_redeem() {
    let app = spawn_app().await;
    let made_up = format!("prt_{}", "A".repeat(43));
    for token in [made_up.as_str(), "nonsense", "", "prt_", "prt_AAAA"] {
        assert_refused(app.check(token).await, Code::NotFound, "TOKEN_UNKNOWN");
        assert_refused(
            app.redeem(token, NEW_PASSWORD).await,
            Code::NotFound,
            "TOKEN_UNKNOWN",
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_generated_password_is_returned_and_verifies() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let token = app.token_for(EMAIL).await;
    let redeemed = app
        .redeem_with(&token, Some(Password::Generate(true)))
        .await
        .unwrap();
    assert_eq!(redeemed.generated_password.chars().count(), 24);
    assert!(app.verifies(EMAIL, &redeemed.generated_password).await);
    assert!(!app.verifies(EMAIL, OLD_PASSWORD).await);
    app.stop().await;
}

#[tokio::test]
async fn a_redemption_without_a_password_choice_is_invalid_and_spends_nothing() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let token = app.token_for(EMAIL).await;
    for choice in [None, Some(Password::Generate(false))] {
        let status = app.redeem_with(&token, choice).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
    }
    app.check(&token).await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn the_address_itself_is_refused_as_a_password() {
    let app = spawn_app().await;
    app.create_account("ada.lovelace@example.com", OLD_PASSWORD)
        .await;
    let token = app.token_for("ada.lovelace@example.com").await;
    assert_refused(
        app.redeem(&token, "Ada.Lovelace@Example.com").await,
        Code::InvalidArgument,
        "WEAK_PASSWORD",
    );
    app.check(&token).await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn an_expired_token_is_refused_as_expired() {
    let app = spawn_app_with(|config| config.token_ttl = Duration::from_secs(1)).await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let token = app.token_for(EMAIL).await;
    app.check(&token).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_refused(
        app.check(&token).await,
        Code::FailedPrecondition,
        "TOKEN_EXPIRED",
    );
    assert_refused(
        app.redeem(&token, NEW_PASSWORD).await,
        Code::FailedPrecondition,
        "TOKEN_EXPIRED",
    );
    assert!(app.verifies(EMAIL, OLD_PASSWORD).await);
    app.stop().await;
}

#[tokio::test]
async fn a_newer_token_revokes_the_older_one() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let older = app.token_for(EMAIL).await;
    let newer = app.token_for(EMAIL).await;
    assert_refused(app.check(&older).await, Code::NotFound, "TOKEN_UNKNOWN");
    app.check(&newer).await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn with_revocation_off_tokens_coexist_until_one_is_redeemed() {
    let app = spawn_app_with(|config| config.revoke_older_tokens = false).await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let first = app.token_for(EMAIL).await;
    let second = app.token_for(EMAIL).await;
    app.check(&first).await.unwrap();
    app.check(&second).await.unwrap();
    app.redeem(&second, NEW_PASSWORD).await.unwrap();
    assert_refused(app.check(&first).await, Code::NotFound, "TOKEN_UNKNOWN");
    assert_refused(
        app.redeem(&first, "yet another password").await,
        Code::NotFound,
        "TOKEN_UNKNOWN",
    );
    assert!(app.verifies(EMAIL, NEW_PASSWORD).await);
    app.stop().await;
}

#[tokio::test]
async fn of_many_concurrent_redemptions_exactly_one_succeeds() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let token = app.token_for(EMAIL).await;
    let mut redemptions = tokio::task::JoinSet::new();
    for n in 0..20 {
        let mut client = app.tokens.clone();
        let token = token.clone();
        redemptions.spawn(async move {
            client
                .redeem(passreset_proto::token::v1::RedeemRequest {
                    token,
                    password: Some(Password::NewPassword(format!("concurrent password {n}"))),
                    context: None,
                })
                .await
                .map(|response| response.into_inner())
        });
    }
    let mut winners = Vec::new();
    while let Some(outcome) = redemptions.join_next().await {
        match outcome.unwrap() {
            Ok(redeemed) => winners.push(redeemed),
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
        }
    }
    assert_eq!(winners.len(), 1);
    assert_refused(
        app.check(&token).await,
        Code::FailedPrecondition,
        "TOKEN_SPENT",
    );
    app.stop().await;
}

#[tokio::test]
async fn redis_holds_neither_a_token_nor_a_password() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let spent = app.token_for(EMAIL).await;
    app.redeem(&spent, NEW_PASSWORD).await.unwrap();
    let outstanding = app.token_for(EMAIL).await;

    let dump = app.redis.dump().await;
    for secret in [&spent, &outstanding, OLD_PASSWORD, NEW_PASSWORD] {
        assert!(!dump.contains(secret), "{secret} is in redis:\n{dump}");
    }
    let token_body = &outstanding[4..];
    assert!(!dump.contains(token_body), "token body in redis:\n{dump}");
    // What is there instead: the SHA-256 digest.
    let digest = hex::encode(Sha256::digest(outstanding.as_bytes()));
    assert!(dump.contains(&digest), "no digest in redis:\n{dump}");
    app.stop().await;
}

#[tokio::test]
async fn with_a_token_secret_redis_holds_keyed_digests() {
    let app = spawn_app_with(|config| {
        config.token_secret = Some(SecretString::from("a server-side key"));
    })
    .await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let token = app.token_for(EMAIL).await;
    let dump = app.redis.dump().await;
    let plain = hex::encode(Sha256::digest(token.as_bytes()));
    assert!(!dump.contains(&plain), "unkeyed digest in redis:\n{dump}");
    assert!(!dump.contains(&token));
    app.check(&token).await.unwrap();
    app.redeem(&token, NEW_PASSWORD).await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn the_in_memory_fallback_serves_the_same_flow() {
    let app = spawn_app_in_memory().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let older = app.token_for(EMAIL).await;
    let token = app.token_for(EMAIL).await;
    assert_refused(app.check(&older).await, Code::NotFound, "TOKEN_UNKNOWN");
    app.check(&token).await.unwrap();
    assert_refused(
        app.redeem(&token, "short").await,
        Code::InvalidArgument,
        "WEAK_PASSWORD",
    );
    app.redeem(&token, NEW_PASSWORD).await.unwrap();
    assert!(app.verifies(EMAIL, NEW_PASSWORD).await);
    assert_refused(
        app.check(&token).await,
        Code::FailedPrecondition,
        "TOKEN_SPENT",
    );
    assert!(
        app.redis.keys().await.is_empty(),
        "memory mode wrote to redis"
    );
    app.stop().await;
}
