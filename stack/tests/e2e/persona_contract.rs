//! persona's contract to the letter, row by row: the statuses (204, 400, 415), the strings its
//! generated models pin as enums, the reasons beside them, `invalid_form_fields` in each
//! language, the token-only reset and the JavaScript client's bare check-token body.

use passreset_testkit::test_redis;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    PERSONA_CONTENT_TYPE, TestApp, json_of, spawn_app, spawn_app_configured, spawn_app_with,
    token_in,
};

const EMAIL: &str = "grace@example.com";
const OLD_PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "correct horse battery staple";

/// An account, a forgot, and the token from its mail.
async fn token_for(app: &TestApp) -> String {
    app.create_account(EMAIL, OLD_PASSWORD).await;
    assert_eq!(app.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    token_in(&app.mail_number(1).await)
}

/// A 400 in persona's exact shape (its `InlineResponse400`), naming `reason` beside it.
fn assert_bad_request(body: &Value, reason: Option<&str>) {
    assert_eq!(body["http_code"], 400, "{body}");
    assert_eq!(body["http_status"], "Bad request", "{body}");
    assert_eq!(
        body["invalid_request_body"]["description"], "Could not parse the request body.",
        "{body}"
    );
    assert!(
        body["invalid_request_body"]["message"].is_string(),
        "{body}"
    );
    if let Some(reason) = reason {
        assert!(body[reason]["message"].is_string(), "{reason}: {body}");
        assert!(body[reason]["description"].is_string(), "{reason}: {body}");
    }
}

async fn reset_body(app: &TestApp, body: Value, language: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/v1/account/password/reset", app.base_url))
        .header("Content-Type", PERSONA_CONTENT_TYPE)
        .header("Accept-Language", language)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reset_with_only_the_token_is_a_check_that_never_spends_it() {
    let app = spawn_app().await;
    let token = token_for(&app).await;
    for body in [
        json!({ "token": token }),
        json!({ "token": token, "password": NEW_PASSWORD }),
        json!({ "token": token, "confirmPassword": NEW_PASSWORD }),
    ] {
        let response = reset_body(&app, body.clone(), "en").await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{body}");
        assert!(response.bytes().await.unwrap().is_empty());
    }
    assert!(
        app.password_verifies(EMAIL, OLD_PASSWORD).await,
        "no password was set"
    );
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );

    let made_up = reset_body(
        &app,
        json!({ "token": "prt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }),
        "en",
    )
    .await;
    assert_eq!(made_up.status(), StatusCode::BAD_REQUEST);
    assert_bad_request(&json_of(made_up).await, Some("invalid_token"));

    assert_eq!(
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    let spent = reset_body(&app, json!({ "token": token }), "en").await;
    assert_eq!(spent.status(), StatusCode::BAD_REQUEST);
    assert_bad_request(&json_of(spent).await, Some("used_token"));
    app.stop().await;
}

#[tokio::test]
async fn unknown_expired_and_used_tokens_are_400s_naming_why() {
    // A token that lives one second, so one can expire within the test.
    let app = spawn_app_with(&["--token-ttl", "1s"]).await;
    let token = token_for(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    for response in [
        app.check_token(&token).await,
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await,
    ] {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_bad_request(&json_of(response).await, Some("expired_token"));
    }
    app.stop().await;

    let app = spawn_app().await;
    let token = token_for(&app).await;
    assert_eq!(
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    for response in [
        app.check_token(&token).await,
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await,
    ] {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_bad_request(&json_of(response).await, Some("used_token"));
    }
    let unknown = app.check_token("prt_made_up").await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_bad_request(&json_of(unknown).await, Some("invalid_token"));
    app.stop().await;
}

#[tokio::test]
async fn every_endpoint_answers_a_wrong_media_type_with_personas_exact_415() {
    let app = spawn_app().await;
    for (path, body) in [
        ("forgot", json!({ "email": EMAIL }).to_string()),
        ("check-token", "\"prt_x\"".to_owned()),
        ("reset", json!({ "token": "prt_x" }).to_string()),
    ] {
        let response = app
            .post(&format!("/v1/account/password/{path}"), "text/plain", body)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{path}"
        );
        assert_eq!(
            json_of(response).await,
            json!({
                "http_code": 415,
                "http_status": "Unsupported media type",
                "unsupported_media_type": { "description": "Unsupported media type" }
            }),
            "{path}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_refused_password_is_a_form_field_error_in_the_readers_language() {
    let app = spawn_app().await;
    let token = token_for(&app).await;
    let cases = [
        (
            "en",
            "The password must be at least 12 characters long.",
            "The password is too easy to guess",
            "The two passwords do not match.",
        ),
        (
            "sv-SE,sv;q=0.9",
            "Lösenordet måste ha minst 12 tecken.",
            "Lösenordet är för lätt att gissa",
            "Lösenorden stämmer inte överens.",
        ),
        (
            "fi",
            "Salasanassa on oltava vähintään 12 merkkiä.",
            "Salasana on liian helppo arvata",
            "Salasanat eivät täsmää.",
        ),
    ];
    for (language, too_short, too_easy, mismatch) in cases {
        // "password" fails two rules: one message for each.
        let weak = reset_body(
            &app,
            json!({ "token": token, "password": "password", "confirmPassword": "password" }),
            language,
        )
        .await;
        assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
        let body = json_of(weak).await;
        assert_bad_request(&body, Some("invalid_password"));
        let errors = &body["invalid_form_fields"]["errors"]["password"];
        assert_eq!(errors[0], too_short, "{language}: {body}");
        assert!(
            errors[1].as_str().unwrap().starts_with(too_easy),
            "{language}: {body}"
        );
        assert_eq!(errors.as_array().unwrap().len(), 2, "{body}");
        assert!(body["invalid_form_fields"]["description"].is_string());

        let differs = reset_body(
            &app,
            json!({ "token": token, "password": NEW_PASSWORD, "confirmPassword": "another one" }),
            language,
        )
        .await;
        assert_eq!(differs.status(), StatusCode::BAD_REQUEST);
        let body = json_of(differs).await;
        assert_bad_request(&body, Some("password_mismatch"));
        assert_eq!(
            body["invalid_form_fields"]["errors"],
            json!({ "confirmPassword": [mismatch] }),
            "{language}"
        );
    }
    // None of that spent the token.
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );
    app.stop().await;
}

#[tokio::test]
async fn check_token_takes_a_bare_token_as_persona_javascript_client_sends_it() {
    let app = spawn_app().await;
    let token = token_for(&app).await;
    let check = async |body: String| {
        app.post(
            "/v1/account/password/check-token",
            PERSONA_CONTENT_TYPE,
            body,
        )
        .await
    };
    assert_eq!(check(token.clone()).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        check(format!("\"{token}\"")).await.status(),
        StatusCode::NO_CONTENT
    );
    let unknown = check("prt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned()).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_bad_request(&json_of(unknown).await, Some("invalid_token"));
    for not_json in [
        format!("{token} x"),
        "{not json".to_owned(),
        "\"unterminated".to_owned(),
    ] {
        let response = check(not_json.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{not_json}");
        assert_bad_request(&json_of(response).await, None);
    }
    // JSON that is not a string is still no token.
    for wrong_type in ["42", "{\"token\": \"x\"}", "null"] {
        let response = check(wrong_type.to_owned()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{wrong_type}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_reset_page_takes_its_length_hint_from_the_token_services_policy() {
    let app = spawn_app_with(&["--password-min-length", "8"]).await;
    let token = token_for(&app).await;
    let page = app
        .http
        .get(format!("{}/reset", app.base_url))
        .query(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"minlength="8""#), "{html}");
    assert!(html.contains(r#"data-min-length="8""#), "{html}");
    assert!(html.contains("At least 8 characters"), "{html}");

    // The policy's words follow the setting too.
    let short = reset_body(
        &app,
        json!({ "token": token, "password": "abc", "confirmPassword": "abc" }),
        "en",
    )
    .await;
    let body = json_of(short).await;
    assert_eq!(
        body["invalid_form_fields"]["errors"]["password"][0],
        "The password must be at least 8 characters long.",
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_double_submit_is_told_the_reset_is_in_progress_not_that_the_token_is_used() {
    // One hashing slot, kept busy by password checks: the first reset holds its claim while it
    // waits for the slot, and the second submit meets it. Forty hashes on a loaded machine can
    // outlast the gateway's default 5 s upstream timeout: the first reset is given a minute.
    let app = spawn_app_configured(
        test_redis().await,
        &[
            "--hash-concurrency",
            "1",
            "--hash-queue",
            "64",
            "--hash-wait",
            "60s",
            // Forty checks of one address are a guesser's pace: let them all through.
            "--limit-verify-per-address",
            "off",
        ],
        &["--upstream-timeout", "60s"],
    )
    .await;
    let token = token_for(&app).await;
    let mut busy = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let directory = app.directory.clone();
        busy.spawn(async move {
            let mut directory = directory;
            let _ = directory
                .verify_password(passreset_proto::token::v1::VerifyPasswordRequest {
                    email: EMAIL.to_owned(),
                    password: "not the password at all".to_owned(),
                    context: None,
                })
                .await;
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let first = {
        let http = app.http.clone();
        let url = format!("{}/v1/account/password/reset", app.base_url);
        let body =
            json!({ "token": token, "password": NEW_PASSWORD, "confirmPassword": NEW_PASSWORD });
        tokio::spawn(async move {
            http.post(url)
                .header("Content-Type", PERSONA_CONTENT_TYPE)
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let second = app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(second.status(), StatusCode::BAD_REQUEST);
    assert_eq!(second.headers()["retry-after"], "1");
    assert_bad_request(&json_of(second).await, Some("token_in_use"));
    let page = app
        .http
        .post(format!("{}/reset", app.base_url))
        .header("Accept-Language", "sv")
        .form(&[
            ("token", token.as_str()),
            ("password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["retry-after"], "1");
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Vi arbetar redan på det"),
        "the page says it is already being worked on"
    );

    assert_eq!(first.await.unwrap(), StatusCode::NO_CONTENT);
    while busy.join_next().await.is_some() {}
    let spent = app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_bad_request(&json_of(spent).await, Some("used_token"));
    app.stop().await;
}
