//! The parts under test: a private Redis, a counting SMTP sink, the floors' server, and the
//! services on free loopback ports, configured only by their documented flags: a token service
//! with rate limits off and one with the defaults, a mail service, and three gateways (floor
//! off, floor on, and one in front of the limited token service).

mod service;

use std::{net::SocketAddr, time::Duration};

use passreset_testkit::{RedisProcess, SmtpSink, TestRedis};

use service::{How, binary_dir};
pub use service::{InProcess, Kind, Service};

use crate::{
    Options,
    floors::{FloorServer, HopFloor},
    ports::free_addr,
};

/// Where reset links point (never followed).
const RESET_URL: &str = "https://reset.bench.test/reset?token={token}";
/// The response-time floor (`GATEWAY_FORGOT_MIN_DURATION`) of the floor-on gateway.
pub const FORGOT_FLOOR: Duration = Duration::from_millis(100);

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
    /// The bare hop: axum -> tonic -> one Redis GET, in two processes.
    pub hop: HopFloor,
    /// How the services run, for scenarios that start more of them.
    how: How,
    _redis_process: RedisProcess,
}

/// A token service with rate limits off, a mail service sending to the stack's sink and a
/// floor-off gateway in front of them: the main services' configuration on another Redis.
#[derive(Debug)]
pub struct Services {
    /// Rate limits off.
    pub tokens: Service,
    /// Sends to the stack's sink, no queue limit.
    pub mail: Service,
    /// In front of [`Self::tokens`], response-time floor off.
    pub gateway: Service,
}

impl Stack {
    /// Starts it all; the services as the workspace's binaries, or by `in_process`.
    pub async fn start(_options: &Options, in_process: Option<InProcess>) -> anyhow::Result<Self> {
        let how = match in_process {
            Some(start) => How::InProcess(start),
            None => How::Binaries(binary_dir()?),
        };
        let launch = |kind, args: Vec<String>| {
            let how = how.clone();
            async move { Service::start(kind, args, &how).await }
        };
        let redis_process = RedisProcess::start().await;
        let redis = redis_process.test_redis();
        let limited_redis = redis_process.test_redis();
        let sink = SmtpSink::start_counting().await;

        let tokens = launch(Kind::Tokens, token_args(&redis, true)).await?;
        let tokens_limited = launch(Kind::Tokens, token_args(&limited_redis, false)).await?;
        let mail = launch(Kind::Mail, mail_args(&redis, &sink, tokens.addr)).await?;
        let gateway = launch(
            Kind::Gateway,
            gateway_args(tokens.addr, mail.addr, Duration::ZERO),
        )
        .await?;
        let gateway_floor = launch(
            Kind::Gateway,
            gateway_args(tokens.addr, mail.addr, FORGOT_FLOOR),
        )
        .await?;
        let gateway_limited = launch(
            Kind::Gateway,
            gateway_args(tokens_limited.addr, mail.addr, Duration::ZERO),
        )
        .await?;
        let floors = FloorServer::start(&redis.url, &redis.prefix).await?;
        let as_processes = matches!(how, How::Binaries(_));
        let hop = HopFloor::start(&redis.url, &floors.value_key, as_processes).await?;
        Ok(Self {
            how,
            redis,
            sink,
            tokens,
            tokens_limited,
            mail,
            gateway,
            gateway_floor,
            gateway_limited,
            floors,
            hop,
            _redis_process: redis_process,
        })
    }

    /// [`Services`] on `redis` (e.g. a Redis Cluster), sending mail to [`Self::sink`].
    pub async fn start_services_on(&self, redis: &TestRedis) -> anyhow::Result<Services> {
        let tokens = Service::start(Kind::Tokens, token_args(redis, true), &self.how).await?;
        let mail = Service::start(
            Kind::Mail,
            mail_args(redis, &self.sink, tokens.addr),
            &self.how,
        )
        .await?;
        let gateway = Service::start(
            Kind::Gateway,
            gateway_args(tokens.addr, mail.addr, Duration::ZERO),
            &self.how,
        )
        .await?;
        Ok(Services {
            tokens,
            mail,
            gateway,
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

fn gateway_args(tokens: SocketAddr, mail: SocketAddr, floor: Duration) -> Vec<String> {
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
        humantime::format_duration(floor).to_string(),
    ]
}

fn common_args(redis: &TestRedis) -> Vec<String> {
    vec![
        "--redis-url".into(),
        redis.url.clone(),
        "--redis-cluster".into(),
        redis.cluster.to_string(),
        "--redis-key-prefix".into(),
        redis.prefix.clone(),
        "--metrics-addr".into(),
        free_addr().to_string(),
    ]
}
