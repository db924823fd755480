//! `spawn_app()`: a whole passreset on loopback for one test, with typed helpers to drive it.

use std::time::Duration;

use clap::Parser as _;
use passreset_grpc_security::{ClientSecret, ClientTls, Outgoing};
use passreset_proto::token::v1::{
    UpsertAccountRequest, VerifyPasswordRequest, account_directory_client::AccountDirectoryClient,
};
use passreset_testkit::{ReceivedMail, SmtpSink, TestRedis, test_redis};
use reqwest::{Response, StatusCode, header::CONTENT_TYPE};
use tokio::{sync::watch, task::JoinSet};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

/// Where the test gateway's reset links point; a forged Host header must never change it.
pub const RESET_URL: &str = "https://reset.example.test/reset?token={token}";

/// What persona's generated client sends as the content type.
pub const PERSONA_CONTENT_TYPE: &str = "application/json;charset=utf-8";

/// A running passreset and the real parts behind it.
pub struct TestApp {
    /// The gateway's base URL, e.g. `http://127.0.0.1:41234`.
    pub base_url: String,
    /// The gateway's `/metrics` URL.
    pub gateway_metrics_url: String,
    /// The token service's `/metrics` URL.
    pub token_metrics_url: String,
    /// The mail service's `/metrics` URL.
    pub mail_metrics_url: String,
    /// The token service's gRPC URL.
    pub token_url: String,
    /// The mail service's gRPC URL.
    pub mail_url: String,
    pub http: reqwest::Client,
    pub smtp: SmtpSink,
    pub redis: TestRedis,
    /// The admin client, sending [`Secrets::admin`] when the services know callers.
    pub directory: AccountDirectoryClient<InterceptedService<Channel, Outgoing>>,
    /// The callers' secrets, when the services were started knowing callers.
    pub secrets: Option<Secrets>,
    /// The secret of the gateway's one API key (named `tests`), for the Metal surface.
    pub api_key: String,
    stop: watch::Sender<()>,
    services: JoinSet<()>,
}

/// Starts token-service, mail-service and gateway, each on its own free port.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// As [`spawn_app`], with extra token-service flags (e.g. other rate limits).
pub async fn spawn_app_with(token_flags: &[&str]) -> TestApp {
    spawn_app_on(test_redis().await, token_flags).await
}

/// As [`spawn_app_with`], on the given Redis.
pub async fn spawn_app_on(redis: TestRedis, token_flags: &[&str]) -> TestApp {
    spawn_app_configured(redis, token_flags, &[]).await
}

/// As [`spawn_app_configured`], with extra token-service and gateway flags.
pub async fn spawn_app_configured(
    redis: TestRedis,
    token_flags: &[&str],
    gateway_flags: &[&str],
) -> TestApp {
    spawn_app_flagged(redis, token_flags, &[], gateway_flags, None).await
}

/// Fresh bearer secrets for every caller of a secured passreset.
#[derive(Clone, Debug)]
pub struct Secrets {
    /// The gateway's, at the token service (`reset`).
    pub gateway_to_tokens: String,
    /// The gateway's, at the mail service (`send`).
    pub gateway_to_mail: String,
    /// The mail service's, at the token service (`revoke`).
    pub mail_to_tokens: String,
    /// The test's own admin client's, at the token service (`accounts+verify`).
    pub admin: String,
}

impl Secrets {
    pub fn fresh() -> Self {
        let fresh = |who: &str| format!("{who}-{}", uuid::Uuid::new_v4().simple());
        Self {
            gateway_to_tokens: fresh("gateway-tokens"),
            gateway_to_mail: fresh("gateway-mail"),
            mail_to_tokens: fresh("mail-tokens"),
            admin: fresh("admin"),
        }
    }

    /// `TOKEN_GRPC_CALLERS`.
    pub fn token_callers(&self) -> String {
        format!(
            "gateway:reset={},mail-service:revoke={},admin:accounts+verify={}",
            self.gateway_to_tokens, self.mail_to_tokens, self.admin
        )
    }

    /// `MAIL_GRPC_CALLERS`.
    pub fn mail_callers(&self) -> String {
        format!("gateway:send={}", self.gateway_to_mail)
    }
}

/// A passreset whose gRPC services know their callers, each wired with its secret.
pub async fn spawn_app_secured() -> TestApp {
    spawn_app_secured_on(test_redis().await).await
}

/// As [`spawn_app_secured`], on the given Redis.
pub async fn spawn_app_secured_on(redis: TestRedis) -> TestApp {
    let secrets = Secrets::fresh();
    let (token_callers, mail_callers) = (secrets.token_callers(), secrets.mail_callers());
    spawn_app_flagged(
        redis,
        &["--grpc-callers", &token_callers],
        &[
            "--grpc-callers",
            &mail_callers,
            "--token-service-secret",
            &secrets.mail_to_tokens,
        ],
        &[
            "--token-service-secret",
            &secrets.gateway_to_tokens,
            "--mail-service-secret",
            &secrets.gateway_to_mail,
        ],
        Some(secrets.clone()),
    )
    .await
}

/// The given Redis, extra flags for each service, and the secrets the flags wire (the admin
/// client sends `secrets.admin`).
pub async fn spawn_app_flagged(
    redis: TestRedis,
    token_flags: &[&str],
    mail_flags: &[&str],
    gateway_flags: &[&str],
    secrets: Option<Secrets>,
) -> TestApp {
    spawn_app_wired(redis, token_flags, mail_flags, gateway_flags, secrets, None).await
}

/// The most general start: as [`spawn_app_flagged`], and with `tls` the gRPC services are
/// reached at `https://` URLs (the flags set up their TLS), the admin client over `tls`.
pub async fn spawn_app_wired(
    redis: TestRedis,
    token_flags: &[&str],
    mail_flags: &[&str],
    gateway_flags: &[&str],
    secrets: Option<Secrets>,
    tls: Option<&ClientTls>,
) -> TestApp {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let smtp = SmtpSink::start().await;
    let (stop, stopped) = watch::channel(());
    let until_stopped = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.changed().await;
        }
    };
    let mut services = JoinSet::new();
    let cluster = if redis.cluster { "true" } else { "false" };

    let tokens = token_service::Application::build(
        token_service::Config::try_parse_from(
            [
                "token-service",
                "--redis-url",
                &redis.url,
                "--redis-cluster",
                cluster,
                "--redis-key-prefix",
                &redis.prefix,
                "--grpc-addr",
                "127.0.0.1:0",
                "--metrics-addr",
                "127.0.0.1:0",
            ]
            .into_iter()
            .chain(token_flags.iter().copied()),
        )
        .expect("token-service config"),
    )
    .await
    .expect("token-service starts");
    let token_addr = tokens.local_addr();
    let token_url = format!("{scheme}://{token_addr}");
    let token_metrics_url = format!("http://{}/metrics", tokens.metrics_addr());
    let stopped_tokens = until_stopped();
    services.spawn(async move {
        tokens
            .run_until_stopped(stopped_tokens)
            .await
            .expect("token-service runs");
    });

    let mail = mail_service::Application::build(
        mail_service::Config::try_parse_from(
            [
                "mail-service",
                "--redis-url",
                &redis.url,
                "--redis-cluster",
                cluster,
                "--redis-key-prefix",
                &redis.prefix,
                "--grpc-addr",
                "127.0.0.1:0",
                "--metrics-addr",
                "127.0.0.1:0",
                "--transport",
                &smtp.url(),
                "--token-service-url",
                &token_url,
                // One worker keeps delivery in queue order, so "no mail for X" can be asserted
                // once a later mail has arrived.
                "--workers",
                "1",
            ]
            .into_iter()
            .chain(mail_flags.iter().copied()),
        )
        .expect("mail-service config"),
    )
    .await
    .expect("mail-service starts");
    let mail_addr = mail.local_addr();
    let mail_metrics_url = format!("http://{}/metrics", mail.metrics_addr());
    let stopped_mail = until_stopped();
    services.spawn(async move {
        mail.run_until_stopped(stopped_mail)
            .await
            .expect("mail-service runs");
    });

    let api_key = format!("tests-key-{}", uuid::Uuid::new_v4().simple());
    let api_keys = format!("tests={api_key}");
    let mail_url = format!("{scheme}://{mail_addr}");
    let gateway = gateway::Application::build(
        gateway::Config::try_parse_from(
            [
                "gateway",
                "--http-addr",
                "127.0.0.1:0",
                "--metrics-addr",
                "127.0.0.1:0",
                "--token-service-url",
                &token_url,
                "--mail-service-url",
                &mail_url,
                "--reset-url",
                RESET_URL,
                "--api-keys",
                &api_keys,
            ]
            .into_iter()
            .chain(gateway_flags.iter().copied()),
        )
        .expect("gateway config"),
    )
    .await
    .expect("gateway starts");
    let base_url = format!("http://{}", gateway.local_addr());
    let gateway_metrics_url = format!("http://{}/metrics", gateway.metrics_addr());
    let stopped_gateway = until_stopped();
    services.spawn(async move {
        gateway
            .run_until_stopped(stopped_gateway)
            .await
            .expect("gateway runs");
    });

    let admin = secrets.as_ref().map(|secrets| {
        ClientSecret::parse(&secrets.admin).expect("the admin secret is well formed")
    });
    let channel = match tls {
        Some(tls) => tls
            .connect_lazy(&token_url, |endpoint| endpoint)
            .expect("a gRPC URL"),
        None => Channel::from_shared(token_url.clone())
            .expect("a gRPC URL")
            .connect()
            .await
            .expect("account directory answers"),
    };
    let directory = AccountDirectoryClient::with_interceptor(channel, Outgoing::new(admin, Ok));
    TestApp {
        base_url,
        gateway_metrics_url,
        token_metrics_url,
        mail_metrics_url,
        token_url,
        mail_url,
        http: reqwest::Client::new(),
        smtp,
        redis,
        directory,
        secrets,
        api_key,
        stop,
        services,
    }
}

impl TestApp {
    /// Creates an account through the admin gRPC API.
    pub async fn create_account(&self, email: &str, password: &str) {
        self.directory
            .clone()
            .upsert_account(UpsertAccountRequest {
                email: email.to_owned(),
                password: password.to_owned(),
                locale: String::new(),
            })
            .await
            .expect("account created");
    }

    /// Whether the directory accepts this password for this address.
    pub async fn password_verifies(&self, email: &str, password: &str) -> bool {
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

    /// POSTs a body with the given content type to a gateway path.
    pub async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.http
            .post(format!("{}{path}", self.base_url))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("gateway answers")
    }

    /// persona `POST /v1/account/password/forgot`.
    pub async fn forgot(&self, email: &str) -> Response {
        let body = serde_json::json!({ "email": email }).to_string();
        self.post("/v1/account/password/forgot", PERSONA_CONTENT_TYPE, body)
            .await
    }

    /// persona `POST /v1/account/password/check-token` with the token as a JSON string.
    pub async fn check_token(&self, token: &str) -> Response {
        let body = serde_json::Value::from(token).to_string();
        self.post(
            "/v1/account/password/check-token",
            PERSONA_CONTENT_TYPE,
            body,
        )
        .await
    }

    /// persona `POST /v1/account/password/reset`.
    pub async fn reset(&self, token: &str, password: &str, confirmation: &str) -> Response {
        let body = serde_json::json!({
            "token": token,
            "password": password,
            "confirmPassword": confirmation,
        })
        .to_string();
        self.post("/v1/account/password/reset", PERSONA_CONTENT_TYPE, body)
            .await
    }

    /// Metal `POST /metal/v1/reset-password?email=` with the stack's API key.
    pub async fn metal_request(&self, email: &str) -> Response {
        self.http
            .post(format!("{}/metal/v1/reset-password", self.base_url))
            .query(&[("email", email)])
            .header("X-Auth-Token", &self.api_key)
            .send()
            .await
            .expect("gateway answers")
    }

    /// Metal `DELETE /metal/v1/reset-password` with the reset token in `X-Auth-Token`.
    pub async fn metal_reset(&self, token: &str) -> Response {
        self.http
            .delete(format!("{}/metal/v1/reset-password", self.base_url))
            .header("X-Auth-Token", token)
            .send()
            .await
            .expect("gateway answers")
    }

    /// The whole Metal flow for `email`, whose mail is the `mail`-th: the request, the token
    /// from its mail, the reset; returns the generated password.
    pub async fn metal_generated_password(&self, email: &str, mail: usize) -> String {
        let created = self.metal_request(email).await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let token = token_in(&self.mail_number(mail).await);
        let reset = self.metal_reset(&token).await;
        assert_eq!(reset.status(), StatusCode::CREATED);
        let body = json_of(reset).await;
        body["new_password"]
            .as_str()
            .expect("a new_password")
            .to_owned()
    }

    /// Waits for the `count`-th mail and returns it.
    pub async fn mail_number(&self, count: usize) -> ReceivedMail {
        let mails = self
            .smtp
            .wait_for_messages(count, Duration::from_secs(20))
            .await;
        mails[count - 1].clone()
    }

    /// Stops the services and waits for them to finish.
    pub async fn stop(mut self) {
        let _ = self.stop.send(());
        while let Some(finished) = self.services.join_next().await {
            finished.expect("a service stopped cleanly");
        }
    }
}

/// The token in a reset mail's link.
pub fn token_in(mail: &ReceivedMail) -> String {
    let text = mail.text_body();
    let prefix = RESET_URL.trim_end_matches("{token}");
    let start = text
        .find(prefix)
        .expect("the mail holds the configured reset link")
        + prefix.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// A response's JSON body.
pub async fn json_of(response: Response) -> serde_json::Value {
    response.json().await.expect("a JSON body")
}
