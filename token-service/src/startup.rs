//! [`Application`]: binds the listener, then serves `TokenService`, `AccountDirectory`, gRPC
//! health and reflection on it until told to stop. Tests and `stack` start exactly this.

use std::{future::Future, net::SocketAddr, time::Duration};

use passreset_grpc_security::ServerTls;
use passreset_proto::token::v1::{
    account_directory_server::AccountDirectoryServer, token_service_server::TokenServiceServer,
};
use passreset_service_runtime::{
    Shutdown,
    grpc::{GrpcInFlight, ServeError},
    grpc_server::{BindError, GrpcServer, GrpcServices},
};
use passreset_telemetry::metrics::{
    DescriptorError, GrpcServerMetrics, MetricsBindError, MetricsEndpoint, Registry,
};

use crate::{
    Config, Stores, access,
    accounts::password::HashPool,
    clock::UnixMillis,
    directory::Users,
    grpc::{AccountsApi, TokenApi},
    metrics::TokenMetrics,
    reset::Resets,
    verify::Verifier,
};

/// Why the service could not start. Each message names the setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The system refused to start the password hashing threads.
    #[error("cannot start the password hashing threads: {0}")]
    HashThreads(std::io::Error),
    /// Redis cannot be reached at `REDIS_URL`.
    #[error(transparent)]
    Redis(#[from] passreset_redis::ConnectError),
    /// The metrics address cannot be bound.
    #[error(transparent)]
    Metrics(#[from] MetricsBindError),
    /// The contracts' descriptors, which name the metrics' methods, do not decode.
    #[error(transparent)]
    Descriptors(#[from] DescriptorError),
    /// No callers on a non-loopback address.
    #[error(transparent)]
    Anonymous(#[from] passreset_grpc_security::AnonymousRefused),
    /// The directory setting is unusable, or its statements do not prepare.
    #[error("{variable}: {reason}")]
    Directory {
        /// The setting to fix.
        variable: &'static str,
        /// What is wrong (never a password).
        reason: String,
    },
    /// The TLS settings or files cannot be used.
    #[error(transparent)]
    Tls(#[from] passreset_grpc_security::TlsError),
    /// The gRPC address (`TOKEN_GRPC_ADDR`) cannot be bound.
    #[error(transparent)]
    Bind(#[from] BindError),
}

/// The token service, bound and ready to serve.
#[derive(Debug)]
pub struct Application {
    /// The listener and what every call passes through.
    grpc: GrpcServer,
    local_addr: SocketAddr,
    resets: Resets,
    /// Where the accounts live.
    users: Users,
    verifier: Verifier,
    metrics: MetricsEndpoint,
    /// What health checks probe.
    stores: Stores,
    token_metrics: TokenMetrics,
}

impl Application {
    /// Connects to Redis (`redis`, `redis_key_prefix`) and binds `grpc_addr`.
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        // Settings first: a wrong one is reported before anything is reached.
        config.grpc_tls()?;
        config.directory_tls()?;
        let stores = Stores::connect_redis(&config.redis, &config.redis_key_prefix).await?;
        Self::build_with_stores(config, stores).await
    }

    /// Binds `grpc_addr` and serves from `stores` (the Redis settings are not used).
    pub async fn build_with_stores(
        config: Config,
        stores: Stores,
    ) -> Result<Application, StartupError> {
        let access = access::policy(
            config.grpc_callers.clone(),
            config.grpc_addr,
            config.grpc_allow_anonymous,
        )?;
        let tls = config.grpc_tls()?.map(ServerTls::load).transpose()?;
        let (listener, local_addr) =
            passreset_service_runtime::grpc_server::bind(config.grpc_addr, "TOKEN_GRPC_ADDR")
                .await?;
        let mut registry = Registry::default();
        let grpc_metrics =
            GrpcServerMetrics::register(&mut registry, passreset_proto::FILE_DESCRIPTOR_SET)?;
        let token_metrics = TokenMetrics::register(&mut registry);
        let hashing = HashPool::new(config.hash_limits(), token_metrics.hashes())
            .map_err(StartupError::HashThreads)?;
        let users = Users::connect(&config, &stores, &hashing).await?;
        let verifier = Verifier::new(&config, users.clone(), stores.limit_store());
        let resets = Resets::new(
            &config,
            stores.token_store(),
            users.clone(),
            hashing,
            stores.limit_store(),
            stores.event_sink(),
        );
        let metrics =
            MetricsEndpoint::bind(config.metrics_addr, registry, "TOKEN_METRICS_ADDR").await?;
        Ok(Application {
            grpc: GrpcServer {
                listener,
                tls,
                access,
                metrics: grpc_metrics,
                in_flight: GrpcInFlight::new(config.max_in_flight as usize),
            },
            local_addr,
            resets,
            users,
            verifier,
            metrics,
            stores,
            token_metrics,
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

    /// Serves gRPC and the metrics until `shutdown` resolves, then finishes the calls in
    /// flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let shutdown = Shutdown::new(shutdown);
        tracing::info!(addr = %self.local_addr, tls = self.grpc.tls.is_some(), metrics = %self.metrics.local_addr(), "token-service listening");
        let metrics = tokio::spawn(self.metrics.serve(shutdown.wait()));
        tokio::spawn(sweep_until(self.resets.clone(), shutdown.wait()));
        let services = GrpcServices::default()
            .add_service(TokenServiceServer::new(TokenApi::new(
                self.resets,
                self.token_metrics.clone(),
            )))
            .add_service(AccountDirectoryServer::new(AccountsApi::new(
                self.users,
                self.verifier,
                self.token_metrics,
            )));
        let stores = self.stores;
        let probe = move || {
            let stores = stores.clone();
            async move { stores.answers().await }
        };
        self.grpc
            .serve(
                services,
                passreset_proto::FILE_DESCRIPTOR_SET,
                probe,
                &shutdown,
            )
            .await?;
        if let Ok(Err(error)) = metrics.await {
            tracing::warn!(%error, "the metrics endpoint failed");
        }
        tracing::info!("token-service stopped");
        Ok(())
    }
}

/// How often the sweeper looks for resets whose claim lapsed unfinished.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Settles lapsed resets every [`SWEEP_EVERY`] until `stop`: so a reset interrupted after its
/// password was set gets its event (and notice) even if nobody presents the token again. Every
/// replica sweeps; settling is safe to repeat.
async fn sweep_until(resets: Resets, stop: impl Future<Output = ()>) {
    let sweeping = async {
        let mut ticks = tokio::time::interval(SWEEP_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match resets.sweep(UnixMillis::now()).await {
                Ok(0) => {}
                Ok(settled) => tracing::info!(settled, "lapsed resets settled"),
                Err(error) => tracing::warn!(%error, "the reset sweeper could not look"),
            }
        }
    };
    tokio::select! {
        () = sweeping => {}
        () = stop => {}
    }
}
