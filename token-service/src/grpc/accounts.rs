//! `AccountDirectory`: its admin calls over the built-in directory only (FAILED_PRECONDITION
//! otherwise), `VerifyPassword` over any directory that can verify. Upserts under the password policy,
//! verifications under their own limits, each audited with the caller's name.

use passreset_proto::token::v1::{
    Account, GetAccountRequest, ListAccountsRequest, ListAccountsResponse, UpsertAccountRequest,
    VerifyPasswordRequest, VerifyPasswordResponse, account_directory_server::AccountDirectory,
    get_account_request::Key,
};
use secrecy::SecretString;
use tonic::{Request, Response, Status};

use super::{AuditedCall, caller_name};
use crate::{
    Error,
    accounts::{AccountRecord, NormalizedEmail},
    directory::Users,
    limits::LimitName,
    metrics::{TokenMetrics, Verification},
    verify::{Verified, Verifier},
};

/// Accounts per page when the caller does not say.
const DEFAULT_PAGE_SIZE: usize = 100;
/// Most accounts per page.
const MAX_PAGE_SIZE: usize = 1000;

/// `AccountDirectory` over wherever the accounts live.
#[derive(Debug, Clone)]
pub(crate) struct AccountsApi {
    users: Users,
    verifier: Verifier,
    metrics: TokenMetrics,
}

impl AccountsApi {
    pub(crate) fn new(users: Users, verifier: Verifier, metrics: TokenMetrics) -> Self {
        Self {
            users,
            verifier,
            metrics,
        }
    }
}

fn account_message(record: AccountRecord) -> Account {
    Account {
        id: record.id,
        email: record.email.to_string(),
        locale: record.locale,
        created_at_unix: record.created_at.unix_seconds(),
        password_changed_at_unix: record.password_changed_at.unix_seconds(),
    }
}

#[tonic::async_trait]
impl AccountDirectory for AccountsApi {
    #[tracing::instrument(name = "UpsertAccount", skip_all)]
    async fn upsert_account(
        &self,
        request: Request<UpsertAccountRequest>,
    ) -> Result<Response<Account>, Status> {
        let call = AuditedCall::of(caller_name(&request), None, &self.metrics);
        let request = request.into_inner();
        let upserted = async {
            let directory = self.users.built_in()?;
            let email = NormalizedEmail::parse(&request.email)?;
            let locale = Some(request.locale.as_str()).filter(|locale| !locale.is_empty());
            directory
                .upsert(&email, SecretString::from(request.password), locale)
                .await
        };
        match upserted.await {
            Ok(record) => {
                call.write("account_upserted", Some(&record.id));
                Ok(Response::new(account_message(record)))
            }
            Err(error) => {
                call.write_refusal("upsert", "refused", &error);
                Err(error.into())
            }
        }
    }

    #[tracing::instrument(name = "GetAccount", skip_all)]
    async fn get_account(
        &self,
        request: Request<GetAccountRequest>,
    ) -> Result<Response<Account>, Status> {
        let directory = self.users.built_in()?;
        let record = match request.into_inner().key {
            Some(Key::Id(id)) => directory.by_id(&id).await?,
            Some(Key::Email(email)) => directory.by_email(&NormalizedEmail::parse(&email)?).await?,
            None => return Err(Error::InvalidArgument("an id or an email is required").into()),
        };
        let record = record.ok_or(Error::AccountNotFound)?;
        Ok(Response::new(account_message(record)))
    }

    #[tracing::instrument(name = "VerifyPassword", skip_all)]
    async fn verify_password(
        &self,
        request: Request<VerifyPasswordRequest>,
    ) -> Result<Response<VerifyPasswordResponse>, Status> {
        let name = caller_name(&request);
        let request = request.into_inner();
        let call = AuditedCall::of(name, request.context.as_ref(), &self.metrics);
        let verified = self
            .verifier
            .verify(
                &request.email,
                SecretString::from(request.password),
                &call.client_ip,
            )
            .await?;
        let account_id = match verified {
            Verified::Valid(account_id) => {
                self.metrics.count_verification(Verification::Valid);
                call.write("password_valid", Some(&account_id));
                account_id
            }
            Verified::Invalid => {
                self.metrics.count_verification(Verification::Invalid);
                call.write("password_invalid", None);
                String::new()
            }
            Verified::Limited(refusal) => {
                self.metrics.count_verification(match refusal.limit {
                    LimitName::VerifyPerIp => Verification::LimitedPerIp,
                    _ => Verification::LimitedPerAddress,
                });
                call.write_limited("verify", &refusal);
                return Err(Error::from(refusal).into());
            }
        };
        Ok(Response::new(VerifyPasswordResponse {
            valid: !account_id.is_empty(),
            account_id,
        }))
    }

    #[tracing::instrument(name = "ListAccounts", skip_all)]
    async fn list_accounts(
        &self,
        request: Request<ListAccountsRequest>,
    ) -> Result<Response<ListAccountsResponse>, Status> {
        let directory = self.users.built_in()?;
        let request = request.into_inner();
        let page_size = match usize::try_from(request.page_size).unwrap_or(MAX_PAGE_SIZE) {
            0 => DEFAULT_PAGE_SIZE,
            size => size.min(MAX_PAGE_SIZE),
        };
        let page = directory.list(&request.cursor, page_size).await?;
        Ok(Response::new(ListAccountsResponse {
            accounts: page.accounts.into_iter().map(account_message).collect(),
            next_cursor: page.next_cursor,
        }))
    }
}
