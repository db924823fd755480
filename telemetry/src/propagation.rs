//! W3C trace context across process boundaries, so one reset request is one trace through the
//! gateway, the token service, the mail service and its queue:
//!
//! - [`inject_into_metadata`]: a tonic client interceptor that sends the current span's context;
//! - [`GrpcServerTracing`]: a tower layer for tonic servers that opens each call's span as a
//!   child of the context the caller sent;
//! - [`current_traceparent`] / [`span_following`]: the same through a queue, as a string.
//!
//! Only the `traceparent`/`tracestate` headers travel; nothing of the request itself.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use opentelemetry::propagation::{Extractor, Injector};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The current span's context into outgoing gRPC metadata. Use with
/// `XClient::with_interceptor(channel, inject_into_metadata)`.
pub fn inject_into_metadata(
    mut request: tonic::Request<()>,
) -> Result<tonic::Request<()>, tonic::Status> {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut MetadataInjector(request.metadata_mut()));
    });
    Ok(request)
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// The current span's context as a `traceparent` string (empty without one), to carry through
/// a queue.
pub fn current_traceparent() -> String {
    let context = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut carrier);
    });
    carrier.remove("traceparent").unwrap_or_default()
}

/// Makes `span` a child of the trace `traceparent` names (as [`current_traceparent`] wrote
/// it); an empty or malformed one leaves the span a root.
pub fn span_following(span: &tracing::Span, traceparent: &str) {
    if traceparent.is_empty() {
        return;
    }
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context =
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    let _ = span.set_parent(context);
}

/// Opens a span per gRPC call (`grpc.method` = `/package.Service/Method`), parented on the
/// caller's trace context when it sent one.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcServerTracing;

impl<S> tower::Layer<S> for GrpcServerTracing {
    type Service = GrpcTracingService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcTracingService { inner }
    }
}

/// The service [`GrpcServerTracing`] wraps around each gRPC service.
#[derive(Debug, Clone)]
pub struct GrpcTracingService<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for GrpcTracingService<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let span = tracing::info_span!(
            "grpc request",
            otel.kind = "server",
            grpc.method = %request.uri().path()
        );
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        let _ = span.set_parent(parent);
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        Box::pin(future.instrument(span))
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[test]
    fn a_traceparent_carried_through_a_queue_continues_the_trace() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!("request");
            let carried = request.in_scope(current_traceparent);
            assert!(carried.starts_with("00-"), "{carried}");
            let trace_id = carried.split('-').nth(1).unwrap().to_owned();

            let delivery = tracing::info_span!("deliver");
            span_following(&delivery, &carried);
            let continued = delivery.in_scope(current_traceparent);
            assert_eq!(continued.split('-').nth(1), Some(trace_id.as_str()));
        });
    }
}
