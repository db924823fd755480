//! The Equinix Metal surface, driven by Equinix's official Python client (equinix-metal 0.11.0).

use crate::{
    helpers::{TestApp, spawn_app, token_in},
    python::{Venv, run_client},
};

const EMAIL: &str = "grace@example.com";
const OLD_PASSWORD: &str = "the old password 1";

#[tokio::test]
async fn the_official_metal_client_resets_a_password_with_an_api_key_and_the_mailed_token() {
    metal_reset_with_the_mailed_token(spawn_app().await).await;
}

/// The Metal flow on `app` with the official client: create, the mail, reset, the notice, a
/// second reset refused. Also run on a Redis Cluster (`cluster.rs`).
pub(crate) async fn metal_reset_with_the_mailed_token(app: TestApp) {
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let host = format!("{}/metal/v1", app.base_url);

    let created = run_client(
        Venv::Tools,
        "metal.py",
        &["create", &host, EMAIL],
        &[("METAL_API_KEY", &app.api_key)],
    )
    .await;
    assert_eq!(created["status"], 201, "{created}");
    let token = token_in(&app.mail_number(1).await);

    let reset = run_client(
        Venv::Tools,
        "metal.py",
        &["reset", &host],
        &[("METAL_RESET_TOKEN", &token)],
    )
    .await;
    assert_eq!(reset["status"], 201, "{reset}");
    let new_password = reset["body"]["new_password"]
        .as_str()
        .expect("a new_password");
    assert!(
        new_password.chars().count() >= 20,
        "generated password too short"
    );
    assert!(app.password_verifies(EMAIL, new_password).await);
    assert!(!app.password_verifies(EMAIL, OLD_PASSWORD).await);

    let notice = app.mail_number(2).await;
    assert!(
        !notice.text_body().contains(new_password),
        "the notice holds the password"
    );
    assert!(
        !notice.html_body().contains(new_password),
        "the notice holds the password"
    );

    let again = run_client(
        Venv::Tools,
        "metal.py",
        &["reset", &host],
        &[("METAL_RESET_TOKEN", &token)],
    )
    .await;
    assert_eq!(again["status"], 401, "{again}");
    assert!(again["error"]["errors"][0].is_string(), "{again}");
    app.stop().await;
}

#[tokio::test]
async fn the_official_metal_client_gets_401_without_a_valid_key_and_422_for_a_bad_email() {
    let app = spawn_app().await;
    let host = format!("{}/metal/v1", app.base_url);

    for key in ["", "not-the-key-at-all-0000"] {
        let refused = run_client(
            Venv::Tools,
            "metal.py",
            &["create", &host, EMAIL],
            &[("METAL_API_KEY", key)],
        )
        .await;
        assert_eq!(refused["status"], 401, "key {key:?}: {refused}");
        assert!(refused["error"]["errors"][0].is_string(), "{refused}");
    }
    let malformed = run_client(
        Venv::Tools,
        "metal.py",
        &["create", &host, "not an address"],
        &[("METAL_API_KEY", &app.api_key)],
    )
    .await;
    assert_eq!(malformed["status"], 422, "{malformed}");
    assert!(malformed["error"]["errors"][0].is_string(), "{malformed}");

    let unknown_token = run_client(
        Venv::Tools,
        "metal.py",
        &["reset", &host],
        &[("METAL_RESET_TOKEN", "prt_nope")],
    )
    .await;
    assert_eq!(unknown_token["status"], 401, "{unknown_token}");
    assert!(app.smtp.messages().is_empty());
    app.stop().await;
}
