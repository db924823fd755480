//! What the token service counts for operators, beside the gRPC traffic the shared layer
//! counts: each step of the reset flows by outcome.

use passreset_telemetry::metrics::Registry;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabel {
    event: &'static str,
}

/// `tokens_total{event}`: requested, issued, no_account, checked, redeemed, refused, expired,
/// rate_limited.
#[derive(Clone, Debug, Default)]
pub(crate) struct TokenMetrics {
    events: Family<EventLabel, Counter>,
}

impl TokenMetrics {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "tokens",
            "Steps of the reset flows by outcome: requested, issued, no_account, checked, \
             redeemed, refused, expired, rate_limited",
            metrics.events.clone(),
        );
        metrics
    }

    pub(crate) fn count(&self, event: &'static str) {
        self.events.get_or_create(&EventLabel { event }).inc();
    }
}
