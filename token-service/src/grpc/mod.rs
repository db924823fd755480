//! The gRPC face: `TokenService` (here) and `AccountDirectory` (`accounts.rs`), translating
//! messages to the flows in `reset/`, `verify.rs` and `accounts/`, and writing one audit line
//! per outcome (`audit.rs`: never a token, a password or a link).

mod accounts;
mod audit;

pub(crate) use accounts::AccountsApi;
use audit::{AuditedCall, caller_name};

use passreset_proto::token::v1::{
    CheckTokenRequest, CheckTokenResponse, IssueTokenRequest, IssueTokenResponse, IssuedToken,
    NoAccount, PasswordPolicy, RedeemRequest, RedeemResponse, RevokeTokenRequest,
    RevokeTokenResponse, issue_token_response::Outcome, redeem_request::Password,
    token_service_server::TokenService,
};
use secrecy::{ExposeSecret as _, SecretString};
use tonic::{Request, Response, Status};

use crate::{
    Error,
    metrics::TokenMetrics,
    reset::{PasswordToSet, Resets},
};

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
        let call = AuditedCall::of(name, request.context.as_ref(), &self.metrics);
        call.audit("requested", None);
        let issue = self
            .resets
            .issue(&request.email, call.origin())
            .await
            .map_err(|error| call.refused("issue", error))?;
        let outcome = match issue.issued {
            Some(issued) => {
                call.audit("issued", Some(&issued.account_id));
                Outcome::Issued(IssuedToken {
                    token: issued.token.expose().to_owned(),
                    account_id: issued.account_id,
                    expires_at_unix: issued.expires_at.unix_seconds(),
                    ttl_seconds: u32::try_from(issued.ttl.as_secs()).unwrap_or(u32::MAX),
                    locale: issued.locale,
                })
            }
            None => {
                call.audit("no_account", None);
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
        let call = AuditedCall::of(name, request.context.as_ref(), &self.metrics);
        let record = self
            .resets
            .check(&request.token, call.origin())
            .await
            .map_err(|error| call.refused("check", error))?;
        call.audit("checked", Some(&record.account_id));
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
        let call = AuditedCall::of(name, request.context.as_ref(), &self.metrics);
        self.resets
            .revoke(&request.token)
            .await
            .map_err(|error| call.refused("revoke", error))?;
        call.audit("revoked", None);
        Ok(Response::new(RevokeTokenResponse {}))
    }

    #[tracing::instrument(name = "Redeem", skip_all)]
    async fn redeem(
        &self,
        request: Request<RedeemRequest>,
    ) -> Result<Response<RedeemResponse>, Status> {
        let name = caller_name(&request);
        let request = request.into_inner();
        let call = AuditedCall::of(name, request.context.as_ref(), &self.metrics);
        let new_password = match request.password {
            Some(Password::NewPassword(password)) => {
                PasswordToSet::Chosen(SecretString::from(password))
            }
            Some(Password::Generate(true)) => PasswordToSet::Generate,
            Some(Password::Generate(false)) | None => {
                return Err(call.refused(
                    "redeem",
                    Error::InvalidArgument("either new_password or generate = true is required"),
                ));
            }
        };
        let redeemed = self
            .resets
            .redeem(&request.token, new_password, call.origin())
            .await
            .map_err(|error| call.refused("redeem", error))?;
        // The `password_changed` event (and through it the notice mail) was written by the
        // flow, once, or will be by its bookkeeping's retry.
        call.audit("redeemed", Some(&redeemed.account.id));
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
