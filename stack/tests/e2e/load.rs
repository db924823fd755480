//! Load shedding: with the work in flight at its bound, one more request is answered at once,
//! 503 with `Retry-After` in each surface's own shape (RESOURCE_EXHAUSTED over gRPC), while
//! health checks are still answered.

use passreset_testkit::test_redis;
use reqwest::{Response, StatusCode, header};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest,
};
use tonic_types::StatusExt as _;

use crate::helpers::{TestApp, json_of, spawn_app_configured, spawn_app_with};

/// How often a probe is sent before the test gives up on the bound being reached.
const PROBES: usize = 400;

/// persona `check-token` with a body that is not JSON: a 400 at once, unless shed.
async fn persona_probe(app: &TestApp) -> Response {
    app.http
        .post(format!("{}/v1/account/password/check-token", app.base_url))
        .header(header::CONTENT_TYPE, "application/json")
        .body("not json")
        .send()
        .await
        .unwrap()
}

fn retry_after(response: &Response) -> u64 {
    response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok()?.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", response.headers()))
}

#[tokio::test]
async fn with_the_gateway_full_a_third_request_gets_503_and_retry_after_in_each_surfaces_shape() {
    // Two reset requests, each held open by a 10 s floor, fill a bound of two.
    let app = spawn_app_configured(
        test_redis().await,
        &[],
        &["--max-in-flight", "2", "--forgot-min-duration", "10s"],
    )
    .await;
    let held: Vec<_> = (0..2)
        .map(|n| {
            let (http, url) = (app.http.clone(), app.base_url.clone());
            tokio::spawn(async move {
                let _ = http
                    .post(format!("{url}/v1/account/password/forgot"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(format!(r#"{{"email":"held{n}@example.com"}}"#))
                    .send()
                    .await;
            })
        })
        .collect();
    let mut persona = None;
    for _ in 0..PROBES {
        let response = persona_probe(&app).await;
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            persona = Some(response);
            break;
        }
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let persona = persona.expect("the two held requests fill the bound");
    assert!(retry_after(&persona) >= 1);
    let body = json_of(persona).await;
    assert_eq!(body["http_code"], 503, "{body}");
    assert_eq!(body["http_status"], "Service unavailable", "{body}");
    assert!(body["service_unavailable"]["message"].is_string(), "{body}");

    let metal = app
        .http
        .delete(format!("{}/metal/v1/reset-password", app.base_url))
        .header("X-Auth-Token", "prt_whatever")
        .send()
        .await
        .unwrap();
    assert_eq!(metal.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry_after(&metal) >= 1);
    let body = json_of(metal).await;
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(body["errors"][0], body["error"], "{body}");

    let page = app
        .http
        .get(format!("{}/forgot", app.base_url))
        .header(header::ACCEPT_LANGUAGE, "sv")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry_after(&page) >= 1);
    assert!(page.headers().contains_key(header::CONTENT_SECURITY_POLICY));
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"sv\""), "{html}");

    // Probes are never shed.
    let health = app
        .http
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    for request in held {
        request.abort();
    }
    app.stop().await;
}

#[tokio::test]
async fn with_the_token_service_full_a_third_call_is_refused_at_once_but_health_answers() {
    let app = spawn_app_with(&["--max-in-flight", "2"]).await;
    let channel = tonic::transport::Endpoint::from_shared(app.token_url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    // Two reflection streams, held open by their callers, fill a bound of two.
    let mut held = Vec::new();
    for _ in 0..2 {
        let (requests, stream) = tokio::sync::mpsc::channel(1);
        requests
            .send(ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            })
            .await
            .unwrap();
        let mut answers = ServerReflectionClient::new(channel.clone())
            .server_reflection_info(tokio_stream::wrappers::ReceiverStream::new(stream))
            .await
            .unwrap()
            .into_inner();
        answers.message().await.unwrap().unwrap();
        held.push((requests, answers));
    }

    let mut directory = app.directory.clone();
    let refused = directory
        .list_accounts(passreset_proto::token::v1::ListAccountsRequest::default())
        .await
        .expect_err("a third call is refused");
    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );
    let retry = refused
        .get_error_details()
        .retry_info()
        .and_then(|info| info.retry_delay);
    assert!(retry.is_some_and(|delay| !delay.is_zero()), "{refused:?}");

    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health is never shed")
        .into_inner();
    assert_eq!(health.status(), ServingStatus::Serving);

    // A stream that ends gives its place back.
    drop(held.pop());
    let mut answered = false;
    for _ in 0..PROBES {
        if directory
            .list_accounts(passreset_proto::token::v1::ListAccountsRequest::default())
            .await
            .is_ok()
        {
            answered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(answered, "the place of an ended stream is not given back");
    drop(held);
    app.stop().await;
}
