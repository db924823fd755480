//! A down upstream is a 503 and a hung one a 504, in persona's error shape: never a hang.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::net::TcpListener;

use crate::helpers::spawn_gateway;

/// An address where nothing listens: bound, then released.
async fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// A server that accepts connections and never says a word.
async fn silent_server_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_token_service_that_is_down_is_a_503_with_retry_after() {
    let down = closed_port_url().await;
    let gateway = spawn_gateway(&down, &down, Duration::from_secs(2)).await;

    let response = gateway.forgot("ada@example.com").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["http_code"], 503);
    assert!(body["service_unavailable"]["message"].is_string());
}

#[tokio::test]
async fn a_token_service_that_hangs_is_a_504_not_a_hang() {
    let hung = silent_server_url().await;
    let gateway = spawn_gateway(&hung, &hung, Duration::from_millis(300)).await;

    let response = gateway.forgot("ada@example.com").await;
    assert!(
        matches!(
            response.status(),
            StatusCode::GATEWAY_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE
        ),
        "status {}",
        response.status()
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["http_code"].as_u64().is_some_and(|code| code >= 503));
}

#[tokio::test]
async fn bodies_over_16_kib_are_413_before_any_upstream_is_called() {
    let down = closed_port_url().await;
    let gateway = spawn_gateway(&down, &down, Duration::from_secs(2)).await;
    let huge = format!(r#"{{"email": "{}@example.com"}}"#, "a".repeat(20 * 1024));

    let response = gateway
        .http
        .post(format!("{}/v1/account/password/forgot", gateway.base_url))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["http_code"], 413);
}

#[tokio::test]
async fn responses_forbid_caching_and_referrers() {
    let down = closed_port_url().await;
    let gateway = spawn_gateway(&down, &down, Duration::from_secs(2)).await;

    let response = gateway.forgot("ada@example.com").await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn readiness_is_503_while_an_upstream_is_down_and_liveness_stays_200() {
    let down = closed_port_url().await;
    let gateway = spawn_gateway(&down, &down, Duration::from_secs(2)).await;

    let live = reqwest::get(format!("{}/healthz", gateway.base_url))
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let ready = reqwest::get(format!("{}/readyz", gateway.base_url))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["token_service"], "unreachable");
}
