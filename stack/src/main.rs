//! `cargo run -p stack`: token-service, mail-service and gateway in one process, talking real
//! gRPC over loopback, for a laptop or a demo.
//!
//! - `main.rs`: start the three services, create the demo account, print the banner, stop all
//!   three on Ctrl-C;
//! - `storage.rs`: which Redis to use (`REDIS_URL`, else a private `redis-server`, else memory);
//! - `banner.rs`: what to tell the person who just ran it;
//! - `secrets.rs`: fresh gRPC caller secrets at every start, wired into the three parts.

mod banner;
mod secrets;
mod storage;

use std::{net::SocketAddr, task::Poll};

use anyhow::Context as _;
use clap::Parser as _;
use passreset_proto::token::v1::{
    UpsertAccountRequest, account_directory_client::AccountDirectoryClient,
};
use tokio::sync::watch;

use crate::{banner::Banner, secrets::Secrets, storage::Storage};

const DEMO_EMAIL: &str = "demo@example.com";

/// The stack's own settings; each service also reads its usual variables (`TOKEN_TTL`, ...).
#[derive(Debug, clap::Parser)]
#[command(
    name = "stack",
    version,
    about = "passreset: all three services in one process"
)]
struct Args {
    /// Redis to use; when unset or not answering, a private redis-server, else memory.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    redis_url: Option<passreset_redis::RedisUrl>,
    /// Where the REST APIs listen.
    #[arg(long, env = "GATEWAY_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    http_addr: SocketAddr,
    /// Where the token service's gRPC listens.
    #[arg(long, env = "TOKEN_GRPC_ADDR", default_value = "127.0.0.1:50051")]
    token_grpc_addr: SocketAddr,
    /// Where the mail service's gRPC listens.
    #[arg(long, env = "MAIL_GRPC_ADDR", default_value = "127.0.0.1:50052")]
    mail_grpc_addr: SocketAddr,
    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = passreset_telemetry::LogFormat::Text)]
    log_format: passreset_telemetry::LogFormat,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _telemetry = passreset_telemetry::init("passreset-stack", args.log_format)?;
    // Listening for Ctrl-C and SIGTERM before anything is started: a signal that came before
    // the handlers would kill the process outright, leaving a private redis-server running
    // (and holding the stack's stderr open). Polled once here so the handlers are installed.
    let mut shutdown = std::pin::pin!(passreset_service_runtime::shutdown_signal());
    let signalled =
        std::future::poll_fn(|context| Poll::Ready(shutdown.as_mut().poll(context).is_ready()))
            .await;
    let mut token_config = token_service::Config::try_parse_from(["token-service"])
        .context("token-service settings")?;
    // REDIS_CLUSTER, REDIS_TLS_* and REDIS_PASSWORD_FILE as the services read them.
    let storage = Storage::choose(args.redis_url, &token_config.redis).await?;
    let secrets = Secrets::fresh()?;
    let (stop, stopped) = watch::channel(());
    let until_stopped = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.changed().await;
        }
    };

    token_config.grpc_addr = args.token_grpc_addr;
    secrets.wire_token_service(&mut token_config)?;
    if std::env::var_os("TOKEN_METRICS_ADDR").is_none() {
        token_config.metrics_addr = SocketAddr::from(([127, 0, 0, 1], 0));
    }
    if let Some(redis) = storage.redis() {
        token_config.redis = redis.clone();
    }
    let tokens = match storage.redis() {
        Some(_) => token_service::Application::build(token_config).await,
        None => {
            token_service::Application::build_with_stores(
                token_config,
                token_service::Stores::in_memory(),
            )
            .await
        }
    }
    .context("starting token-service")?;
    let token_addr = tokens.local_addr();

    let mut mail_config =
        mail_service::Config::try_parse_from(["mail-service"]).context("mail-service settings")?;
    mail_config.grpc_addr = args.mail_grpc_addr;
    secrets.wire_mail_service(&mut mail_config)?;
    mail_config.token_service_url = format!("http://{token_addr}");
    if std::env::var_os("MAIL_METRICS_ADDR").is_none() {
        mail_config.metrics_addr = SocketAddr::from(([127, 0, 0, 1], 0));
    }
    if let Some(redis) = storage.redis() {
        mail_config.redis = redis.clone();
    }
    let mail = match storage.redis() {
        Some(_) => mail_service::Application::build(mail_config).await,
        None => {
            mail_service::Application::build_with_queue(
                mail_config,
                mail_service::Queue::in_memory(),
            )
            .await
        }
    }
    .context("starting mail-service")?;
    let mail_addr = mail.local_addr();

    let mut gateway_config =
        gateway::Config::try_parse_from(["gateway"]).context("gateway settings")?;
    gateway_config.http_addr = args.http_addr;
    secrets.wire_gateway(&mut gateway_config)?;
    if std::env::var_os("GATEWAY_METRICS_ADDR").is_none() {
        gateway_config.metrics_addr = SocketAddr::from(([127, 0, 0, 1], 0));
    }
    gateway_config.token_service_url = format!("http://{token_addr}");
    gateway_config.mail_service_url = format!("http://{mail_addr}");
    if std::env::var_os("GATEWAY_RESET_URL").is_none() {
        gateway_config.reset_url = gateway::ResetUrl::parse(&format!(
            "http://localhost:{}/reset?token={{token}}",
            args.http_addr.port()
        ))
        .map_err(anyhow::Error::msg)?;
    }
    // Without keys of its own, the Metal surface gets a demo key so it can be tried too.
    let demo_api_key = if std::env::var_os("GATEWAY_API_KEYS").is_none() {
        let key = random_password()?;
        gateway_config.api_keys = format!("demo={key}").parse().map_err(anyhow::Error::msg)?;
        Some(key)
    } else {
        None
    };
    let gateway = gateway::Application::build(gateway_config)
        .await
        .context("starting gateway")?;
    let http_addr = gateway.local_addr();

    let mut services = tokio::task::JoinSet::new();
    let stopped = until_stopped();
    services.spawn(async move {
        tokens
            .run_until_stopped(stopped)
            .await
            .map_err(anyhow::Error::from)
    });
    let stopped = until_stopped();
    services.spawn(async move {
        mail.run_until_stopped(stopped)
            .await
            .map_err(anyhow::Error::from)
    });
    let stopped = until_stopped();
    services.spawn(async move {
        gateway
            .run_until_stopped(stopped)
            .await
            .map_err(anyhow::Error::from)
    });

    let demo_password = create_demo_account(token_addr, &secrets).await?;
    Banner {
        http_addr,
        token_addr,
        mail_addr,
        storage: &storage,
        demo_email: DEMO_EMAIL,
        demo_password: &demo_password,
        demo_api_key: demo_api_key.as_deref(),
    }
    .print();

    if !signalled {
        tokio::select! {
            () = &mut shutdown => {}
            Some(finished) = services.join_next() => {
                finished.context("a service panicked")?.context("a service stopped")?;
            }
        }
    }
    let _ = stop.send(());
    while let Some(finished) = services.join_next().await {
        finished.context("a service panicked")??;
    }
    drop(storage);
    Ok(())
}

/// Creates (or resets) the demo account through the real gRPC admin API, with a fresh password.
async fn create_demo_account(token_addr: SocketAddr, secrets: &Secrets) -> anyhow::Result<String> {
    let password = random_password()?;
    let mut directory = AccountDirectoryClient::connect(format!("http://{token_addr}"))
        .await
        .context("connecting to the account directory")?;
    let mut request = tonic::Request::new(UpsertAccountRequest {
        email: DEMO_EMAIL.to_owned(),
        password: password.clone(),
        locale: "en".to_owned(),
    });
    request.metadata_mut().insert(
        "authorization",
        secrets
            .stack_bearer()
            .parse()
            .context("the stack's generated secret")?,
    );
    directory
        .upsert_account(request)
        .await
        .context("creating the demo account")?;
    Ok(password)
}

/// 16 random bytes as base64url: 22 characters, plenty for a demo.
fn random_password() -> anyhow::Result<String> {
    use base64::Engine as _;
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("os random source: {error}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
