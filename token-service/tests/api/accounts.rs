//! `AccountDirectory` over gRPC.

use std::collections::{HashMap, HashSet};

use passreset_proto::token::v1::{
    GetAccountRequest, ListAccountsRequest, UpsertAccountRequest, get_account_request::Key,
};
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::helpers::{assert_refused, spawn_app, spawn_app_with};

#[tokio::test]
async fn an_upserted_account_is_found_by_id_and_by_address() {
    let app = spawn_app().await;
    let created = app
        .create_account("Ada@EXAMPLE.com", "a fine password")
        .await;
    assert!(created.id.starts_with("acct_") && created.id.len() == 37);
    assert_eq!(created.email, "Ada@example.com");
    assert_eq!(created.locale, "sv");
    assert!(created.created_at_unix > 0);

    let mut directory = app.directory.clone();
    for key in [
        Key::Id(created.id.clone()),
        Key::Email("Ada@example.COM".to_owned()),
    ] {
        let found = directory
            .get_account(GetAccountRequest { key: Some(key) })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(found, created);
    }
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_account_is_not_found() {
    let app = spawn_app().await;
    let mut directory = app.directory.clone();
    for key in [
        Key::Id("acct_00000000000000000000000000000000".to_owned()),
        Key::Email("nobody@example.com".to_owned()),
    ] {
        assert_refused(
            directory
                .get_account(GetAccountRequest { key: Some(key) })
                .await,
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_second_upsert_replaces_the_password_and_keeps_the_account() {
    let app = spawn_app().await;
    let first = app
        .create_account("ada@example.com", "first password")
        .await;
    let second = app
        .directory
        .clone()
        .upsert_account(UpsertAccountRequest {
            email: "ada@example.com".to_owned(),
            password: "second password".to_owned(),
            locale: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.id, first.id);
    assert_eq!(second.locale, "sv", "an empty locale keeps the current one");
    assert!(app.verifies("ada@example.com", "second password").await);
    assert!(!app.verifies("ada@example.com", "first password").await);
    app.stop().await;
}

#[tokio::test]
async fn an_empty_password_or_a_bad_address_is_refused() {
    // An empty password fails the policy like any short one.
    let app = spawn_app().await;
    let mut directory = app.directory.clone();
    assert_refused(
        directory
            .upsert_account(UpsertAccountRequest {
                email: "ada@example.com".to_owned(),
                password: String::new(),
                locale: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "WEAK_PASSWORD",
    );
    assert_refused(
        directory
            .upsert_account(UpsertAccountRequest {
                email: "ada at example.com".to_owned(),
                password: "a fine password".to_owned(),
                locale: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "INVALID_EMAIL",
    );
    app.stop().await;
}

/// Upserts `password` for `email` and returns the refusal's `(field, rule)` pairs and metadata.
async fn refusal_of(
    app: &crate::helpers::TestApp,
    email: &str,
    password: &str,
) -> (Vec<(String, String)>, HashMap<String, String>) {
    let status = app
        .directory
        .clone()
        .upsert_account(UpsertAccountRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            locale: String::new(),
        })
        .await
        .expect_err("a weak password is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let info = status.get_details_error_info().expect("an ErrorInfo");
    assert_eq!(info.reason, "WEAK_PASSWORD");
    assert_eq!(info.domain, "passreset.token.v1");
    let violations = status
        .get_details_bad_request()
        .expect("a BadRequest")
        .field_violations
        .into_iter()
        .map(|violation| {
            assert!(!violation.description.is_empty());
            (violation.field, violation.reason)
        })
        .collect();
    (violations, info.metadata)
}

#[tokio::test]
async fn a_weak_password_is_refused_with_every_failed_rule_and_a_strong_one_accepted() {
    let app = spawn_app().await;
    let rule = |name: &str| ("password".to_owned(), format!("PASSWORD_RULE_{name}"));

    let (violations, metadata) = refusal_of(&app, "ada@example.com", "password").await;
    assert_eq!(violations, [rule("TOO_SHORT"), rule("TOO_GUESSABLE")]);
    assert_eq!(metadata.get("min_length").map(String::as_str), Some("12"));
    assert_eq!(
        metadata.get("guessable_warning").map(String::as_str),
        Some("top10_password")
    );
    let (violations, _) = refusal_of(&app, "ada.lovelace@example.com", "Ada.Lovelace").await;
    assert_eq!(violations, [rule("SAME_AS_ADDRESS")]);
    let (violations, _) = refusal_of(&app, "ada@example.com", &" ".repeat(16)).await;
    assert_eq!(violations, [rule("ONLY_SPACES")]);
    let (violations, metadata) = refusal_of(&app, "ada@example.com", &"x".repeat(257)).await;
    assert!(violations.contains(&rule("TOO_LONG")), "{violations:?}");
    assert_eq!(metadata.get("max_length").map(String::as_str), Some("256"));
    // Nothing was stored by the refusals.
    assert!(!app.verifies("ada@example.com", "password").await);

    app.create_account("ada@example.com", "tulip orbit kettle 42")
        .await;
    assert!(
        app.verifies("ada@example.com", "tulip orbit kettle 42")
            .await
    );
    app.stop().await;
}

#[tokio::test]
async fn the_minimum_length_follows_the_setting() {
    let app = spawn_app_with(|config| config.password_min_length = 24).await;
    let (violations, metadata) = refusal_of(&app, "ada@example.com", "tulip orbit kettle 42").await;
    assert_eq!(
        violations,
        [("password".to_owned(), "PASSWORD_RULE_TOO_SHORT".to_owned())]
    );
    assert_eq!(metadata.get("min_length").map(String::as_str), Some("24"));
    app.create_account("ada@example.com", "tulip orbit kettle 42 sun")
        .await;
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_or_malformed_address_never_verifies() {
    let app = spawn_app().await;
    app.create_account("ada@example.com", "a fine password")
        .await;
    assert!(!app.verifies("nobody@example.com", "a fine password").await);
    assert!(!app.verifies("not an address", "a fine password").await);
    assert!(!app.verifies("ada@example.com", "").await);
    assert!(app.verifies("ada@example.com", "a fine password").await);
    app.stop().await;
}

#[tokio::test]
async fn listing_pages_through_every_account() {
    let app = spawn_app().await;
    let mut created = HashSet::new();
    for n in 0..12 {
        created.insert(
            app.create_account(&format!("user{n}@example.com"), "a fine password")
                .await
                .id,
        );
    }
    let mut directory = app.directory.clone();
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    for _ in 0..100 {
        let page = directory
            .list_accounts(ListAccountsRequest {
                cursor: cursor.clone(),
                page_size: 5,
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.accounts.into_iter().map(|account| account.id));
        if page.next_cursor.is_empty() {
            break;
        }
        cursor = page.next_cursor;
    }
    assert_eq!(seen, created);
    let status = directory
        .list_accounts(ListAccountsRequest {
            cursor: "garbage".to_owned(),
            page_size: 5,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    app.stop().await;
}
