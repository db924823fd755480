//! gRPC calls served, by method and status code, and their latency, for tonic servers.

use std::{
    collections::HashSet,
    fmt::Write as _,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
};
use prost::Message as _;

use super::{HistogramFamily, Registry, latency_histogram};

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
