//! Building and running the gateway: the router, its shared state and the listener.

use std::{future::Future, net::SocketAddr, sync::Arc};

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::{HeaderValue, header},
    response::IntoResponse as _,
    routing::get,
    serve::ListenerExt as _,
};
use passreset_grpc_security::ClientTls;
use passreset_service_runtime::Shutdown;
use passreset_telemetry::metrics::{HttpMetrics, MetricsBindError, MetricsEndpoint, Registry};
use tokio::net::TcpListener;
use tower_http::{set_header::SetResponseHeaderLayer, trace::TraceLayer};

use crate::{
    ApiError, AppState, Config, InFlight, Upstreams, clients::InvalidUpstream, flows::Resets,
    health, locale::AcceptLanguage, metal, metal::MetalError, openapi, pages, persona,
    persona::PersonaError,
};

/// Request bodies larger than this are refused with 413; the largest valid body is far smaller.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// Every route of the gateway, ready to serve (or to `oneshot` in a test).
pub fn router(state: AppState) -> Router {
    let in_flight = &state.in_flight;
    Router::new()
        .nest(
            "/v1",
            in_flight.limit(
                persona::routes(),
                |error: ApiError, accept_language: AcceptLanguage| {
                    PersonaError::new(error, accept_language.language()).into_response()
                },
            ),
        )
        .nest(
            "/metal/v1",
            in_flight.limit(metal::routes(), |error: ApiError, _: AcceptLanguage| {
                MetalError::Api(error).into_response()
            }),
        )
        .merge(pages::routes(in_flight))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.http_metrics.clone(),
            HttpMetrics::track,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                // The matched route, never the raw URI: a query string could hold a token.
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("unmatched", MatchedPath::as_str);
                tracing::info_span!("http_request", method = %request.method(), route)
            }),
        )
        .with_state(state)
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// An upstream URL is unusable.
    #[error(transparent)]
    Upstream(#[from] InvalidUpstream),
    /// The upstreams' TLS settings or files cannot be used.
    #[error(transparent)]
    Tls(#[from] passreset_grpc_security::TlsError),
    /// The metrics address cannot be bound.
    #[error(transparent)]
    Metrics(#[from] MetricsBindError),
    /// The listen address cannot be bound.
    #[error("GATEWAY_HTTP_ADDR: cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// A bound, ready gateway.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
    metrics: MetricsEndpoint,
}

impl Application {
    /// Binds `config.http_addr` (port 0 picks a free one) and prepares the upstream channels.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let upstreams = Upstreams::connect_lazy(
            &config.token_service_url,
            &config.mail_service_url,
            config.upstream_timeout,
            [
                config.token_service_secret.clone(),
                config.mail_service_secret.clone(),
            ],
            &ClientTls::load(&config.grpc_tls()?)?,
        )?;
        let listener = passreset_service_runtime::listen(config.http_addr).map_err(|source| {
            StartupError::Bind {
                addr: config.http_addr,
                source,
            }
        })?;
        if config.api_keys.is_empty() {
            tracing::warn!(
                "GATEWAY_API_KEYS is empty: the metal surface refuses every reset request"
            );
        }
        let mut registry = Registry::default();
        let http_metrics = HttpMetrics::register(&mut registry);
        let metrics =
            MetricsEndpoint::bind(config.metrics_addr, registry, "GATEWAY_METRICS_ADDR").await?;
        let in_flight = InFlight::new(config.max_in_flight, config.request_timeout());
        let state = AppState {
            resets: Resets {
                upstreams: Arc::new(upstreams),
                reset_url: Arc::new(config.reset_url),
                forgot_min_duration: config.forgot_min_duration,
            },
            api_keys: Arc::new(config.api_keys),
            trusted_proxies: Arc::new(config.trusted_proxies),
            http_metrics,
            in_flight,
        };
        Ok(Self {
            listener,
            router: router(state),
            metrics,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Where `/metrics` is served.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics.local_addr()
    }

    /// Serves the API and the metrics until `shutdown` resolves, then finishes the requests in
    /// flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let shutdown = Shutdown::new(shutdown);
        // TCP_NODELAY, as tonic sets it: without it, an answer written in two segments waits
        // for the client's delayed ACK (~40 ms) whenever requests are not back to back.
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let api = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.wait());
        let (api, metrics) = tokio::join!(api, self.metrics.serve(shutdown.wait()));
        api.and(metrics)
    }
}
