//! Metric labels come from fixed sets: a client sending made-up methods and paths, over REST or
//! gRPC, must not add series to `/metrics` (each new series is memory kept until restart).

use tonic::codegen::http::uri::PathAndQuery;

use crate::helpers::{TestApp, spawn_app};

/// How many made-up methods and paths each test sends.
const JUNK: usize = 5_000;

/// The number of series on a `/metrics` page: its sample lines.
async fn series(app: &TestApp, url: &str) -> usize {
    let page = app
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    page.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .count()
}

/// `FOO<n> /nope/<n>` at the gateway.
async fn junk_http(app: &TestApp, n: usize) {
    let method = reqwest::Method::from_bytes(format!("FOO{n}").as_bytes()).unwrap();
    let response = app
        .http
        .request(method, format!("{}/nope/{n}", app.base_url))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
}

/// A call to `/x<n>.Service/Method<n>`, which no server declares.
async fn junk_grpc(grpc: &mut tonic::client::Grpc<tonic::transport::Channel>, n: usize) {
    grpc.ready().await.unwrap();
    let path = PathAndQuery::try_from(format!("/x{n}.Service/Method{n}")).unwrap();
    let answer = grpc
        .unary(
            tonic::Request::new(()),
            path,
            tonic_prost::ProstCodec::<(), ()>::default(),
        )
        .await;
    let status = answer.expect_err("no such method");
    assert_eq!(status.code(), tonic::Code::Unimplemented, "{status:?}");
}

#[tokio::test]
async fn made_up_http_methods_and_paths_add_no_gateway_series() {
    let app = spawn_app().await;
    // One of each first, so `other` / `unmatched` already have their series.
    junk_http(&app, 0).await;
    let before = series(&app, &app.gateway_metrics_url).await;
    for n in 1..=JUNK {
        junk_http(&app, n).await;
    }
    let after = series(&app, &app.gateway_metrics_url).await;
    assert_eq!(after, before, "{JUNK} made-up requests added series");
    app.stop().await;
}

#[tokio::test]
async fn made_up_grpc_methods_add_no_series_on_either_server() {
    let app = spawn_app().await;
    for (url, metrics_url) in [
        (&app.token_url, &app.token_metrics_url),
        (&app.mail_url, &app.mail_metrics_url),
    ] {
        let channel = tonic::transport::Endpoint::from_shared(url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut grpc = tonic::client::Grpc::new(channel);
        junk_grpc(&mut grpc, 0).await;
        let before = series(&app, metrics_url).await;
        for n in 1..=JUNK {
            junk_grpc(&mut grpc, n).await;
        }
        let after = series(&app, metrics_url).await;
        assert_eq!(after, before, "{url}: {JUNK} made-up calls added series");
    }
    app.stop().await;
}
