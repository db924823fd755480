//! What operators watch: readiness and metrics, scraped before and after a flow.

use reqwest::StatusCode;

use crate::helpers::{json_of, spawn_app, token_in};

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
    let before = app
        .http
        .get(&app.gateway_metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

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
        StatusCode::FORBIDDEN
    );

    let after = app
        .http
        .get(&app.gateway_metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let forgot = [r#"route="/v1/account/password/forgot""#, r#"status="204""#];
    let refused = [
        r#"route="/v1/account/password/check-token""#,
        r#"status="403""#,
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
    let scrape = async || {
        app.http
            .get(&app.token_metrics_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let issue = [
        r#"method="passreset.token.v1.TokenService/IssueToken""#,
        r#"code="OK""#,
    ];
    let check = [
        r#"method="passreset.token.v1.TokenService/CheckToken""#,
        r#"code="NOT_FOUND""#,
    ];
    let before = scrape().await;
    assert_eq!(
        app.forgot("nobody@example.com").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.check_token("prt_made_up").await.status(),
        StatusCode::FORBIDDEN
    );
    let after = scrape().await;
    for labels in [&issue[..], &check[..]] {
        assert_eq!(
            sample(&after, "grpc_server_calls_total", labels)
                - sample(&before, "grpc_server_calls_total", labels),
            1.0,
            "{labels:?}: {after}"
        );
    }
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
