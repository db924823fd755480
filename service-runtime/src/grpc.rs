//! The gRPC plumbing both services set up the same way: server reflection over their contracts
//! (so grpcurl-style tools need no .proto files), the bound on calls in flight
//! ([`GrpcInFlight`]) and the error a server stops with.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic_reflection::server::{v1, v1alpha};
use tonic_types::{ErrorDetails, StatusExt as _};

/// Why a running gRPC server stopped other than by its shutdown signal.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The reflection service could not read a descriptor set.
    #[error("grpc reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error("grpc server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// gRPC server reflection over `contracts` (an encoded `FileDescriptorSet`) and the health
/// service's own, as `grpc.reflection.v1` and `grpc.reflection.v1alpha` (to add side by side):
/// Python's grpcio-reflection, Postman and older grpcurl speak only v1alpha.
pub fn reflection(
    contracts: &'static [u8],
) -> Result<
    (
        v1::ServerReflectionServer<impl v1::ServerReflection>,
        v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection>,
    ),
    ServeError,
> {
    let builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(contracts)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    Ok((builder().build_v1()?, builder().build_v1alpha()?))
}

/// At most `max` calls in flight on a gRPC server: a call over the limit is answered
/// RESOURCE_EXHAUSTED at once (with a `RetryInfo` of a second), before any work. Health checks
/// are never counted or refused, so an overloaded server still says whether it is up. A call
/// holds its place until its response body ends, so open streams count too.
#[derive(Clone, Debug)]
pub struct GrpcInFlight {
    permits: Arc<Semaphore>,
}

/// Calls to this service pass the limit.
const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";
/// How soon a refused caller should try again.
const SHED_RETRY_AFTER: Duration = Duration::from_secs(1);

impl GrpcInFlight {
    /// A limit of `max` calls (at least one).
    pub fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max.max(1))),
        }
    }
}

impl<S> tower::Layer<S> for GrpcInFlight {
    type Service = GrpcInFlightService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcInFlightService {
            inner,
            permits: self.permits.clone(),
        }
    }
}

/// The service [`GrpcInFlight`] wraps around a gRPC server's routes.
#[derive(Clone, Debug)]
pub struct GrpcInFlightService<S> {
    inner: S,
    permits: Arc<Semaphore>,
}

impl<S, B, R> tower::Service<http::Request<B>> for GrpcInFlightService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = http::Response<PermitBody<R>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let permit = if request.uri().path().starts_with(HEALTH_PREFIX) {
            None
        } else {
            match self.permits.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    tracing::warn!("grpc call shed: too many in flight");
                    let status = tonic::Status::with_error_details(
                        tonic::Code::ResourceExhausted,
                        "too many calls in flight",
                        ErrorDetails::with_retry_info(Some(SHED_RETRY_AFTER)),
                    );
                    let response = status.into_http::<R>().map(|body| PermitBody {
                        inner: body,
                        _permit: None,
                    });
                    return Box::pin(std::future::ready(Ok(response)));
                }
            }
        };
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            Ok(response.map(|body| PermitBody {
                inner: body,
                _permit: permit,
            }))
        })
    }
}

/// A response body that keeps its call's place in the limit until it is dropped.
#[derive(Debug)]
pub struct PermitBody<R> {
    inner: R,
    _permit: Option<OwnedSemaphorePermit>,
}

impl<R> http_body::Body for PermitBody<R>
where
    R: http_body::Body + Unpin,
{
    type Data = R::Data;
    type Error = R::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
