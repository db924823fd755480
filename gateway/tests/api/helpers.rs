//! Starts a gateway on a free port against the given upstream URLs.

use std::time::Duration;

use clap::Parser as _;
use tokio::sync::oneshot;

pub struct TestGateway {
    pub base_url: String,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A gateway whose upstreams are `token_url` and `mail_url`, with a short call deadline.
pub async fn spawn_gateway(token_url: &str, mail_url: &str, timeout: Duration) -> TestGateway {
    let timeout = format!("{}ms", timeout.as_millis());
    let config = gateway::Config::try_parse_from([
        "gateway",
        "--http-addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
        "--token-service-url",
        token_url,
        "--mail-service-url",
        mail_url,
        "--upstream-timeout",
        &timeout,
    ])
    .expect("gateway config");
    let application = gateway::Application::build(config)
        .await
        .expect("gateway starts");
    let base_url = format!("http://{}", application.local_addr());
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(application.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestGateway {
        base_url,
        http: reqwest::Client::new(),
        stop: Some(stop),
    }
}

impl TestGateway {
    pub async fn forgot(&self, email: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/account/password/forgot", self.base_url))
            .header("content-type", "application/json;charset=utf-8")
            .body(serde_json::json!({ "email": email }).to_string())
            .send()
            .await
            .expect("gateway answers")
    }
}
