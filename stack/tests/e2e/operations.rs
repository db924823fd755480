//! What operators watch: readiness and metrics, scraped before and after a flow.

use std::time::Duration;

use passreset_testkit::RedisProcess;
use reqwest::StatusCode;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::{TestApp, json_of, spawn_app, spawn_app_on, token_in};

/// A `/metrics` page.
async fn scrape(app: &TestApp, url: &str) -> String {
    app.http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of the sample `name{labels}` in a Prometheus text page, 0 when absent.
fn sample(page: &str, name: &str, labels: &[&str]) -> f64 {
    page.lines()
        .filter(|line| line.starts_with(name) && labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn the_gateway_counts_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.create_account("ops@example.com", "the old password 1")
        .await;
    let before = scrape(&app, &app.gateway_metrics_url).await;

    assert_eq!(
        app.forgot("ops@example.com").await.status(),
        StatusCode::NO_CONTENT
    );
    let token = token_in(&app.mail_number(1).await);
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.check_token("prt_made_up").await.status(),
        StatusCode::BAD_REQUEST
    );

    let after = scrape(&app, &app.gateway_metrics_url).await;
    let forgot = [r#"route="/v1/account/password/forgot""#, r#"status="204""#];
    let refused = [
        r#"route="/v1/account/password/check-token""#,
        r#"status="400""#,
    ];
    assert_eq!(
        sample(&after, "http_requests_total", &forgot)
            - sample(&before, "http_requests_total", &forgot),
        1.0,
        "{after}"
    );
    assert_eq!(
        sample(&after, "http_requests_total", &refused)
            - sample(&before, "http_requests_total", &refused),
        1.0,
        "{after}"
    );
    assert!(
        after.contains("http_request_duration_seconds_bucket"),
        "{after}"
    );
    assert!(!after.contains(&token), "a token became a label");
    app.stop().await;
}

#[tokio::test]
async fn the_token_service_counts_grpc_calls_by_method_and_code() {
    let app = spawn_app().await;
    let scrape_tokens = async || scrape(&app, &app.token_metrics_url).await;
    let issue = [
        r#"method="passreset.token.v1.TokenService/IssueToken""#,
        r#"code="OK""#,
    ];
    let check = [
        r#"method="passreset.token.v1.TokenService/CheckToken""#,
        r#"code="NOT_FOUND""#,
    ];
    let before = scrape_tokens().await;
    assert_eq!(
        app.forgot("nobody@example.com").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.check_token("prt_made_up").await.status(),
        StatusCode::BAD_REQUEST
    );
    let after = scrape_tokens().await;
    for (name, labels) in [
        ("grpc_server_calls_total", &issue[..]),
        ("grpc_server_calls_total", &check[..]),
        ("tokens_total", &[r#"event="requested""#][..]),
        ("tokens_total", &[r#"event="no_account""#][..]),
        ("tokens_total", &[r#"event="refused""#][..]),
    ] {
        assert_eq!(
            sample(&after, name, labels) - sample(&before, name, labels),
            1.0,
            "{name} {labels:?}: {after}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_mail_service_counts_mail_queued_suppressed_and_sent() {
    let app = spawn_app().await;
    app.create_account("counted@example.com", "the old password 1")
        .await;
    let scrape_mail = async || scrape(&app, &app.mail_metrics_url).await;
    let before = scrape_mail().await;
    assert_eq!(
        app.forgot("counted@example.com").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.forgot("nobody@example.com").await.status(),
        StatusCode::NO_CONTENT
    );
    app.mail_number(1).await;
    // The counter moves once the queue has recorded the delivery, just after the mail lands.
    eventually("mail_sent_total moves", async || {
        sample(&scrape_mail().await, "mail_sent_total", &[])
            > sample(&before, "mail_sent_total", &[])
    })
    .await;
    let after = scrape_mail().await;
    for (name, moved) in [
        ("mail_queued_total", 1.0),
        ("mail_suppressed_total", 1.0),
        ("mail_sent_total", 1.0),
        ("mail_send_duration_seconds_count", 1.0),
    ] {
        assert_eq!(
            sample(&after, name, &[]) - sample(&before, name, &[]),
            moved,
            "{name}: {after}"
        );
    }
    assert!(after.contains("mail_queue_depth"), "{after}");
    app.stop().await;
}

#[tokio::test]
async fn the_gateway_is_ready_once_both_upstreams_serve() {
    let app = spawn_app().await;
    let ready = app
        .http
        .get(format!("{}/readyz", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body = json_of(ready).await;
    assert_eq!(body["status"], "ready", "{body}");
    app.stop().await;
}

/// The token service's gRPC health status (1 SERVING, 2 NOT_SERVING).
pub(crate) async fn token_health(app: &TestApp) -> i32 {
    let channel = tonic::transport::Endpoint::from_shared(app.token_url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = HealthClient::new(channel);
    client
        .check(HealthCheckRequest {
            service: "passreset.token.v1.TokenService".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .status
}

async fn readyz(app: &TestApp) -> StatusCode {
    app.http
        .get(format!("{}/readyz", app.base_url))
        .send()
        .await
        .unwrap()
        .status()
}

/// Polls `check` until it holds, for at most 15 s (the services re-check every 2 s).
pub(crate) async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} never happened");
}

#[tokio::test]
async fn health_and_readiness_follow_redis_going_away_and_coming_back() {
    let mut redis = RedisProcess::start().await;
    let app = spawn_app_on(redis.test_redis(), &[]).await;
    assert_eq!(readyz(&app).await, StatusCode::OK);
    assert_eq!(token_health(&app).await, 1);

    redis.stop().await;
    eventually("NOT_SERVING while redis is down", async || {
        token_health(&app).await == 2
    })
    .await;
    assert_eq!(readyz(&app).await, StatusCode::SERVICE_UNAVAILABLE);

    redis.restart().await;
    eventually("SERVING once redis is back", async || {
        token_health(&app).await == 1
    })
    .await;
    eventually("ready once redis is back", async || {
        readyz(&app).await == StatusCode::OK
    })
    .await;
    app.create_account("back@example.com", "the old password 1")
        .await;
    assert_eq!(
        app.forgot("back@example.com").await.status(),
        StatusCode::NO_CONTENT
    );
    app.mail_number(1).await;
    app.stop().await;
}

#[tokio::test]
async fn the_mail_service_lists_its_services_by_reflection() {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };

    let app = spawn_app().await;
    let channel = tonic::transport::Endpoint::from_shared(app.mail_url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("no service list: {answer:?}");
    };
    let names: Vec<String> = list
        .service
        .into_iter()
        .map(|service| service.name)
        .collect();
    for expected in [
        // The token service's own reflection is checked in token-service/tests/api/service.rs.
        "passreset.mail.v1.MailService",
        "grpc.health.v1.Health",
    ] {
        assert!(names.iter().any(|name| name == expected), "{names:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_v1alpha_reflection_client_lists_the_services_of_both_servers() {
    // What Python's grpcio-reflection, Postman and older grpcurl send: v1alpha only.
    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };

    let app = spawn_app().await;
    for (url, expected) in [
        (
            &app.token_url,
            &[
                "passreset.token.v1.TokenService",
                "passreset.token.v1.AccountDirectory",
                "grpc.health.v1.Health",
            ][..],
        ),
        (
            &app.mail_url,
            &["passreset.mail.v1.MailService", "grpc.health.v1.Health"][..],
        ),
    ] {
        let channel = tonic::transport::Endpoint::from_shared(url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut answers = ServerReflectionClient::new(channel)
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap_or_else(|status| panic!("{url} has no v1alpha reflection: {status:?}"))
            .into_inner();
        let answer = answers.message().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
            panic!("no service list from {url}: {answer:?}");
        };
        let names: Vec<String> = list
            .service
            .into_iter()
            .map(|service| service.name)
            .collect();
        for name in expected {
            assert!(
                names.iter().any(|listed| listed == name),
                "{url}: {names:?}"
            );
        }
    }
    app.stop().await;
}
