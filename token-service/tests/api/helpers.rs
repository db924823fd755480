//! `spawn_app()`: one token service per test, with typed helpers to drive it.

use std::time::Duration;

use passreset_proto::token::v1::{
    Account, CheckTokenRequest, CheckTokenResponse, IssueTokenRequest, IssueTokenResponse,
    RedeemRequest, RedeemResponse, RequestContext, UpsertAccountRequest, VerifyPasswordRequest,
    account_directory_client::AccountDirectoryClient, issue_token_response::Outcome,
    redeem_request::Password, token_service_client::TokenServiceClient,
};
use passreset_testkit::{TestRedis, test_redis};
use token_service::{Application, Config, Stores};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::{Code, Status, transport::Channel};
use tonic_types::StatusExt as _;

/// A running token service and the Redis behind it.
pub struct TestApp {
    /// A connection to the server, for clients the helpers do not wrap.
    pub channel: Channel,
    pub redis: TestRedis,
    pub tokens: TokenServiceClient<Channel>,
    pub directory: AccountDirectoryClient<Channel>,
    /// Where the service's `/metrics` answers.
    pub metrics_addr: std::net::SocketAddr,
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

/// A token service on Redis with the default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A token service on Redis, with settings adjusted by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let redis = test_redis().await;
    let mut config = Config::default_for(&redis.url);
    config.redis_key_prefix = redis.prefix.clone();
    config.grpc_addr = "127.0.0.1:0".parse().unwrap();
    configure(&mut config);
    let application = Application::build(config)
        .await
        .expect("token-service starts");
    start(application, redis).await
}

/// A token service on the in-memory stores (the `stack` fallback).
pub async fn spawn_app_in_memory() -> TestApp {
    spawn_app_in_memory_with(|_| {}).await
}

/// A token service on the in-memory stores, with settings adjusted by `configure`.
pub async fn spawn_app_in_memory_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let redis = test_redis().await;
    let mut config = Config::default_for("redis://unused.invalid");
    config.grpc_addr = "127.0.0.1:0".parse().unwrap();
    configure(&mut config);
    let application = Application::build_with_stores(config, Stores::in_memory())
        .await
        .expect("token-service starts");
    start(application, redis).await
}

async fn start(application: Application, redis: TestRedis) -> TestApp {
    let addr = application.local_addr();
    let metrics_addr = application.metrics_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        application
            .run_until_stopped(async {
                let _ = stopped.await;
            })
            .await
            .expect("token-service runs");
    });
    let url = format!("http://{addr}");
    let channel = Channel::from_shared(url)
        .unwrap()
        .connect()
        .await
        .expect("token-service answers");
    TestApp {
        redis,
        tokens: TokenServiceClient::new(channel.clone()),
        directory: AccountDirectoryClient::new(channel.clone()),
        channel,
        metrics_addr,
        stop,
        server,
    }
}

/// What the gateway would send along.
pub fn context() -> Option<RequestContext> {
    context_from("203.0.113.7", "persona")
}

/// What an edge would send along for a user at `client_ip` on `surface`.
pub fn context_from(client_ip: &str, surface: &str) -> Option<RequestContext> {
    Some(RequestContext {
        client_ip: client_ip.to_owned(),
        surface: surface.to_owned(),
        api_key_name: String::new(),
    })
}

impl TestApp {
    pub async fn create_account(&self, email: &str, password: &str) -> Account {
        self.directory
            .clone()
            .upsert_account(UpsertAccountRequest {
                email: email.to_owned(),
                password: password.to_owned(),
                locale: "sv".to_owned(),
            })
            .await
            .expect("account created")
            .into_inner()
    }

    pub async fn issue(&self, email: &str) -> Result<IssueTokenResponse, Status> {
        self.tokens
            .clone()
            .issue_token(IssueTokenRequest {
                email: email.to_owned(),
                context: context(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Issues a token for an address that has an account, and returns it.
    pub async fn token_for(&self, email: &str) -> String {
        match self.issue(email).await.expect("issued").outcome {
            Some(Outcome::Issued(issued)) => issued.token,
            other => panic!("no token issued: {other:?}"),
        }
    }

    pub async fn check(&self, token: &str) -> Result<CheckTokenResponse, Status> {
        self.tokens
            .clone()
            .check_token(CheckTokenRequest {
                token: token.to_owned(),
                context: context(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn redeem(&self, token: &str, password: &str) -> Result<RedeemResponse, Status> {
        self.redeem_with(token, Some(Password::NewPassword(password.to_owned())))
            .await
    }

    pub async fn redeem_with(
        &self,
        token: &str,
        password: Option<Password>,
    ) -> Result<RedeemResponse, Status> {
        self.tokens
            .clone()
            .redeem(RedeemRequest {
                token: token.to_owned(),
                password,
                context: context(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn verifies(&self, email: &str, password: &str) -> bool {
        self.directory
            .clone()
            .verify_password(VerifyPasswordRequest {
                email: email.to_owned(),
                password: password.to_owned(),
                // A login service that gives no client IP: only the address is limited.
                context: None,
            })
            .await
            .expect("verify answers")
            .into_inner()
            .valid
    }

    /// The value of the metric `name` (a sample without labels) on `/metrics` now.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut stream = tokio::net::TcpStream::connect(self.metrics_addr)
            .await
            .expect("metrics endpoint answers");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n")
            .await
            .expect("metrics request is sent");
        let mut body = String::new();
        stream
            .read_to_string(&mut body)
            .await
            .expect("metrics are text");
        body.lines().find_map(|line| {
            let (sample, value) = line.split_once(' ')?;
            (sample == name)
                .then(|| value.trim().parse().ok())
                .flatten()
        })
    }

    /// The entries of this test's `{prefix}events` stream, as field maps, oldest first.
    pub async fn events(&self) -> Vec<std::collections::HashMap<String, String>> {
        let mut connection = self.redis.connection().await;
        let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(format!("{}events", self.redis.prefix))
            .arg("-")
            .arg("+")
            .query_async(&mut connection)
            .await
            .expect("events read");
        entries
            .ids
            .into_iter()
            .map(|entry| {
                entry
                    .map
                    .into_iter()
                    .map(|(field, value)| {
                        let value: String = redis::from_redis_value(value).expect("text field");
                        (field, value)
                    })
                    .collect()
            })
            .collect()
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.expect("server task ends cleanly");
    }
}

/// Asserts `outcome` failed with `code` and the `ErrorInfo` reason `reason`.
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(outcome: Result<T, Status>, code: Code, reason: &str) {
    let status = outcome.expect_err("the call should fail");
    assert_eq!(status.code(), code, "{status:?}");
    let info = status
        .get_details_error_info()
        .expect("an ErrorInfo detail");
    assert_eq!(info.reason, reason);
    assert_eq!(info.domain, passreset_proto::token::v1::ERROR_DOMAIN);
}

/// Asserts `outcome` is a refusal by a rate limit (RESOURCE_EXHAUSTED, `RATE_LIMITED`, a
/// `RetryInfo` of at least a second in whole seconds) and returns its retry delay.
#[track_caller]
pub fn assert_rate_limited<T: std::fmt::Debug>(outcome: &Result<T, Status>) -> Duration {
    let Err(status) = outcome else {
        panic!("allowed where a limit should refuse: {outcome:?}");
    };
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let info = status.get_details_error_info().expect("an ErrorInfo");
    assert_eq!(info.reason, "RATE_LIMITED");
    assert_eq!(info.domain, "passreset.token.v1");
    let delay = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
        .expect("a RetryInfo with a retry delay");
    assert!(delay >= Duration::from_secs(1), "{delay:?}");
    assert_eq!(delay.subsec_nanos(), 0, "whole seconds: {delay:?}");
    delay
}
