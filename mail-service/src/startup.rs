//! [`Application`]: binds the listener, prepares the transport and templates, then serves
//! `MailService`, gRPC health and reflection while the workers deliver. Tests and `stack`
//! start exactly this.

use std::{future::Future, net::SocketAddr, sync::Arc};

use passreset_grpc_security::{ClientTls, ServerTls};
use passreset_proto::mail::v1::mail_service_server::MailServiceServer;
use passreset_service_runtime::{
    Shutdown,
    grpc::{GrpcInFlight, ServeError},
    grpc_server::{BindError, GrpcServer, GrpcServices},
};
use passreset_telemetry::metrics::{
    DescriptorError, GrpcServerMetrics, MetricsBindError, MetricsEndpoint, Registry,
};
use tokio::{sync::watch, task::JoinSet};

use crate::{
    Config, Queue, access,
    grpc::MailApi,
    metrics::MailMetrics,
    notices::Notices,
    queue::unix_millis,
    revoke::{InvalidTokenService, Revoker},
    templates::{TemplateError, Templates},
    transport::{Transport, TransportError},
    worker::Dispatch,
};

/// Why the service could not start. Each message names the setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Redis cannot be reached at `REDIS_URL`.
    #[error(transparent)]
    Redis(#[from] passreset_redis::ConnectError),
    /// The TLS settings or files cannot be used.
    #[error(transparent)]
    Tls(#[from] passreset_grpc_security::TlsError),
    /// The queue's consumer group cannot be created.
    #[error("REDIS_URL: cannot create the mail consumer group: {0}")]
    Group(String),
    /// `MAIL_TRANSPORT` cannot be set up.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// `MAIL_TOKEN_SERVICE_URL` is unusable.
    #[error(transparent)]
    TokenService(#[from] InvalidTokenService),
    /// A template does not compile.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The metrics address cannot be bound.
    #[error(transparent)]
    Metrics(#[from] MetricsBindError),
    /// The contracts' descriptors, which name the metrics' methods, do not decode.
    #[error(transparent)]
    Descriptors(#[from] DescriptorError),
    /// No callers on a non-loopback address.
    #[error(transparent)]
    Anonymous(#[from] passreset_grpc_security::AnonymousRefused),
    /// The gRPC address (`MAIL_GRPC_ADDR`) cannot be bound.
    #[error(transparent)]
    Bind(#[from] BindError),
}

/// The mail service, bound and ready to serve.
#[derive(Debug)]
pub struct Application {
    /// The listener and what every call passes through.
    grpc: GrpcServer,
    local_addr: SocketAddr,
    api: MailApi,
    dispatch: Dispatch,
    workers: u16,
    metrics: MetricsEndpoint,
    /// The notice consumer of the token service's events (on Redis only).
    notices: Option<Notices>,
}

impl Application {
    /// Connects to Redis (`redis`, `redis_key_prefix`), then as [`Self::build_with_queue`],
    /// and reads the token service's `{prefix}events` for the `password_changed` notices.
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        // Settings first: a wrong one is reported before anything is reached.
        config.grpc_tls()?;
        config.token_service_tls()?;
        let queue = Queue::connect_redis(&config.redis, &config.redis_key_prefix).await?;
        let redis = config.redis.clone();
        let events_key = format!("{}events", config.redis_key_prefix);
        let mut application = Self::build_with_queue(config, queue).await?;
        let notices = Notices {
            redis,
            events_key,
            queue: application.dispatch.queue.clone(),
            metrics: application.dispatch.metrics.clone(),
            claim_idle: application.dispatch.claim_idle,
        };
        // Before serving, so no event written once the service is up is missed.
        notices
            .create_group()
            .await
            .map_err(|error| StartupError::Group(error.to_string()))?;
        application.notices = Some(notices);
        Ok(application)
    }

    /// Compiles the templates, sets up the transport and binds `grpc_addr`, serving from
    /// `queue` (the Redis settings are not used).
    pub async fn build_with_queue(
        config: Config,
        queue: Queue,
    ) -> Result<Application, StartupError> {
        let access = access::policy(
            config.grpc_callers.clone(),
            config.grpc_addr,
            config.grpc_allow_anonymous,
        )?;
        let tls = config.grpc_tls()?.map(ServerTls::load).transpose()?;
        let token_service_tls = ClientTls::load(&config.token_service_tls()?)?;
        let templates = Arc::new(Templates::load(config.templates_dir.as_deref())?);
        let transport = Transport::new(&config.transport, u32::from(config.workers)).await?;
        let (listener, local_addr) =
            passreset_service_runtime::grpc_server::bind(config.grpc_addr, "MAIL_GRPC_ADDR")
                .await?;
        let queue = queue.store().clone();
        let mut registry = Registry::default();
        let grpc_metrics =
            GrpcServerMetrics::register(&mut registry, passreset_proto::FILE_DESCRIPTOR_SET)?;
        let mail_metrics = MailMetrics::register(&mut registry);
        let metrics =
            MetricsEndpoint::bind(config.metrics_addr, registry, "MAIL_METRICS_ADDR").await?;
        Ok(Application {
            grpc: GrpcServer {
                listener,
                tls,
                access,
                metrics: grpc_metrics,
                in_flight: GrpcInFlight::new(config.max_in_flight as usize),
            },
            local_addr,
            api: MailApi::new(
                queue.clone(),
                mail_metrics.clone(),
                config.unknown_account_notices,
                config.queue_max,
            ),
            dispatch: Dispatch {
                queue,
                transport,
                templates,
                from: config.from,
                max_attempts: config.max_attempts,
                dead_max: config.dead_max,
                retry_base: config.retry_base,
                claim_idle: config.claim_idle,
                metrics: mail_metrics,
                revoker: Revoker::new(
                    &config.token_service_url,
                    config.token_service_secret.clone(),
                    &token_service_tls,
                )?,
            },
            workers: config.workers,
            metrics,
            notices: None,
        })
    }

    /// Where the server listens (the real port when `grpc_addr` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where `/metrics` is served.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics.local_addr()
    }

    /// Serves and delivers until `shutdown` resolves; then stops taking calls, lets each
    /// worker finish the mail in hand, and returns.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let shutdown = Shutdown::new(shutdown);
        let (stop_workers, stop) = watch::channel(false);
        let mut workers = JoinSet::new();
        // Unique per process, so a restarted process can take over its predecessor's mail.
        let process = uuid::Uuid::new_v4().simple().to_string();
        for number in 0..self.workers {
            let name = format!("{}-{number}", &process[..12]);
            workers.spawn(self.dispatch.clone().run_worker(name, stop.clone()));
        }
        if let Some(notices) = self.notices {
            workers.spawn(notices.run(format!("{}-notices", &process[..12]), stop.clone()));
        }

        // Health follows the queue; the same probe keeps the queue's depth and oldest-mail
        // gauges current.
        let queue = self.dispatch.queue.clone();
        let depth = self.dispatch.metrics.queue_depth.clone();
        let oldest_age = self.dispatch.metrics.oldest_queued_age.clone();
        let probe = move || {
            let (queue, depth, oldest_age) = (queue.clone(), depth.clone(), oldest_age.clone());
            async move {
                if let Ok(waiting) = queue.depth().await {
                    depth.set(i64::try_from(waiting).unwrap_or(i64::MAX));
                }
                if let Ok(oldest) = queue.oldest_queued_at().await {
                    oldest_age.set(age_seconds(oldest, unix_millis()));
                }
                queue.answers().await
            }
        };
        let metrics = tokio::spawn(self.metrics.serve(shutdown.wait()));
        tracing::info!(addr = %self.local_addr, tls = self.grpc.tls.is_some(), workers = self.workers, "mail-service listening");
        let services = GrpcServices::default().add_service(MailServiceServer::new(self.api));
        let served = self
            .grpc
            .serve(
                services,
                passreset_proto::FILE_DESCRIPTOR_SET,
                probe,
                &shutdown,
            )
            .await;

        let _ = stop_workers.send(true);
        while workers.join_next().await.is_some() {}
        if let Ok(Err(error)) = metrics.await {
            tracing::warn!(%error, "the metrics endpoint failed");
        }
        tracing::info!("mail-service stopped");
        served
    }
}

/// Whole seconds from `queued_at_ms` to `now_ms`; 0 for an empty queue or a clock behind.
fn age_seconds(queued_at_ms: Option<u64>, now_ms: u64) -> i64 {
    let age = queued_at_ms.map_or(0, |at| now_ms.saturating_sub(at) / 1000);
    i64::try_from(age).unwrap_or(i64::MAX)
}
