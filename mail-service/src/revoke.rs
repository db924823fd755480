//! When a reset mail dies, its token is revoked at the token service (`RevokeToken`), so a link
//! that was never delivered can never be used, even if it leaked on the way.

use std::time::Duration;

use passreset_grpc_security::{ClientSecret, ClientTls, Outgoing};
use passreset_proto::token::v1::{RevokeTokenRequest, token_service_client::TokenServiceClient};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

use crate::mail::{Content, QueuedMail};

/// How long one revocation may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// `MAIL_TOKEN_SERVICE_URL` does not name a usable endpoint.
#[derive(Debug, thiserror::Error)]
#[error("MAIL_TOKEN_SERVICE_URL: {0}")]
pub struct InvalidTokenService(String);

/// A lazily connected client of the token service.
#[derive(Debug, Clone)]
pub(crate) struct Revoker {
    client: TokenServiceClient<InterceptedService<Channel, Outgoing>>,
}

impl Revoker {
    /// A client of `url`, connected on first use (the token service may start later), sending
    /// `secret` (`MAIL_TOKEN_SERVICE_SECRET`) on every call, over `tls` for an `https://` URL.
    pub(crate) fn new(
        url: &str,
        secret: Option<ClientSecret>,
        tls: &ClientTls,
    ) -> Result<Self, InvalidTokenService> {
        let channel = tls
            .connect_lazy(url, |endpoint| {
                endpoint
                    .connect_timeout(Duration::from_secs(2))
                    .timeout(CALL_TIMEOUT)
            })
            .map_err(|error| InvalidTokenService(error.to_string()))?;
        Ok(Self {
            client: TokenServiceClient::with_interceptor(channel, Outgoing::new(secret, Ok)),
        })
    }

    /// Revokes the token of a dead reset mail, if it carries one. A failure is logged: the
    /// mail's link is already destroyed, and the token expires on its own.
    pub(crate) async fn revoke_for(&self, mail: &QueuedMail) {
        let Content::PasswordReset {
            token: Some(token), ..
        } = &mail.content
        else {
            return;
        };
        let request = RevokeTokenRequest {
            token: token.expose().to_owned(),
            context: None,
        };
        match self.client.clone().revoke_token(request).await {
            Ok(_) => tracing::info!(message_id = %mail.id, "token of a dead reset mail revoked"),
            Err(status) => tracing::warn!(
                message_id = %mail.id,
                code = ?status.code(),
                "could not revoke the token of a dead reset mail; it expires on its own"
            ),
        }
    }
}
