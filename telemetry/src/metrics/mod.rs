//! Prometheus metrics: each service keeps its own [`Registry`] (no process-wide recorder, so
//! `stack` and the tests can run several services in one process), serves it on a port of its
//! own with [`MetricsEndpoint`], and measures its traffic with [`HttpMetrics`] (axum) or
//! [`GrpcServerMetrics`] (a tower layer for tonic servers).
//!
//! - `endpoint.rs`: [`MetricsEndpoint`], `GET /metrics` on a listener of its own;
//! - `http_server.rs`: [`HttpMetrics`], an axum middleware;
//! - `grpc_server.rs`: [`GrpcServerMetrics`], a tower layer for tonic servers.

mod endpoint;
mod grpc_server;
mod http_server;

use prometheus_client::metrics::{
    family::Family,
    histogram::{Histogram, exponential_buckets},
};
pub use prometheus_client::{
    metrics::{counter::Counter as MetricCounter, gauge::Gauge as MetricGauge},
    registry::Registry,
};

pub use endpoint::{MetricsBindError, MetricsEndpoint};
pub use grpc_server::{DescriptorError, GrpcMetricsService, GrpcServerMetrics};
pub use http_server::HttpMetrics;

/// Latency buckets: 1 ms to about 16 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// A constructor for histogram families (a `fn` pointer, so the family type can be named).
type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;
