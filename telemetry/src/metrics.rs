//! Prometheus metrics: each service keeps its own [`Registry`] (no process-wide recorder, so
//! `stack` and the tests can run several services in one process), serves it on a port of its
//! own with [`MetricsEndpoint`], and measures its traffic with [`HttpMetrics`] (axum) or
//! [`GrpcServerMetrics`] (a tower layer for tonic servers).

use std::{
    collections::HashSet,
    fmt::Write as _,
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{Histogram, exponential_buckets},
    },
};
pub use prometheus_client::{
    metrics::{counter::Counter as MetricCounter, gauge::Gauge as MetricGauge},
    registry::Registry,
};
use prost::Message as _;
use tokio::net::TcpListener;

/// Latency buckets: 1 ms to about 16 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// A constructor for histogram families (a `fn` pointer, so the family type can be named).
type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The metrics listener could not be bound.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: cannot listen on {addr}: {reason}")]
pub struct MetricsBindError {
    variable: &'static str,
    addr: SocketAddr,
    reason: std::io::Error,
}

/// `GET /metrics` in the Prometheus text format, on its own listener, apart from the public API.
#[derive(Debug)]
pub struct MetricsEndpoint {
    listener: TcpListener,
    local_addr: SocketAddr,
    registry: Arc<Registry>,
}

impl MetricsEndpoint {
    /// Binds `addr` (port 0 picks a free one); `variable` names the setting in errors.
    pub async fn bind(
        addr: SocketAddr,
        registry: Registry,
        variable: &'static str,
    ) -> Result<Self, MetricsBindError> {
        let error = |reason| MetricsBindError {
            variable,
            addr,
            reason,
        };
        let listener = TcpListener::bind(addr).await.map_err(error)?;
        let local_addr = listener.local_addr().map_err(error)?;
        Ok(Self {
            listener,
            local_addr,
            registry: Arc::new(registry),
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = Router::new()
            .route("/metrics", get(render))
            .with_state(self.registry);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

async fn render(State(registry): State<Arc<Registry>>) -> Response {
    let mut text = String::new();
    match encode(&mut text, &registry) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// HTTP requests by route and status, and their latency, for an axum router.
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    requests: Family<HttpLabels, Counter>,
    duration: HistogramFamily<RouteLabels>,
}

impl HttpMetrics {
    /// Registers `http_requests` and `http_request_duration_seconds` in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(latency_histogram),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            metrics.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route",
            metrics.duration.clone(),
        );
        metrics
    }

    /// The middleware (`axum::middleware::from_fn_with_state(metrics, HttpMetrics::track)`).
    /// Labels come only from fixed sets, so no client can add series: the route is the matched
    /// pattern (never the raw path, which could hold a token) or `unmatched`, the method one
    /// of the standard ones or `other`.
    pub async fn track(
        State(metrics): State<HttpMetrics>,
        request: Request,
        next: Next,
    ) -> Response {
        let method = method_label(request.method()).to_owned();
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
        let started = Instant::now();
        let response = next.run(request).await;
        let elapsed = started.elapsed().as_secs_f64();
        metrics
            .requests
            .get_or_create(&HttpLabels {
                method: method.clone(),
                route: route.clone(),
                status: response.status().as_u16(),
            })
            .inc();
        metrics
            .duration
            .get_or_create(&RouteLabels { method, route })
            .observe(elapsed);
        response
    }
}

/// The method as a label: the standard methods by name, anything else `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrpcLabels {
    method: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabel {
    method: String,
}

/// A descriptor set that does not decode: a build fault, found at start.
#[derive(Debug, thiserror::Error)]
#[error("grpc metrics: a file descriptor set does not decode: {0}")]
pub struct DescriptorError(#[from] prost::DecodeError);

/// gRPC calls served, by method and status code, and their latency: a tower layer for
/// `tonic::transport::Server::builder().layer(..)`.
#[derive(Clone, Debug)]
pub struct GrpcServerMetrics {
    calls: Family<GrpcLabels, Counter>,
    duration: HistogramFamily<MethodLabel>,
    /// `package.Service/Method` of every method the descriptors declare: the only method
    /// labels, so a client calling made-up paths adds no series (they count as `unknown`).
    known_methods: Arc<HashSet<String>>,
}

impl GrpcServerMetrics {
    /// Registers `grpc_server_calls` and `grpc_server_call_duration_seconds` in `registry`,
    /// labelling the methods of `contracts` (an encoded `FileDescriptorSet`), of gRPC health
    /// and of reflection by name.
    pub fn register(registry: &mut Registry, contracts: &[u8]) -> Result<Self, DescriptorError> {
        let mut known_methods = HashSet::new();
        for set in [
            contracts,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ] {
            known_methods.extend(method_names(set)?);
        }
        let metrics = Self {
            calls: Family::default(),
            duration: Family::new_with_constructor(latency_histogram),
            known_methods: Arc::new(known_methods),
        };
        registry.register(
            "grpc_server_calls",
            "gRPC calls answered, by method and status code",
            metrics.calls.clone(),
        );
        registry.register(
            "grpc_server_call_duration_seconds",
            "Time to answer a gRPC call, by method",
            metrics.duration.clone(),
        );
        Ok(metrics)
    }

    /// The label of a request path: a declared method, or `unknown`.
    fn method_label(&self, path: &str) -> String {
        let method = path.strip_prefix('/').unwrap_or(path);
        if self.known_methods.contains(method) {
            method.to_owned()
        } else {
            "unknown".to_owned()
        }
    }

    fn record(&self, method: String, code: String, seconds: f64) {
        self.calls
            .get_or_create(&GrpcLabels {
                method: method.clone(),
                code,
            })
            .inc();
        self.duration
            .get_or_create(&MethodLabel { method })
            .observe(seconds);
    }
}

impl<S> tower::Layer<S> for GrpcServerMetrics {
    type Service = GrpcMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetricsService {
            inner,
            metrics: self.clone(),
        }
    }
}

/// The service [`GrpcServerMetrics`] wraps around each gRPC service.
#[derive(Clone, Debug)]
pub struct GrpcMetricsService<S> {
    inner: S,
    metrics: GrpcServerMetrics,
}

impl<S, B, R> tower::Service<http::Request<B>> for GrpcMetricsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = self.metrics.method_label(request.uri().path());
        let started = Instant::now();
        let metrics = self.metrics.clone();
        let future = self.inner.call(request);
        Box::pin(async move {
            let result = future.await;
            let code = match &result {
                // A unary success carries its status in the trailers: no header means OK.
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok())
                    .map_or_else(|| "0".to_owned(), str::to_owned),
                Err(_) => "transport".to_owned(),
            };
            metrics.record(
                method,
                grpc_code_name(&code),
                started.elapsed().as_secs_f64(),
            );
            result
        })
    }
}

/// `package.Service/Method` of every method in an encoded `FileDescriptorSet`.
fn method_names(encoded: &[u8]) -> Result<Vec<String>, DescriptorError> {
    let set = prost_types::FileDescriptorSet::decode(encoded)?;
    let mut names = Vec::new();
    for file in &set.file {
        for service in &file.service {
            let service_name = match file.package() {
                "" => service.name().to_owned(),
                package => format!("{package}.{}", service.name()),
            };
            for method in &service.method {
                names.push(format!("{service_name}/{}", method.name()));
            }
        }
    }
    Ok(names)
}

/// `5` -> `NOT_FOUND`: the names operators know.
fn grpc_code_name(code: &str) -> String {
    let name = match code {
        "0" => "OK",
        "1" => "CANCELLED",
        "2" => "UNKNOWN",
        "3" => "INVALID_ARGUMENT",
        "4" => "DEADLINE_EXCEEDED",
        "5" => "NOT_FOUND",
        "6" => "ALREADY_EXISTS",
        "7" => "PERMISSION_DENIED",
        "8" => "RESOURCE_EXHAUSTED",
        "9" => "FAILED_PRECONDITION",
        "10" => "ABORTED",
        "11" => "OUT_OF_RANGE",
        "12" => "UNIMPLEMENTED",
        "13" => "INTERNAL",
        "14" => "UNAVAILABLE",
        "15" => "DATA_LOSS",
        "16" => "UNAUTHENTICATED",
        other => {
            let mut unknown = String::from("CODE_");
            let _ = write!(unknown, "{other}");
            return unknown;
        }
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_endpoint_serves_what_was_registered() {
        let mut registry = Registry::default();
        let counter = MetricCounter::<u64>::default();
        registry.register("widgets_made", "Widgets made", counter.clone());
        counter.inc();
        let endpoint =
            MetricsEndpoint::bind(([127, 0, 0, 1], 0).into(), registry, "TEST_METRICS_ADDR")
                .await
                .unwrap();
        let addr = endpoint.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(endpoint.serve(async {
            let _ = stopped.await;
        }));
        let text = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(text.contains("widgets_made_total 1"), "{text}");
        let _ = stop.send(());
        served.await.unwrap().unwrap();
    }

    #[test]
    fn only_standard_methods_are_labelled_by_name() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let made_up = Method::from_bytes(b"FOO1").unwrap();
        assert_eq!(method_label(&made_up), "other");
    }

    #[test]
    fn grpc_methods_are_labelled_only_when_a_descriptor_declares_them() {
        let metrics = GrpcServerMetrics::register(&mut Registry::default(), &[]).unwrap();
        assert_eq!(
            metrics.method_label("/grpc.health.v1.Health/Check"),
            "grpc.health.v1.Health/Check"
        );
        assert_eq!(
            metrics.method_label("/grpc.health.v1.Health/Nope"),
            "unknown"
        );
        assert_eq!(metrics.method_label("/x1/y"), "unknown");
    }

    #[test]
    fn status_codes_are_named() {
        assert_eq!(grpc_code_name("0"), "OK");
        assert_eq!(grpc_code_name("8"), "RESOURCE_EXHAUSTED");
        assert_eq!(grpc_code_name("99"), "CODE_99");
    }
}
