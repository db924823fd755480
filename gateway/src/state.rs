//! What the handlers share, and the parts of it each takes through axum's `FromRef`: a module
//! below the router names only what it uses (`State<Resets>`, `State<Arc<ApiKeys>>`, ...), so
//! nothing under `startup` reaches back up for the whole state.

use std::sync::Arc;

use axum::extract::FromRef;
use passreset_telemetry::metrics::HttpMetrics;

use crate::{ApiKeys, InFlight, TrustedProxies, Upstreams, flows::Resets};

/// What every handler shares: cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// What the reset flows need: the upstreams, where links point, the forgot floor.
    pub resets: Resets,
    /// The keys that may start resets on the Metal surface.
    pub api_keys: Arc<ApiKeys>,
    /// The proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Request counts and latencies, by route and status.
    pub http_metrics: HttpMetrics,
    /// The bound on requests in flight (`GATEWAY_MAX_IN_FLIGHT`) and their timeout.
    pub in_flight: InFlight,
}

impl FromRef<AppState> for Resets {
    fn from_ref(state: &AppState) -> Self {
        state.resets.clone()
    }
}

/// For readiness, which asks the upstreams themselves.
impl FromRef<AppState> for Arc<Upstreams> {
    fn from_ref(state: &AppState) -> Self {
        state.resets.upstreams.clone()
    }
}

impl FromRef<AppState> for Arc<ApiKeys> {
    fn from_ref(state: &AppState) -> Self {
        state.api_keys.clone()
    }
}

impl FromRef<AppState> for Arc<TrustedProxies> {
    fn from_ref(state: &AppState) -> Self {
        state.trusted_proxies.clone()
    }
}
