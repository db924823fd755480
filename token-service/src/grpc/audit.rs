//! One gRPC call as its audit lines name it: who asked (the authenticated caller and what the
//! edge reported), written once per outcome and counted in `tokens_total{event}`.

use std::sync::Arc;

use passreset_grpc_security::{CallerName, authorize::ANONYMOUS};
use passreset_proto::token::v1::RequestContext;
use tonic::{Request, Status};

use crate::{Error, limits::Refusal, metrics::TokenMetrics, reset::Origin};

/// Longest caller-supplied context value kept in an audit line.
const MAX_CONTEXT_LENGTH: usize = 64;

/// Who asked, as the edge reported it: for audit lines and rate limits.
#[derive(Debug)]
pub(super) struct AuditedCall {
    /// The authenticated caller (`TOKEN_GRPC_CALLERS`), `anonymous` on an open server.
    name: Arc<str>,
    pub(super) client_ip: String,
    surface: String,
    api_key_name: String,
    metrics: TokenMetrics,
}

impl AuditedCall {
    pub(super) fn of(
        name: Arc<str>,
        context: Option<&RequestContext>,
        metrics: &TokenMetrics,
    ) -> Self {
        let clip = |value: &str| -> String {
            value
                .chars()
                .filter(|character| !character.is_control())
                .take(MAX_CONTEXT_LENGTH)
                .collect()
        };
        let surface = context
            .map(|context| clip(&context.surface))
            .unwrap_or_default();
        Self {
            name,
            client_ip: context
                .map(|context| clip(&context.client_ip))
                .unwrap_or_default(),
            surface: if surface.is_empty() {
                "grpc".to_owned()
            } else {
                surface
            },
            api_key_name: context
                .map(|context| clip(&context.api_key_name))
                .unwrap_or_default(),
            metrics: metrics.clone(),
        }
    }

    /// Where the call came from, for the flows' limits.
    pub(super) fn origin(&self) -> Origin<'_> {
        Origin {
            client_ip: &self.client_ip,
            surface: &self.surface,
        }
    }

    /// One structured audit event (target `audit`), counted in `tokens_total{event}`.
    pub(super) fn audit(&self, event: &'static str, account_id: Option<&str>) {
        self.metrics.count(event);
        self.write(event, account_id);
    }

    /// The audit event alone: what happened, to which account when known, and who asked.
    /// Never a token, a password or an address.
    pub(super) fn write(&self, event: &'static str, account_id: Option<&str>) {
        tracing::info!(
            target: "audit",
            event,
            account_id = account_id.unwrap_or_default(),
            caller = &*self.name,
            client_ip = self.client_ip,
            surface = self.surface,
            api_key_name = self.api_key_name,
            "audit"
        );
    }

    /// Audits a refusal of `step` (`rate_limited`, or `refused` with the reason), counted in
    /// `tokens_total{event}`, and turns it into the caller's status.
    pub(super) fn refused(&self, step: &'static str, error: Error) -> Status {
        let event = refusal_event(&error);
        self.metrics.count(event);
        self.write_refusal(step, event, &error);
        error.into()
    }

    /// The audit event of a refusal alone.
    pub(super) fn write_refusal(&self, step: &'static str, event: &'static str, error: &Error) {
        tracing::info!(
            target: "audit",
            event,
            step,
            reason = %error,
            caller = &*self.name,
            client_ip = self.client_ip,
            surface = self.surface,
            api_key_name = self.api_key_name,
            "audit"
        );
    }

    /// The audit event of a refusal by a rate limit, naming the limit.
    pub(super) fn write_limited(&self, step: &'static str, refusal: &Refusal) {
        tracing::info!(
            target: "audit",
            event = "rate_limited",
            step,
            limit = refusal.limit.as_str(),
            retry_after_ms = u64::try_from(refusal.retry_after.as_millis()).unwrap_or(u64::MAX),
            caller = &*self.name,
            client_ip = self.client_ip,
            surface = self.surface,
            api_key_name = self.api_key_name,
            "audit"
        );
    }
}

/// The audit event a refusal is: `rate_limited`, `expired`, else `refused`.
fn refusal_event(error: &Error) -> &'static str {
    match error {
        Error::RateLimited { .. } => "rate_limited",
        Error::TokenExpired => "expired",
        Error::DirectoryUnavailable(_) => "directory_unavailable",
        _ => "refused",
    }
}

/// The caller the authorization layer let through (`anonymous` when nothing put one there).
pub(super) fn caller_name<T>(request: &Request<T>) -> Arc<str> {
    request
        .extensions()
        .get::<CallerName>()
        .map_or_else(|| ANONYMOUS.into(), |caller| caller.0.clone())
}
