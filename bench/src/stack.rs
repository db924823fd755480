//! The parts under test: a private Redis, a counting SMTP sink, the floors' server, and the
//! services on free loopback ports, configured only by their documented flags: a token service
//! with rate limits off and one with the defaults, a mail service, and three gateways (floor
//! off, floor on, and one in front of the limited token service).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::Context as _;
use passreset_testkit::{RedisProcess, SmtpSink, TestRedis};

use crate::{Options, floors::FloorServer};

/// Where reset links point (never followed).
const RESET_URL: &str = "https://reset.bench.test/reset?token={token}";

/// Everything a scenario may drive.
#[derive(Debug)]
pub struct Stack {
    /// The main services' Redis and key prefix.
    pub redis: TestRedis,
    /// Where all mail goes; it counts and forgets.
    pub sink: SmtpSink,
    /// Rate limits off.
    pub tokens: Service,
    /// Rate limits as by default, under its own prefix.
    pub tokens_limited: Service,
    /// Sends to [`Self::sink`], no queue limit (forgot rounds leave a backlog).
    pub mail: Service,
    /// In front of [`Self::tokens`], response-time floor off.
    pub gateway: Service,
    /// In front of [`Self::tokens`], response-time floor as by default (100 ms).
    pub gateway_floor: Service,
    /// In front of [`Self::tokens_limited`], floor off.
    pub gateway_limited: Service,
    /// The bare axum handlers.
    pub floors: FloorServer,
    _redis_process: RedisProcess,
}

impl Stack {
    /// Starts it all; the services as the workspace's binaries unless `--in-process`.
    pub async fn start(options: &Options) -> anyhow::Result<Self> {
        let binaries = if options.in_process {
            None
        } else {
            Some(binary_dir()?)
        };
        let launch = |kind, args: Vec<String>| {
            let binaries = binaries.clone();
            async move { Service::start(kind, args, binaries.as_deref()).await }
        };
        let redis_process = RedisProcess::start().await;
        let redis = redis_process.test_redis();
        let limited_redis = redis_process.test_redis();
        let sink = SmtpSink::start_counting().await;

        let tokens = launch(Kind::Tokens, token_args(&redis, true)).await?;
        let tokens_limited = launch(Kind::Tokens, token_args(&limited_redis, false)).await?;
        let mail = launch(Kind::Mail, mail_args(&redis, &sink, tokens.addr)).await?;
        let gateway = launch(Kind::Gateway, gateway_args(tokens.addr, mail.addr, "0s")).await?;
        let gateway_floor =
            launch(Kind::Gateway, gateway_args(tokens.addr, mail.addr, "100ms")).await?;
        let gateway_limited = launch(
            Kind::Gateway,
            gateway_args(tokens_limited.addr, mail.addr, "0s"),
        )
        .await?;
        let floors = FloorServer::start(&redis.url, &redis.prefix).await?;
        Ok(Self {
            redis,
            sink,
            tokens,
            tokens_limited,
            mail,
            gateway,
            gateway_floor,
            gateway_limited,
            floors,
            _redis_process: redis_process,
        })
    }

    /// The services whose memory is reported, with their names.
    pub fn measured_services(&self) -> [(&'static str, &Service); 3] {
        [
            ("gateway", &self.gateway),
            ("token-service", &self.tokens),
            ("mail-service", &self.mail),
        ]
    }
}

fn token_args(redis: &TestRedis, limits_off: bool) -> Vec<String> {
    let mut args = common_args(redis);
    args.extend(["--grpc-addr".into(), free_addr().to_string()]);
    if limits_off {
        for limit in [
            "--limit-per-address",
            "--limit-per-ip",
            "--limit-failures-per-ip",
        ] {
            args.extend([limit.into(), "off".into()]);
        }
    }
    args
}

fn mail_args(redis: &TestRedis, sink: &SmtpSink, tokens: SocketAddr) -> Vec<String> {
    let mut args = common_args(redis);
    args.extend([
        "--grpc-addr".into(),
        free_addr().to_string(),
        "--transport".into(),
        sink.url(),
        "--token-service-url".into(),
        format!("http://{tokens}"),
        "--queue-max".into(),
        "0".into(),
    ]);
    args
}

fn gateway_args(tokens: SocketAddr, mail: SocketAddr, floor: &str) -> Vec<String> {
    vec![
        "--http-addr".into(),
        free_addr().to_string(),
        "--metrics-addr".into(),
        free_addr().to_string(),
        "--token-service-url".into(),
        format!("http://{tokens}"),
        "--mail-service-url".into(),
        format!("http://{mail}"),
        "--reset-url".into(),
        RESET_URL.into(),
        "--forgot-min-duration".into(),
        floor.into(),
    ]
}

fn common_args(redis: &TestRedis) -> Vec<String> {
    vec![
        "--redis-url".into(),
        redis.url.clone(),
        "--redis-key-prefix".into(),
        redis.prefix.clone(),
        "--metrics-addr".into(),
        free_addr().to_string(),
    ]
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// Which service a [`Service`] runs.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Tokens,
    Mail,
    Gateway,
}

impl Kind {
    fn binary(self) -> &'static str {
        match self {
            Self::Tokens => "token-service",
            Self::Mail => "mail-service",
            Self::Gateway => "gateway",
        }
    }
}

/// One running service: a child process, or a task of this process.
#[derive(Debug)]
pub struct Service {
    /// Its gRPC or HTTP address.
    pub addr: SocketAddr,
    running: Running,
}

#[derive(Debug)]
enum Running {
    Process(tokio::process::Child),
    Task(tokio::task::JoinHandle<()>),
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Running::Task(task) = &self.running {
            task.abort();
        }
    }
}

impl Service {
    async fn start(kind: Kind, args: Vec<String>, binaries: Option<&Path>) -> anyhow::Result<Self> {
        let addr_flag = match kind {
            Kind::Gateway => "--http-addr",
            Kind::Tokens | Kind::Mail => "--grpc-addr",
        };
        let addr: SocketAddr = args
            .iter()
            .skip_while(|arg| *arg != addr_flag)
            .nth(1)
            .context("the service's address flag")?
            .parse()?;
        let running = match binaries {
            Some(dir) => Running::Process(
                tokio::process::Command::new(dir.join(kind.binary()))
                    .args(&args)
                    .env_remove("RUST_LOG")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .kill_on_drop(true)
                    .spawn()
                    .with_context(|| format!("starting {}", kind.binary()))?,
            ),
            None => Running::Task(crate::stack::in_process(kind, args).await?),
        };
        let service = Self { addr, running };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(service);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("{} did not listen on {addr} within 10 s", kind.binary())
    }

    /// The process id, when it runs as its own process.
    pub fn pid(&self) -> Option<u32> {
        match &self.running {
            Running::Process(child) => child.id(),
            Running::Task(_) => None,
        }
    }
}

/// Runs a service's library entry point as its binary does, on this process's runtime.
async fn in_process(kind: Kind, args: Vec<String>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use clap::Parser as _;
    let argv = std::iter::once(kind.binary().to_owned()).chain(args);
    let forever = std::future::pending::<()>();
    Ok(match kind {
        Kind::Tokens => {
            let app =
                token_service::Application::build(token_service::Config::try_parse_from(argv)?)
                    .await?;
            tokio::spawn(async move {
                let _ = app.run_until_stopped(forever).await;
            })
        }
        Kind::Mail => {
            let app = mail_service::Application::build(mail_service::Config::try_parse_from(argv)?)
                .await?;
            tokio::spawn(async move {
                let _ = app.run_until_stopped(forever).await;
            })
        }
        Kind::Gateway => {
            let app = gateway::Application::build(gateway::Config::try_parse_from(argv)?).await?;
            tokio::spawn(async move {
                let _ = app.run_until_stopped(forever).await;
            })
        }
    })
}

/// The directory of the workspace's binaries, beside this one (`target/<profile>/`). Under
/// cargo (`cargo run --release -p bench`) they are built first, so a run never measures stale
/// binaries.
fn binary_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent().context("the bench's directory")?.to_owned();
    if dir.ends_with("deps") {
        dir.pop();
    }
    if let Ok(cargo) = std::env::var("CARGO") {
        let mut build = std::process::Command::new(cargo);
        build.args([
            "build",
            "-p",
            "token-service",
            "-p",
            "mail-service",
            "-p",
            "gateway",
        ]);
        if dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().context("running cargo build")?;
        anyhow::ensure!(status.success(), "building the services' binaries failed");
    }
    for kind in [Kind::Tokens, Kind::Mail, Kind::Gateway] {
        let binary = dir.join(kind.binary());
        anyhow::ensure!(
            binary.exists(),
            "{} is not built: cargo build --release -p {}",
            binary.display(),
            kind.binary()
        );
    }
    Ok(dir)
}
