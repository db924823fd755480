//! The gRPC face: `TokenService` (here) and `AccountDirectory` (`accounts.rs`), translating
//! messages to the flows in `reset.rs`, `verify.rs` and `accounts/`, and writing one audit line
//! per outcome (never a token, a password or a link).

mod accounts;

pub(crate) use accounts::AccountsApi;

use passreset_proto::token::v1::{
    CheckTokenRequest, CheckTokenResponse, IssueTokenRequest, IssueTokenResponse, IssuedToken,
    NoAccount, PasswordPolicy, RedeemRequest, RedeemResponse, RequestContext, RevokeTokenRequest,
    RevokeTokenResponse, issue_token_response::Outcome, redeem_request::Password,
    token_service_server::TokenService,
};
use std::sync::Arc;

use passreset_grpc_security::{CallerName, authorize::ANONYMOUS};
use secrecy::{ExposeSecret as _, SecretString};
use tonic::{Request, Response, Status};

use crate::{
    Error,
    limits::Refusal,
    metrics::TokenMetrics,
    reset::{NewPassword, Origin, Resets},
};

/// Longest caller-supplied context value kept in an audit line.
const MAX_CONTEXT_LENGTH: usize = 64;

/// Who asked, as the edge reported it: for audit lines and rate limits.
#[derive(Debug)]
struct Caller {
    /// The authenticated caller (`TOKEN_GRPC_CALLERS`), `anonymous` on an open server.
    name: Arc<str>,
    client_ip: String,
    surface: String,
    api_key_name: String,
    metrics: TokenMetrics,
}

impl Caller {
    fn of(name: Arc<str>, context: Option<&RequestContext>, metrics: &TokenMetrics) -> Self {
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
    fn origin(&self) -> Origin<'_> {
        Origin {
            client_ip: &self.client_ip,
            surface: &self.surface,
        }
    }

    /// One structured audit event (target `audit`), counted in `tokens_total{event}`.
    fn audit(&self, event: &'static str, account_id: Option<&str>) {
        self.metrics.count(event);
        self.write(event, account_id);
    }

    /// The audit event alone: what happened, to which account when known, and who asked.
    /// Never a token, a password or an address.
    fn write(&self, event: &'static str, account_id: Option<&str>) {
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
    fn refused(&self, step: &'static str, error: Error) -> Status {
        let event = refusal_event(&error);
        self.metrics.count(event);
        self.write_refusal(step, event, &error);
        error.into()
    }

    /// The audit event of a refusal alone.
    fn write_refusal(&self, step: &'static str, event: &'static str, error: &Error) {
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
    fn write_limited(&self, step: &'static str, refusal: &Refusal) {
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
fn caller_name<T>(request: &Request<T>) -> Arc<str> {
    request
        .extensions()
        .get::<CallerName>()
        .map_or_else(|| ANONYMOUS.into(), |caller| caller.0.clone())
}

/// `TokenService` over the reset flows.
#[derive(Debug, Clone)]
pub(crate) struct TokenApi {
    resets: Resets,
    metrics: TokenMetrics,
}

impl TokenApi {
    pub(crate) fn new(resets: Resets, metrics: TokenMetrics) -> Self {
        Self { resets, metrics }
    }
}

#[tonic::async_trait]
impl TokenService for TokenApi {
    #[tracing::instrument(name = "IssueToken", skip_all)]
    async fn issue_token(
        &self,
        request: Request<IssueTokenRequest>,
    ) -> Result<Response<IssueTokenResponse>, Status> {
        let name = caller_name(&request);
        let request = request.into_inner();
        let caller = Caller::of(name, request.context.as_ref(), &self.metrics);
        caller.audit("requested", None);
        let issue = self
            .resets
            .issue(&request.email, caller.origin())
            .await
            .map_err(|error| caller.refused("issue", error))?;
        let outcome = match issue.issued {
            Some(issued) => {
                caller.audit("issued", Some(&issued.account_id));
                Outcome::Issued(IssuedToken {
                    token: issued.token.expose().to_owned(),
                    account_id: issued.account_id,
                    expires_at_unix: issued.expires_at.unix_seconds(),
                    ttl_seconds: u32::try_from(issued.ttl.as_secs()).unwrap_or(u32::MAX),
                    locale: issued.locale,
                })
            }
            None => {
                caller.audit("no_account", None);
                Outcome::NoAccount(NoAccount {})
            }
        };
        Ok(Response::new(IssueTokenResponse {
            email: issue.email.to_string(),
            outcome: Some(outcome),
        }))
    }

    #[tracing::instrument(name = "CheckToken", skip_all)]
    async fn check_token(
        &self,
        request: Request<CheckTokenRequest>,
    ) -> Result<Response<CheckTokenResponse>, Status> {
        let name = caller_name(&request);
        let request = request.into_inner();
        let caller = Caller::of(name, request.context.as_ref(), &self.metrics);
        let record = self
            .resets
            .check(&request.token, caller.origin())
            .await
            .map_err(|error| caller.refused("check", error))?;
        caller.audit("checked", Some(&record.account_id));
        let (min_length, max_length) = self.resets.password_policy().bounds();
        Ok(Response::new(CheckTokenResponse {
            account_id: record.account_id,
            expires_at_unix: record.expires_at.unix_seconds(),
            password_policy: Some(PasswordPolicy {
                min_length: u32::try_from(min_length).unwrap_or(u32::MAX),
                max_length: u32::try_from(max_length).unwrap_or(u32::MAX),
            }),
        }))
    }

    #[tracing::instrument(name = "RevokeToken", skip_all)]
    async fn revoke_token(
        &self,
        request: Request<RevokeTokenRequest>,
    ) -> Result<Response<RevokeTokenResponse>, Status> {
        let name = caller_name(&request);
        let request = request.into_inner();
        let caller = Caller::of(name, request.context.as_ref(), &self.metrics);
        self.resets
            .revoke(&request.token)
            .await
            .map_err(|error| caller.refused("revoke", error))?;
        caller.audit("revoked", None);
        Ok(Response::new(RevokeTokenResponse {}))
    }

    #[tracing::instrument(name = "Redeem", skip_all)]
    async fn redeem(
        &self,
        request: Request<RedeemRequest>,
    ) -> Result<Response<RedeemResponse>, Status> {
        let name = caller_name(&request);
        let request = request.into_inner();
        let caller = Caller::of(name, request.context.as_ref(), &self.metrics);
        let new_password = match request.password {
            Some(Password::NewPassword(password)) => {
                NewPassword::Chosen(SecretString::from(password))
            }
            Some(Password::Generate(true)) => NewPassword::Generate,
            Some(Password::Generate(false)) | None => {
                return Err(caller.refused(
                    "redeem",
                    Error::InvalidArgument("either new_password or generate = true is required"),
                ));
            }
        };
        let redeemed = self
            .resets
            .redeem(&request.token, new_password, caller.origin())
            .await
            .map_err(|error| caller.refused("redeem", error))?;
        // The `password_changed` event (and through it the notice mail) was written by the
        // flow, once, or will be by its bookkeeping's retry.
        caller.audit("redeemed", Some(&redeemed.account.id));
        Ok(Response::new(RedeemResponse {
            account_id: redeemed.account.id,
            email: redeemed.account.email.to_string(),
            locale: redeemed.account.locale,
            generated_password: redeemed
                .generated
                .map(|password| password.expose_secret().to_owned())
                .unwrap_or_default(),
            changed_at_unix: redeemed.account.changed_at.unix_seconds(),
        }))
    }
}
