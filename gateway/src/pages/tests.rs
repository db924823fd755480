//! The page routes through the whole router, without upstreams: headers, languages, the forms'
//! checks that come before any flow, and what a page says when the upstreams are down. The
//! flows behind them are covered end to end in `stack/tests` (e2e `pages`, and `browser`).

use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
    response::Response,
};
use passreset_telemetry::metrics::{HttpMetrics, Registry};
use tower::ServiceExt as _;

use super::{CONTENT_SECURITY_POLICY, texts::Language};
use crate::{AppState, ResetUrl, Resets, Upstreams, router};

/// A router whose upstreams refuse every connection, so any flow fails fast as unavailable.
fn app() -> axum::Router {
    let upstreams = Upstreams::connect_lazy(
        "http://127.0.0.1:1",
        "http://127.0.0.1:1",
        Duration::from_secs(2),
        [None, None],
        &passreset_grpc_security::ClientTls::load(&Default::default()).unwrap(),
    )
    .unwrap();
    router(AppState {
        resets: Resets {
            upstreams: Arc::new(upstreams),
            reset_url: Arc::new(
                ResetUrl::parse("http://localhost:8080/reset?token={token}").unwrap(),
            ),
            forgot_min_duration: Duration::ZERO,
        },
        api_keys: Arc::default(),
        trusted_proxies: Arc::default(),
        http_metrics: HttpMetrics::register(&mut Registry::default()),
        in_flight: crate::InFlight::new(1024, Duration::from_secs(10)),
    })
}

async fn send(request: Request<Body>) -> (Response, String) {
    let response = app().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    (Response::from_parts(parts, Body::empty()), text)
}

/// `text` as the template writes it into HTML.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

fn get(path: &str, language: &str) -> Request<Body> {
    Request::get(path)
        .header(header::ACCEPT_LANGUAGE, language)
        .body(Body::empty())
        .unwrap()
}

fn form(path: &str, body: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "reset.example.com");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test]
async fn every_page_and_asset_carries_the_security_headers() {
    for path in [
        "/forgot",
        "/reset",
        "/reset?token=prt_x",
        "/assets/reset.css",
        "/assets/reset.js",
    ] {
        let (response, _) = send(get(path, "en")).await;
        let headers = response.headers();
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY,
            "{path}"
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store", "{path}");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{path}");
    }
    let (script, body) = send(get("/assets/reset.js", "en")).await;
    assert!(
        script.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(body.contains("history.replaceState"));
    let (style, _) = send(get("/assets/reset.css", "en")).await;
    assert!(
        style.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[test]
fn the_policy_allows_this_origin_only() {
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(CONTENT_SECURITY_POLICY.contains(directive), "{directive}");
    }
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
}

#[tokio::test]
async fn no_page_or_asset_names_another_origin() {
    for path in ["/forgot", "/reset", "/assets/reset.css", "/assets/reset.js"] {
        for language in ["en", "sv", "fi"] {
            let (_, body) = send(get(path, language)).await;
            assert!(
                !body.contains("http://") && !body.contains("https://") && !body.contains("url("),
                "{path}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn the_forgot_page_speaks_the_readers_language() {
    for (accept_language, language) in [
        ("sv-SE,sv;q=0.9,en;q=0.5", Language::Swedish),
        ("fi", Language::Finnish),
        ("en-GB", Language::English),
        ("de-DE", Language::English),
        ("", Language::English),
    ] {
        let (response, html) = send(get("/forgot", accept_language)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            html.contains(&format!(r#"<html lang="{}">"#, language.code())),
            "{accept_language}: {html}"
        );
        let t = language.texts();
        assert!(
            html.contains(&escaped(t.forgot_intro)) && html.contains(&escaped(t.send_link)),
            "{html}"
        );
    }
}

#[tokio::test]
async fn a_reset_page_without_a_token_offers_a_new_link() {
    for path in ["/reset", "/reset?token=", "/reset?token=%20"] {
        let (response, html) = send(get(path, "sv")).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        let t = Language::Swedish.texts();
        assert!(
            html.contains(&escaped(t.token_invalid)) && html.contains(r#"id="forgot-form""#),
            "{html}"
        );
    }
}

#[tokio::test]
async fn a_mismatch_shows_the_form_again_with_the_token_and_the_reason() {
    let (response, html) = send(form(
        "/reset",
        "token=prt_abc&password=one+long+password&confirm_password=another+long+one",
        &[("accept-language", "fi")],
    ))
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        html.contains(&escaped(Language::Finnish.texts().mismatch)),
        "{html}"
    );
    assert!(html.contains(r#"name="token" value="prt_abc""#), "{html}");
    assert!(
        !html.contains("one long password"),
        "a password went back into the page"
    );
}

#[tokio::test]
async fn cross_site_form_posts_are_refused_before_any_flow() {
    let t = Language::English.texts();
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let (response, html) = send(form(
            "/reset",
            "token=prt_abc&password=p&confirm_password=p",
            &[(name, value)],
        ))
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}");
        assert!(html.contains(&escaped(t.cross_site)), "{html}");
        assert!(!html.contains("prt_abc"), "{html}");

        let (response, html) =
            send(form("/forgot", "email=ada%40example.com", &[(name, value)])).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}");
        assert!(
            html.contains(&escaped(t.cross_site)) && html.contains(r#"id="forgot-form""#),
            "{html}"
        );
    }
}

#[tokio::test]
async fn same_origin_posts_reach_the_flow_even_with_a_null_origin() {
    // The upstreams are down, so reaching the flow means "unavailable", not "refused".
    for headers in [
        &[("sec-fetch-site", "same-origin"), ("origin", "null")][..],
        &[("origin", "null")][..],
        &[("origin", "https://reset.example.com")][..],
        &[][..],
    ] {
        let (response, html) = send(form("/forgot", "email=ada%40example.com", headers)).await;
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{headers:?}: {html}"
        );
        assert!(
            html.contains(&escaped(Language::English.texts().unavailable)),
            "{html}"
        );
    }
}

#[tokio::test]
async fn a_forgot_form_without_an_email_field_asks_again() {
    let (response, html) = send(form("/forgot", "mail=x", &[("accept-language", "sv")])).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        html.contains(&escaped(Language::Swedish.texts().invalid_email))
            && html.contains(r#"aria-describedby="email-error""#),
        "{html}"
    );
}
