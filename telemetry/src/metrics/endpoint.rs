//! `GET /metrics` on a listener of its own, apart from the public API.

use std::{future::Future, net::SocketAddr, sync::Arc};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::encoding::text::encode;
use tokio::net::TcpListener;

use super::Registry;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricCounter;

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
}
