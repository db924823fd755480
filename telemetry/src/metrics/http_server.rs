//! HTTP requests by route and status, and their latency, for an axum router.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::Method,
    middleware::Next,
    response::Response,
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
};

use super::{HistogramFamily, Registry, latency_histogram};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_standard_methods_are_labelled_by_name() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let made_up = Method::from_bytes(b"FOO1").unwrap();
        assert_eq!(method_label(&made_up), "other");
    }
}
