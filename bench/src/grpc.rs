//! The admin calls that prepare a scenario: accounts and tokens, straight to the token service.

use std::net::SocketAddr;

use passreset_proto::token::v1::{
    IssueTokenRequest, RequestContext, UpsertAccountRequest,
    account_directory_client::AccountDirectoryClient, issue_token_response::Outcome,
    token_service_client::TokenServiceClient,
};
use tonic::transport::Channel;

/// The password every bench account starts with.
pub const OLD_PASSWORD: &str = "the old password of a bench account";

/// A connection to a token service (anonymous: the bench's services run on loopback).
#[derive(Debug, Clone)]
pub struct Admin {
    channel: Channel,
}

impl Admin {
    /// Connects to the token service at `addr`.
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Self> {
        let channel = Channel::from_shared(format!("http://{addr}"))?
            .connect()
            .await?;
        Ok(Self { channel })
    }

    /// Creates the accounts `{name}-0@bench.test` .. `{name}-{count-1}@bench.test`, a few at a
    /// time (each costs an argon2id hash), and returns their addresses.
    pub async fn accounts(&self, name: &str, count: usize) -> anyhow::Result<Vec<String>> {
        let addresses: Vec<String> = (0..count)
            .map(|n| format!("{name}-{n}@bench.test"))
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in addresses.chunks(count.div_ceil(8).max(1)) {
            let (chunk, channel) = (chunk.to_vec(), self.channel.clone());
            tasks.spawn(async move {
                let mut directory = AccountDirectoryClient::new(channel);
                for email in chunk {
                    directory
                        .upsert_account(UpsertAccountRequest {
                            email,
                            password: OLD_PASSWORD.to_owned(),
                            locale: String::new(),
                        })
                        .await?;
                }
                Ok::<_, tonic::Status>(())
            });
        }
        for created in tasks.join_all().await {
            created?;
        }
        Ok(addresses)
    }

    /// A fresh token for an existing account.
    pub async fn token(&self, email: &str) -> anyhow::Result<String> {
        let response = TokenServiceClient::new(self.channel.clone())
            .issue_token(IssueTokenRequest {
                email: email.to_owned(),
                context: Some(RequestContext {
                    client_ip: "127.0.0.1".to_owned(),
                    surface: "grpc".to_owned(),
                    ..RequestContext::default()
                }),
            })
            .await?
            .into_inner();
        match response.outcome {
            Some(Outcome::Issued(issued)) => Ok(issued.token),
            _ => anyhow::bail!("no account for {email}"),
        }
    }
}
