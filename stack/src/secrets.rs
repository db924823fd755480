//! Fresh bearer secrets at every start, wired into the three parts: the token service knows the
//! gateway (`reset`), the mail service (`revoke`) and the stack itself (`accounts`, for the demo
//! account); the mail service knows the gateway (`send`). Nothing to set, nothing kept.

use anyhow::Context as _;
use passreset_grpc_security::{Callers, ClientSecret};

use crate::random_password;

/// One secret per caller and upstream.
#[derive(Debug)]
pub(crate) struct Secrets {
    gateway_to_tokens: String,
    gateway_to_mail: String,
    mail_to_tokens: String,
    stack_to_tokens: String,
}

impl Secrets {
    pub(crate) fn fresh() -> anyhow::Result<Self> {
        Ok(Self {
            gateway_to_tokens: random_password()?,
            gateway_to_mail: random_password()?,
            mail_to_tokens: random_password()?,
            stack_to_tokens: random_password()?,
        })
    }

    pub(crate) fn wire_token_service(
        &self,
        config: &mut token_service::Config,
    ) -> anyhow::Result<()> {
        let list = format!(
            "gateway:reset={},mail-service:revoke={},stack:accounts={}",
            self.gateway_to_tokens, self.mail_to_tokens, self.stack_to_tokens
        );
        config.grpc_callers = Callers::parse(&list, token_service::access::PERMISSIONS)
            .context("TOKEN_GRPC_CALLERS")?;
        Ok(())
    }

    pub(crate) fn wire_mail_service(
        &self,
        config: &mut mail_service::Config,
    ) -> anyhow::Result<()> {
        let list = format!("gateway:send={}", self.gateway_to_mail);
        config.grpc_callers = Callers::parse(&list, mail_service::access::PERMISSIONS)
            .context("MAIL_GRPC_CALLERS")?;
        config.token_service_secret = Some(secret(&self.mail_to_tokens)?);
        Ok(())
    }

    pub(crate) fn wire_gateway(&self, config: &mut gateway::Config) -> anyhow::Result<()> {
        config.token_service_secret = Some(secret(&self.gateway_to_tokens)?);
        config.mail_service_secret = Some(secret(&self.gateway_to_mail)?);
        Ok(())
    }

    /// The stack's own `authorization` value, for the demo account's `UpsertAccount`.
    pub(crate) fn stack_bearer(&self) -> String {
        format!("Bearer {}", self.stack_to_tokens)
    }
}

fn secret(value: &str) -> anyhow::Result<ClientSecret> {
    ClientSecret::parse(value).map_err(|error| anyhow::anyhow!("a generated secret: {error}"))
}
