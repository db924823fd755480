//! [`Application`]: binds the listener, then serves `TokenService`, `AccountDirectory`, gRPC
//! health and reflection on it until told to stop. Tests and `stack` start exactly this.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use passreset_proto::token::v1::{
    account_directory_server::AccountDirectoryServer, token_service_server::TokenServiceServer,
};
use passreset_service_runtime::{
    Shutdown,
    grpc::{GrpcInFlight, ServeError},
};
use passreset_telemetry::metrics::{
    DescriptorError, GrpcServerMetrics, MetricsBindError, MetricsEndpoint, Registry,
};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use passreset_grpc_security::{Authorize, ClientTls, Policy, ServerTls};

use crate::{
    Config, Storage, access,
    accounts::{Directory, password::HashPool},
    clock::UnixMillis,
    directory::{
        External, Users,
        grpc::GrpcDirectory,
        setting::DirectorySetting,
        sql::{SqlDirectory, SqlSettings},
    },
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
    /// The gRPC address cannot be bound.
    #[error("TOKEN_GRPC_ADDR: cannot listen on {addr}: {reason}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why the bind failed.
        reason: std::io::Error,
    },
}

/// The token service, bound and ready to serve.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    resets: Resets,
    /// Where the accounts live.
    users: Users,
    verifier: Verifier,
    metrics: MetricsEndpoint,
    grpc_metrics: GrpcServerMetrics,
    /// The bound on calls in flight (`*_MAX_IN_FLIGHT`).
    in_flight: GrpcInFlight,
    /// Who may call what.
    access: Policy,
    /// `None`: plaintext gRPC.
    tls: Option<ServerTls>,
    /// What health checks probe.
    storage: Storage,
    token_metrics: TokenMetrics,
}

impl Application {
    /// Connects to Redis (`redis`, `redis_key_prefix`) and binds `grpc_addr`.
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        // Settings first: a wrong one is reported before anything is reached.
        config.grpc_tls()?;
        config.directory_tls()?;
        let storage = Storage::connect_redis(&config.redis, &config.redis_key_prefix).await?;
        Self::build_with_storage(config, storage).await
    }

    /// Binds `grpc_addr` and serves from `storage` (the Redis settings are not used).
    pub async fn build_with_storage(
        config: Config,
        storage: Storage,
    ) -> Result<Application, StartupError> {
        let access = access::policy(
            config.grpc_callers.clone(),
            config.grpc_addr,
            config.grpc_allow_anonymous,
        )?;
        let tls = config.grpc_tls()?.map(ServerTls::load).transpose()?;
        let bind_error = |reason| StartupError::Bind {
            addr: config.grpc_addr,
            reason,
        };
        let listener = TcpListener::bind(config.grpc_addr)
            .await
            .map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let mut registry = Registry::default();
        let grpc_metrics =
            GrpcServerMetrics::register(&mut registry, passreset_proto::FILE_DESCRIPTOR_SET)?;
        let token_metrics = TokenMetrics::register(&mut registry);
        let hashing = HashPool::new(config.hash_limits(), token_metrics.hashes())
            .map_err(StartupError::HashThreads)?;
        let users = match &config.directory {
            DirectorySetting::Redis => Users::BuiltIn(Directory::new(
                storage.account_store(),
                hashing.clone(),
                config.password_policy(),
            )),
            DirectorySetting::Grpc(url) => {
                let tls = ClientTls::load(&config.directory_tls()?)?;
                let store =
                    GrpcDirectory::new(url, config.directory_timeout, &tls).map_err(|reason| {
                        StartupError::Directory {
                            variable: "TOKEN_DIRECTORY",
                            reason,
                        }
                    })?;
                Users::External(External {
                    store: Arc::new(store),
                    guards: storage.guard_store(),
                })
            }
            DirectorySetting::Sql(url) => {
                let settings = SqlSettings {
                    url,
                    lookup_sql: config.directory_lookup_sql.as_deref(),
                    update_sql: config.directory_update_sql.as_deref(),
                    hash: config.directory_hash,
                    timeout: config.directory_timeout,
                };
                let store = SqlDirectory::connect(settings, hashing.clone())
                    .await
                    .map_err(|error| StartupError::Directory {
                        variable: error.variable,
                        reason: error.reason,
                    })?;
                Users::External(External {
                    store: Arc::new(store),
                    guards: storage.guard_store(),
                })
            }
        };
        let verifier = Verifier::new(&config, users.clone(), storage.limit_store());
        let resets = Resets::new(
            &config,
            storage.token_store(),
            users.clone(),
            hashing,
            storage.limit_store(),
            storage.event_sink(),
        );
        let metrics =
            MetricsEndpoint::bind(config.metrics_addr, registry, "TOKEN_METRICS_ADDR").await?;
        Ok(Application {
            listener,
            local_addr,
            resets,
            users,
            verifier,
            metrics,
            grpc_metrics,
            in_flight: GrpcInFlight::new(config.max_in_flight as usize),
            access,
            tls,
            storage,
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
        // Serving from the start (startup checked Redis), then as often as Redis answers.
        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_serving::<TokenServiceServer<TokenApi>>().await;
        health
            .set_serving::<AccountDirectoryServer<AccountsApi>>()
            .await;
        let storage = self.storage;
        tokio::spawn({
            let stop = shutdown.wait();
            async move {
                passreset_service_runtime::healthcheck::keep_reporting(
                    health,
                    &[
                        <TokenServiceServer<TokenApi> as tonic::server::NamedService>::NAME,
                        <AccountDirectoryServer<AccountsApi> as tonic::server::NamedService>::NAME,
                    ],
                    || storage.answers(),
                    stop,
                )
                .await;
            }
        });
        let (reflection_v1, reflection_v1alpha) =
            passreset_service_runtime::grpc::reflection(passreset_proto::FILE_DESCRIPTOR_SET)?;
        tracing::info!(addr = %self.local_addr, tls = self.tls.is_some(), metrics = %self.metrics.local_addr(), "token-service listening");
        let metrics = tokio::spawn(self.metrics.serve(shutdown.wait()));
        tokio::spawn(sweep_until(self.resets.clone(), shutdown.wait()));
        let router = tonic::transport::Server::builder()
            .layer(passreset_telemetry::propagation::GrpcServerTracing)
            .layer(self.grpc_metrics)
            .layer(self.in_flight)
            // Inside the metrics layer, so refusals are counted.
            .layer(Authorize::new(self.access))
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(TokenServiceServer::new(TokenApi::new(
                self.resets,
                self.token_metrics.clone(),
            )))
            .add_service(AccountDirectoryServer::new(AccountsApi::new(
                self.users,
                self.verifier,
                self.token_metrics,
            )));
        match self.tls {
            None => {
                router
                    .serve_with_incoming_shutdown(
                        TcpListenerStream::new(self.listener),
                        shutdown.wait(),
                    )
                    .await?
            }
            Some(tls) => {
                router
                    .serve_with_incoming_shutdown(tls.incoming(self.listener), shutdown.wait())
                    .await?
            }
        }
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
