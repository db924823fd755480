//! Who the limits count against, through the whole path: a gateway behind a trusted proxy
//! (our loopback peer) reads the client from `X-Forwarded-For`, and the token service keys
//! its per-IP budgets on it. Only allowed and refused answers are asserted, never timings.

use reqwest::{
    StatusCode,
    header::{CONTENT_TYPE, HeaderValue},
};

use crate::helpers::{PERSONA_CONTENT_TYPE, TestApp, spawn_app_configured};

/// A passreset whose gateway trusts its loopback peer as a proxy, with `token_flags`.
async fn behind_a_trusted_proxy(token_flags: &[&str]) -> TestApp {
    spawn_app_configured(
        passreset_testkit::test_redis().await,
        token_flags,
        &[
            "--trusted-proxies",
            "127.0.0.1/32",
            "--forgot-min-duration",
            "0s",
        ],
    )
    .await
}

/// persona `forgot` for a fresh address, with one `X-Forwarded-For` line as raw bytes (none
/// if `forwarded` is `None`).
async fn forgot_from(app: &TestApp, n: usize, forwarded: Option<&[u8]>) -> StatusCode {
    let body = serde_json::json!({ "email": format!("user{n}@example.com") }).to_string();
    send(app, "/v1/account/password/forgot", body, forwarded).await
}

/// persona `check-token` with a token that was never issued, forwarded as `forgot_from` is.
async fn guess_from(app: &TestApp, forwarded: Option<&[u8]>) -> StatusCode {
    let never_issued = format!("prt_{:0>43}", 7);
    let body = serde_json::Value::from(never_issued).to_string();
    send(app, "/v1/account/password/check-token", body, forwarded).await
}

async fn send(app: &TestApp, path: &str, body: String, forwarded: Option<&[u8]>) -> StatusCode {
    let mut request = app
        .http
        .post(format!("{}{path}", app.base_url))
        .header(CONTENT_TYPE, PERSONA_CONTENT_TYPE)
        .body(body);
    if let Some(forwarded) = forwarded {
        request = request.header(
            "X-Forwarded-For",
            HeaderValue::from_bytes(forwarded).unwrap(),
        );
    }
    request.send().await.expect("gateway answers").status()
}

#[tokio::test]
async fn ipv6_clients_of_one_64_share_a_budget_and_another_64_has_its_own() {
    let app = behind_a_trusted_proxy(&["--limit-per-ip", "2/15m"]).await;
    for (n, client, expected) in [
        (1, "2001:db8:1:2::1", StatusCode::NO_CONTENT),
        (2, "2001:db8:1:2:aaaa::2", StatusCode::NO_CONTENT),
        (
            3,
            "2001:db8:1:2:ffff:ffff:ffff:ffff",
            StatusCode::TOO_MANY_REQUESTS,
        ),
        (4, "2001:db8:1:3::1", StatusCode::NO_CONTENT),
    ] {
        let forwarded = format!("198.51.100.1, {client}");
        assert_eq!(
            forgot_from(&app, n, Some(forwarded.as_bytes())).await,
            expected,
            "{client}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_forwarded_line_with_a_non_ascii_byte_spends_the_clients_budget_not_the_proxys() {
    let app = behind_a_trusted_proxy(&["--limit-failures-per-ip", "2/15m"]).await;
    // The attacker's own line, with the proxy's hop for it appended.
    let broken: &[u8] = b"caf\xc3\xa9 \xff, 203.0.113.5";
    assert_eq!(
        guess_from(&app, Some(broken)).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        guess_from(&app, Some(broken)).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        guess_from(&app, Some(broken)).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The guesses were counted against the attacker's address...
    assert_eq!(
        guess_from(&app, Some(b"203.0.113.5")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...not against the proxy, nor anyone else behind it.
    assert_eq!(guess_from(&app, None).await, StatusCode::BAD_REQUEST);
    assert_eq!(
        guess_from(&app, Some(b"203.0.113.6")).await,
        StatusCode::BAD_REQUEST
    );
    app.stop().await;
}
