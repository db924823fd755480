//! What the token service counts for operators, beside the gRPC traffic the shared layer
//! counts: each step of the reset flows by outcome, and the argon2 work running now.

use passreset_telemetry::metrics::Registry;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabel {
    event: &'static str,
}

/// `tokens_total{event}`: requested, issued, no_account, checked, redeemed, refused, expired,
/// rate_limited, directory_unavailable (the platform's directory failed or did not answer).
#[derive(Clone, Debug, Default)]
pub(crate) struct TokenMetrics {
    events: Family<EventLabel, Counter>,
    /// `password_hashes_in_flight`: argon2 hashes and verifications running now.
    hashes_in_flight: Gauge,
}

impl TokenMetrics {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "tokens",
            "Steps of the reset flows by outcome: requested, issued, no_account, checked, \
             redeemed, refused, expired, rate_limited, directory_unavailable",
            metrics.events.clone(),
        );
        registry.register(
            "password_hashes_in_flight",
            "Argon2 hashes and verifications running now (at most TOKEN_HASH_CONCURRENCY)",
            metrics.hashes_in_flight.clone(),
        );
        metrics
    }

    /// The gauge the hash pool counts on.
    pub(crate) fn hashes_in_flight(&self) -> Gauge {
        self.hashes_in_flight.clone()
    }

    pub(crate) fn count(&self, event: &'static str) {
        self.events.get_or_create(&EventLabel { event }).inc();
    }
}
