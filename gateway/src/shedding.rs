//! Load shedding for the REST surfaces: at most `GATEWAY_MAX_IN_FLIGHT` requests in flight
//! across all of them (one semaphore, shared by every route), the excess answered at once with
//! 503 and `Retry-After` in the surface's own error shape, and every request answered within
//! the request timeout (504), so none hangs. Health, readiness and the OpenAPI document are
//! outside the limit: an orchestrator's probes are never shed.

use std::{sync::Arc, time::Duration};

use axum::{BoxError, Router, error_handling::HandleErrorLayer, response::Response};
use tokio::sync::Semaphore;
use tower::{
    ServiceBuilder, limit::GlobalConcurrencyLimitLayer, load_shed::error::Overloaded,
    timeout::error::Elapsed,
};

use crate::{ApiError, locale::AcceptLanguage};

/// How soon a shed client should try again.
const SHED_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The gateway's budget of requests in flight, and how long one may take.
#[derive(Debug, Clone)]
pub struct InFlight {
    /// One permit per request in flight, shared by every surface.
    permits: Arc<Semaphore>,
    /// The longest a request may take before it is answered 504.
    request_timeout: Duration,
}

impl InFlight {
    /// At most `max` requests at once, each answered within `request_timeout`.
    pub fn new(max: usize, request_timeout: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max)),
            request_timeout,
        }
    }

    /// `routes` under the limit; a shed or timed-out request is answered by `render` (the
    /// surface's own error shape, in the reader's language where it has one).
    pub(crate) fn limit<S, R>(&self, routes: Router<S>, render: R) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
        R: Fn(ApiError, AcceptLanguage) -> Response + Clone + Send + Sync + 'static,
    {
        let answer = move |language: AcceptLanguage, error: BoxError| {
            let render = render.clone();
            async move { render(api_error(&error), language) }
        };
        routes.layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(answer))
                .load_shed()
                .layer(GlobalConcurrencyLimitLayer::with_semaphore(
                    self.permits.clone(),
                ))
                .timeout(self.request_timeout),
        )
    }
}

/// What the limit's errors mean to a client.
fn api_error(error: &BoxError) -> ApiError {
    if error.is::<Overloaded>() {
        tracing::warn!("request shed: too many in flight");
        ApiError::Unavailable {
            retry_after: SHED_RETRY_AFTER,
        }
    } else if error.is::<Elapsed>() {
        tracing::warn!("request timed out");
        ApiError::Timeout
    } else {
        tracing::error!(%error, "request failed in the load limit");
        ApiError::Internal
    }
}
