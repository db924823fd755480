//! Who is asking, as this gateway saw it: the client's address, the surface the call came
//! through, the API key that authorised it and the language it asked for. Built once per
//! request by the [`Requester`] extractor; the flows send it to the token service (for its
//! limits and audit) and choose the mail's language by it. The token service has callers of
//! its own (the services that may call it); this is the person or program behind one request.

use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
};
use passreset_proto::token::v1 as token;

use crate::{client_ip::ClientIp, locale::AcceptLanguage};

/// A REST surface, by the name its calls carry in audit events and logs. Each surface's routes
/// carry theirs as a request extension (`Router::layer(Extension(Surface::..))`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    /// persona's AccountApi (`/v1`).
    Persona,
    /// Equinix Metal's PasswordResetTokensApi (`/metal/v1`).
    Metal,
    /// The reset pages (`/reset`, `/forgot`).
    Page,
}

impl Surface {
    /// The name in audit events and logs.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Persona => "persona",
            Self::Metal => "metal",
            Self::Page => "page",
        }
    }
}

/// Who is asking, as this gateway saw it.
#[derive(Debug, Clone)]
pub(crate) struct Requester {
    /// The client's address.
    pub ip: std::net::IpAddr,
    /// The surface the call came through.
    pub surface: Surface,
    /// The name of the API key that authorised the call, if one did.
    pub api_key_name: Option<String>,
    /// The request's `Accept-Language`: the language of our words, and of the mail when the
    /// account has none.
    pub accept_language: AcceptLanguage,
}

impl Requester {
    /// The same requester, authorised by the API key named `name`.
    pub(crate) fn authorised_by(self, name: String) -> Self {
        Self {
            api_key_name: Some(name),
            ..self
        }
    }

    /// The mail's locale: the account's own, else what the request asked for.
    pub(crate) fn mail_locale(&self, account_locale: String) -> String {
        if account_locale.is_empty() {
            self.accept_language.0.clone()
        } else {
            account_locale
        }
    }

    /// What the token service is told of the request.
    pub(crate) fn context(&self) -> token::RequestContext {
        token::RequestContext {
            client_ip: self.ip.to_string(),
            surface: self.surface.name().to_owned(),
            api_key_name: self.api_key_name.clone().unwrap_or_default(),
        }
    }
}

impl<S> FromRequestParts<S> for Requester
where
    S: Send + Sync,
    ClientIp: FromRequestParts<S, Rejection = std::convert::Infallible>,
{
    /// Only a route mounted without its surface, a fault of this gateway, is refused.
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(surface) = parts.extensions.get::<Surface>().copied() else {
            tracing::error!("a route is served without its surface");
            return Err(StatusCode::INTERNAL_SERVER_ERROR);
        };
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        let Ok(accept_language) = AcceptLanguage::from_request_parts(parts, state).await;
        Ok(Self {
            ip,
            surface,
            api_key_name: None,
            accept_language,
        })
    }
}
