//! The attacks reset flows are known to fall to, tried against the running services: header
//! injection through the address, Host header poisoning, racing redemptions, malformed bodies.

use std::time::Duration;

use reqwest::{StatusCode, header};

use crate::helpers::{PERSONA_CONTENT_TYPE, RESET_URL, json_of, spawn_app, token_in};

const EMAIL: &str = "mallory-target@example.com";
const OLD_PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn a_forged_host_origin_or_forwarded_host_never_shapes_the_link() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let body = serde_json::json!({ "email": EMAIL }).to_string();
    let response = app
        .http
        .post(format!("{}/v1/account/password/forgot", app.base_url))
        .header(header::CONTENT_TYPE, PERSONA_CONTENT_TYPE)
        .header(header::HOST, "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .header(header::ORIGIN, "https://evil.example")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let mail = app.mail_number(1).await;
    let configured = RESET_URL.trim_end_matches("{token}");
    assert!(mail.text_body().contains(configured));
    assert!(!mail.text_body().contains("evil.example"));
    assert!(!mail.html_body().contains("evil.example"));
    app.stop().await;
}

#[tokio::test]
async fn control_characters_in_an_address_are_refused_and_no_mail_is_sent() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let injections = [
        format!("{EMAIL}\r\nBcc: eve@example.com"),
        format!("{EMAIL}\nBcc: eve@example.com"),
        format!("{EMAIL}\0"),
        format!("eve@example.com\r\nTo: {EMAIL}"),
    ];
    for address in &injections {
        let response = app.forgot(address).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{address:?}");
        let body = json_of(response).await;
        assert_eq!(body["http_code"], 400, "{body}");

        let metal = app.metal_request(address).await;
        assert_eq!(
            metal.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{address:?}"
        );
        let body = json_of(metal).await;
        assert!(body["errors"][0].is_string(), "{body}");
    }
    // A clean request afterwards is the first and only mail.
    assert_eq!(app.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    app.mail_number(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.smtp.messages().len(),
        1,
        "an injected request sent mail"
    );
    app.stop().await;
}

#[tokio::test]
async fn invalid_utf8_in_a_body_is_a_400_in_personas_shape() {
    let app = spawn_app().await;
    let mut body = br#"{"email": "ada@example.com"#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(br#""}"#);
    let response = app
        .post("/v1/account/password/forgot", PERSONA_CONTENT_TYPE, body)
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = json_of(response).await;
    assert!(
        body["invalid_request_body"]["message"].is_string(),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_redemptions_of_one_token_have_exactly_one_winner_and_no_5xx() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    assert_eq!(app.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    let token = token_in(&app.mail_number(1).await);

    let attempts = (0..50).map(|_| app.reset(&token, NEW_PASSWORD, NEW_PASSWORD));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|response| response.status())
        .collect();
    let winners = statuses
        .iter()
        .filter(|status| **status == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(winners, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|status| *status == StatusCode::NO_CONTENT || status.is_client_error()),
        "{statuses:?}"
    );
    assert!(app.password_verifies(EMAIL, NEW_PASSWORD).await);
    app.stop().await;
}

/// Status, `Retry-After` and body of a response: what a client can compare.
async fn observed(response: reqwest::Response) -> (StatusCode, Option<String>, String) {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|value| value.to_str().unwrap().to_owned());
    (status, retry_after, response.text().await.unwrap())
}

#[tokio::test]
async fn the_429_sequence_is_identical_for_a_known_and_an_unknown_address() {
    let app = crate::helpers::spawn_app_with(&["--limit-per-address", "2/1h"]).await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..4 {
        known.push(observed(app.forgot(EMAIL).await).await);
        unknown.push(observed(app.forgot("nobody-at-all@example.com").await).await);
    }
    assert_eq!(known, unknown);
    let statuses: Vec<StatusCode> = known.iter().map(|(status, _, _)| *status).collect();
    assert_eq!(
        statuses,
        [
            StatusCode::NO_CONTENT,
            StatusCode::NO_CONTENT,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let (_, retry_after, body) = &known[2];
    assert!(
        retry_after
            .as_deref()
            .and_then(|seconds| seconds.parse::<u64>().ok())
            .is_some_and(|seconds| seconds >= 1),
        "{retry_after:?}"
    );
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["http_code"], 429, "{body}");

    // The Metal surface answers a limited request in its own shape.
    let metal = app.metal_request(EMAIL).await;
    let (status, retry_after, body) = observed(metal).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after.is_some());
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(body["errors"][0].is_string(), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_reset_mail_that_can_never_be_delivered_revokes_its_token() {
    use passreset_proto::{
        mail::v1::{
            EnqueueRequest, GetStatusRequest, PasswordReset, enqueue_request::Kind,
            mail_service_client::MailServiceClient, message_status::State,
        },
        token::v1::{
            CheckTokenRequest, IssueTokenRequest, issue_token_response::Outcome,
            token_service_client::TokenServiceClient,
        },
    };

    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    app.smtp.reject_recipient(EMAIL, 550);
    // As the gateway does, but over gRPC directly, so the test holds the token.
    let mut tokens = TokenServiceClient::connect(app.token_url.clone())
        .await
        .unwrap();
    let issued = tokens
        .issue_token(IssueTokenRequest {
            email: EMAIL.to_owned(),
            context: None,
        })
        .await
        .unwrap()
        .into_inner();
    let Some(Outcome::Issued(issued)) = issued.outcome else {
        panic!("no token issued");
    };
    let check = CheckTokenRequest {
        token: issued.token.clone(),
        context: None,
    };
    tokens.check_token(check.clone()).await.unwrap();

    let mut mail = MailServiceClient::connect(app.mail_url.clone())
        .await
        .unwrap();
    let id = mail
        .enqueue(EnqueueRequest {
            to: EMAIL.to_owned(),
            locale: String::new(),
            idempotency_key: String::new(),
            kind: Some(Kind::PasswordReset(PasswordReset {
                link: RESET_URL.replace("{token}", &issued.token),
                expires_at_unix: issued.expires_at_unix,
                ttl_seconds: issued.ttl_seconds,
                token: issued.token.clone(),
            })),
        })
        .await
        .unwrap()
        .into_inner()
        .message_id;

    // The server refuses the recipient for good: the mail dies, and its token with it.
    let mut revoked = false;
    for _ in 0..100 {
        let state = mail
            .get_status(GetStatusRequest {
                message_id: id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .state();
        let refused = tokens
            .check_token(check.clone())
            .await
            .err()
            .map(|status| status.code());
        if state == State::Dead && refused == Some(tonic::Code::NotFound) {
            revoked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(revoked, "the dead mail's token still works");
    app.stop().await;
}

/// `forgot` for a fresh address, sent with `X-Forwarded-For: forwarded`.
async fn forgot_forwarded(app: &crate::helpers::TestApp, n: usize, forwarded: &str) -> StatusCode {
    app.http
        .post(format!("{}/v1/account/password/forgot", app.base_url))
        .header(header::CONTENT_TYPE, PERSONA_CONTENT_TYPE)
        .header("X-Forwarded-For", forwarded)
        .body(serde_json::json!({ "email": format!("user{n}@example.com") }).to_string())
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_limited_not_the_proxy() {
    let app = crate::helpers::spawn_app_configured(
        passreset_testkit::test_redis().await,
        &["--limit-per-ip", "2/15m"],
        &[
            "--trusted-proxies",
            "127.0.0.1/32",
            "--forgot-min-duration",
            "0s",
        ],
    )
    .await;
    // The client wrote a fake first hop; the trusted proxy (our loopback peer) appended nothing,
    // so the right-most untrusted address is the client.
    assert_eq!(
        forgot_forwarded(&app, 1, "198.51.100.1, 203.0.113.5").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        forgot_forwarded(&app, 2, "203.0.113.5").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        forgot_forwarded(&app, 3, "203.0.113.5").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy is not affected.
    assert_eq!(
        forgot_forwarded(&app, 4, "203.0.113.6").await,
        StatusCode::NO_CONTENT
    );
    app.stop().await;
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_cannot_dodge_the_per_ip_limit() {
    let app = crate::helpers::spawn_app_configured(
        passreset_testkit::test_redis().await,
        &["--limit-per-ip", "2/15m"],
        &["--forgot-min-duration", "0s"],
    )
    .await;
    assert_eq!(
        forgot_forwarded(&app, 1, "203.0.113.1").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        forgot_forwarded(&app, 2, "203.0.113.2").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        forgot_forwarded(&app, 3, "203.0.113.3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.stop().await;
}
