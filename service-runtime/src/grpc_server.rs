//! The skeleton both gRPC services serve with: a listener bound at startup ([`bind`]), then
//! [`GrpcServer::serve`] with the same layers in the same order (trace context, per-method
//! metrics, the bound on calls in flight, then authorization, so refusals are counted), gRPC
//! health kept current by a probe, reflection over the contracts, and TLS when configured.
//! Each service adds only its own servers ([`GrpcServices`]) and its own background work.

use std::{future::Future, net::SocketAddr};

use passreset_grpc_security::{Authorize, Policy, ServerTls};
use tokio::net::TcpListener;
use tonic::{server::NamedService, service::Routes, transport::server::TcpIncoming};

use passreset_telemetry::{metrics::GrpcServerMetrics, propagation::GrpcServerTracing};

use crate::{
    Shutdown,
    grpc::{GrpcInFlight, ServeError, reflection},
    healthcheck::keep_reporting,
};

/// The gRPC address could not be bound.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: cannot listen on {addr}: {reason}")]
pub struct BindError {
    variable: &'static str,
    addr: SocketAddr,
    reason: std::io::Error,
}

/// Binds `addr` (port 0 picks a free one) and says where it listens; `variable` names the
/// setting in errors.
pub async fn bind(
    addr: SocketAddr,
    variable: &'static str,
) -> Result<(TcpListener, SocketAddr), BindError> {
    let error = |reason| BindError {
        variable,
        addr,
        reason,
    };
    let listener = crate::listen(addr).map_err(error)?;
    let local_addr = listener.local_addr().map_err(error)?;
    Ok((listener, local_addr))
}

/// A service's own gRPC servers, with the names their health is reported under (each
/// server's [`NamedService::NAME`]).
#[derive(Debug, Default)]
pub struct GrpcServices {
    routes: Routes,
    names: Vec<&'static str>,
}

impl GrpcServices {
    /// Adds `server`, reported SERVING while the service's probe answers.
    pub fn add_service<S>(mut self, server: S) -> Self
    where
        S: tower::Service<http::Request<tonic::body::Body>, Error = std::convert::Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes = self.routes.add_service(server);
        self
    }
}

/// A gRPC service's listener and what every call passes through, ready to serve.
#[derive(Debug)]
pub struct GrpcServer {
    /// Bound at startup, so a busy address fails the start rather than the serve.
    pub listener: TcpListener,
    /// `None`: plaintext gRPC.
    pub tls: Option<ServerTls>,
    /// Who may call what.
    pub access: Policy,
    /// Per-method call counts and latencies.
    pub metrics: GrpcServerMetrics,
    /// The bound on calls in flight (`*_MAX_IN_FLIGHT`).
    pub in_flight: GrpcInFlight,
}

impl GrpcServer {
    /// Serves `services`, gRPC health and reflection over `contracts` (an encoded
    /// `FileDescriptorSet`) until `shutdown`, then finishes the calls in flight. Every service
    /// is SERVING from the start (startup reached its dependencies), then as often as `probe`
    /// says they answer.
    pub async fn serve<P, F>(
        self,
        services: GrpcServices,
        contracts: &'static [u8],
        probe: P,
        shutdown: &Shutdown,
    ) -> Result<(), ServeError>
    where
        P: Fn() -> F + Send + 'static,
        F: Future<Output = bool> + Send,
    {
        let GrpcServices { routes, names } = services;
        let (health, health_service) = tonic_health::server::health_reporter();
        for name in &names {
            health
                .set_service_status(*name, tonic_health::ServingStatus::Serving)
                .await;
        }
        tokio::spawn({
            let stop = shutdown.wait();
            async move { keep_reporting(health, &names, probe, stop).await }
        });
        let (reflection_v1, reflection_v1alpha) = reflection(contracts)?;
        let routes = routes
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);
        let router = tonic::transport::Server::builder()
            .layer(GrpcServerTracing)
            .layer(self.metrics)
            .layer(self.in_flight)
            // Inside the metrics layer, so refusals are counted.
            .layer(Authorize::new(self.access))
            .add_routes(routes);
        match self.tls {
            None => {
                router
                    .serve_with_incoming_shutdown(
                        // tonic sets TCP_NODELAY only on listeners it binds itself: without
                        // it, an answer written in two segments waits for the client's
                        // delayed ACK (~40 ms) whenever calls are not back to back.
                        TcpIncoming::from(self.listener).with_nodelay(Some(true)),
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
        Ok(())
    }
}
