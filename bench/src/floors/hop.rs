//! The bare hop: an axum handler calling a tonic service whose handler does one Redis `GET`,
//! each in a process of its own, as the gateway and the token service are. Not a goal of the
//! issue's: recorded beside check-token, it shows what the extra process and the gRPC call
//! cost by themselves, apart from what passreset does in them.
//!
//! The gRPC service is `grpc.health.v1.Health` (its `Check` carries next to nothing, as a
//! check-token call carries little), answered by a handler that reads one key.

use std::{net::SocketAddr, process::Stdio};

use anyhow::Context as _;
use axum::{Router, extract::State, http::StatusCode, routing::post};
use passreset_redis::RedisConnection;
use tonic::{Request, Response, Status, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, HealthCheckResponse,
    health_check_response::ServingStatus,
    health_client::HealthClient,
    health_server::{Health, HealthServer},
};

use crate::ports::{free_addr, wait_until_listening};

/// The path of the hop's front handler.
pub const HOP_PATH: &str = "/hop";

/// Which half of the hop a `bench serve-floor` process serves.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum HopHalf {
    /// The tonic service doing one Redis GET of `key`.
    HopGrpc {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long)]
        redis_url: String,
        #[arg(long)]
        key: String,
    },
    /// The axum handler calling the tonic service at `upstream`.
    HopHttp {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long)]
        upstream: SocketAddr,
    },
}

impl HopHalf {
    /// Serves this half until the process is killed.
    pub async fn serve(self) -> anyhow::Result<()> {
        match self {
            Self::HopGrpc {
                addr,
                redis_url,
                key,
            } => serve_grpc(addr, &redis_url, key).await,
            Self::HopHttp { addr, upstream } => serve_http(addr, upstream).await,
        }
    }

    fn addr(&self) -> SocketAddr {
        match self {
            Self::HopGrpc { addr, .. } | Self::HopHttp { addr, .. } => *addr,
        }
    }

    fn args(&self) -> Vec<String> {
        match self {
            Self::HopGrpc {
                addr,
                redis_url,
                key,
            } => vec![
                "hop-grpc".into(),
                "--addr".into(),
                addr.to_string(),
                "--redis-url".into(),
                redis_url.clone(),
                "--key".into(),
                key.clone(),
            ],
            Self::HopHttp { addr, upstream } => vec![
                "hop-http".into(),
                "--addr".into(),
                addr.to_string(),
                "--upstream".into(),
                upstream.to_string(),
            ],
        }
    }
}

/// Both halves, running; they stop when dropped.
#[derive(Debug)]
pub struct HopFloor {
    /// Where the front handler listens.
    pub addr: SocketAddr,
    _halves: [Half; 2],
}

#[derive(Debug)]
enum Half {
    Process(#[expect(dead_code, reason = "held to be killed on drop")] tokio::process::Child),
    Task(tokio::task::JoinHandle<()>),
}

impl Drop for Half {
    fn drop(&mut self) {
        if let Self::Task(task) = self {
            task.abort();
        }
    }
}

impl HopFloor {
    /// Starts both halves on free loopback ports: as child processes running `bench` (this
    /// executable) when `as_processes`, else as tasks of this process (the smoke test, whose
    /// executable is the test harness). The key is read from `redis_url`.
    pub async fn start(redis_url: &str, key: &str, as_processes: bool) -> anyhow::Result<Self> {
        let grpc = HopHalf::HopGrpc {
            addr: free_addr(),
            redis_url: redis_url.to_owned(),
            key: key.to_owned(),
        };
        let http = HopHalf::HopHttp {
            addr: free_addr(),
            upstream: grpc.addr(),
        };
        let addr = http.addr();
        let grpc = start_half(grpc, as_processes).await?;
        let http = start_half(http, as_processes).await?;
        Ok(Self {
            addr,
            _halves: [grpc, http],
        })
    }
}

async fn start_half(half: HopHalf, as_process: bool) -> anyhow::Result<Half> {
    let addr = half.addr();
    let running = if as_process {
        Half::Process(
            tokio::process::Command::new(std::env::current_exe()?)
                .arg("serve-floor")
                .args(half.args())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .context("starting a hop floor process")?,
        )
    } else {
        Half::Task(tokio::spawn(async move {
            let _ = half.serve().await;
        }))
    };
    wait_until_listening(addr, "the hop floor").await?;
    Ok(running)
}

struct OneGet {
    connection: RedisConnection,
    key: String,
}

#[tonic::async_trait]
impl Health for OneGet {
    async fn check(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let mut connection = self.connection.clone();
        let value = redis::cmd("GET")
            .arg(&self.key)
            .query_async::<Option<String>>(&mut connection)
            .await
            .map_err(|error| Status::unavailable(error.to_string()))?;
        let status = if value.is_some() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        Ok(Response::new(HealthCheckResponse {
            status: status.into(),
        }))
    }

    type WatchStream = tokio_stream::Empty<Result<HealthCheckResponse, Status>>;

    async fn watch(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("the hop floor answers Check only"))
    }
}

async fn serve_grpc(addr: SocketAddr, redis_url: &str, key: String) -> anyhow::Result<()> {
    let connection = passreset_redis::connect(
        &passreset_redis::RedisSettings::single(redis_url),
        passreset_redis::RESPONSE_TIMEOUT,
    )
    .await?;
    // TCP_NODELAY, as the services set it.
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .add_service(HealthServer::new(OneGet { connection, key }))
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}

async fn serve_http(addr: SocketAddr, upstream: SocketAddr) -> anyhow::Result<()> {
    let channel = Channel::from_shared(format!("http://{upstream}"))?
        .tcp_nodelay(true)
        .connect_lazy();
    let router = Router::new()
        .route(HOP_PATH, post(front))
        .with_state(HealthClient::new(channel));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(
        axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        }),
        router,
    )
    .await?;
    Ok(())
}

async fn front(State(mut client): State<HealthClient<Channel>>, _body: String) -> StatusCode {
    match client.check(HealthCheckRequest::default()).await {
        Ok(answer) if answer.get_ref().status == i32::from(ServingStatus::Serving) => {
            StatusCode::NO_CONTENT
        }
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}
