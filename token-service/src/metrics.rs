//! What the token service counts for operators, beside the gRPC traffic the shared layer
//! counts: each step of the reset flows by outcome, password verifications by outcome, and the
//! argon2 work.

use passreset_telemetry::metrics::Registry;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
};

use crate::accounts::password::HashMetrics;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabel {
    event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// `tokens_total{event}`: requested, issued, no_account, checked, redeemed, refused, expired,
/// rate_limited, directory_unavailable (the platform's directory failed or did not answer).
#[derive(Clone, Debug, Default)]
pub(crate) struct TokenMetrics {
    events: Family<EventLabel, Counter>,
    /// `password_verifications_total{outcome}`: VerifyPassword answers.
    verifications: Family<OutcomeLabel, Counter>,
    /// `password_hashes_in_flight` and `password_hashes_total`.
    hashes: HashMetrics,
}

/// How a VerifyPassword call ended, as counted (a fixed set: no label comes from a request).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Verification {
    /// The password matched.
    Valid,
    /// No match, or no such account.
    Invalid,
    /// Refused by `TOKEN_LIMIT_VERIFY_PER_ADDRESS`.
    LimitedPerAddress,
    /// Refused by `TOKEN_LIMIT_VERIFY_PER_IP`.
    LimitedPerIp,
}

impl Verification {
    fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::LimitedPerAddress => "rate_limited_per_address",
            Self::LimitedPerIp => "rate_limited_per_ip",
        }
    }
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
            "password_verifications",
            "VerifyPassword answers by outcome: valid, invalid, rate_limited_per_address, \
             rate_limited_per_ip",
            metrics.verifications.clone(),
        );
        registry.register(
            "password_hashes_in_flight",
            "Argon2 hashes and verifications running now (at most TOKEN_HASH_CONCURRENCY)",
            metrics.hashes.in_flight.clone(),
        );
        registry.register(
            "password_hashes",
            "Argon2 hashes and verifications started",
            metrics.hashes.started.clone(),
        );
        metrics
    }

    /// What the hash pool counts on.
    pub(crate) fn hashes(&self) -> HashMetrics {
        self.hashes.clone()
    }

    pub(crate) fn count(&self, event: &'static str) {
        self.events.get_or_create(&EventLabel { event }).inc();
    }

    pub(crate) fn count_verification(&self, outcome: Verification) {
        self.verifications
            .get_or_create(&OutcomeLabel {
                outcome: outcome.as_str(),
            })
            .inc();
    }
}
