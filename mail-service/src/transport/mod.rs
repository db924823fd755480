//! Where mail leaves the service: SMTP (pooled, plain / STARTTLS / TLS, optional AUTH) or an
//! outbox directory of `.eml` files, and how a failed send is classified for retrying.
//!
//! - `url.rs`: `MAIL_TRANSPORT`, parsed ([`TransportUrl`]);
//! - `failure.rs`: which SMTP failures are worth a retry, and what is kept of them.

mod failure;
mod url;

use std::{fmt, path::PathBuf, sync::Arc, time::Duration};

use lettre::{
    AsyncFileTransport, AsyncTransport as _, Message, Tokio1Executor,
    transport::smtp::{authentication::Credentials, client::TlsParameters},
};

pub(crate) use self::failure::classify_smtp;
pub use self::url::{TlsMode, TransportUrl};
use crate::{
    smtp_pool::{Security, Settings, SmtpPool},
    smtp_tls::ImplicitTls,
};

/// How long connecting or one SMTP transaction may take before the attempt counts as a
/// transient failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a send failed, as far as retrying goes. The text holds no recipient or content.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: connection refused, timeout, SMTP 4xx.
    #[error("{0}")]
    Transient(String),
    /// Will never succeed: SMTP 5xx, a refused recipient.
    #[error("{0}")]
    Permanent(String),
}

/// Why the transport could not be set up. Names the setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The outbox directory cannot be created.
    #[error("MAIL_TRANSPORT: cannot create the outbox {path}: {reason}")]
    Outbox {
        /// The directory.
        path: PathBuf,
        /// Why not.
        reason: std::io::Error,
    },
    /// The relay's TLS settings are unusable.
    #[error("MAIL_TRANSPORT: {0}")]
    Tls(lettre::transport::smtp::Error),
    /// The relay's name cannot be used for TLS.
    #[error("MAIL_TRANSPORT: tls: {0}")]
    ImplicitTls(String),
}

/// A ready transport, shared by all workers (the SMTP one pools its connections).
#[derive(Clone)]
pub enum Transport {
    /// Pooled SMTP, with `TCP_NODELAY` (see `smtp_pool`).
    Smtp(Arc<SmtpPool>),
    /// The outbox directory.
    File(AsyncFileTransport<Tokio1Executor>),
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Smtp(_) => "Transport::Smtp",
            Self::File(_) => "Transport::File",
        })
    }
}

impl Transport {
    /// Builds the transport `url` describes; creates the outbox directory if needed. Connects
    /// lazily: an SMTP server that is down now only delays delivery.
    pub async fn new(url: &TransportUrl, pool_size: u32) -> Result<Self, TransportError> {
        match url {
            TransportUrl::File(path) => {
                tokio::fs::create_dir_all(path)
                    .await
                    .map_err(|reason| TransportError::Outbox {
                        path: path.clone(),
                        reason,
                    })?;
                Ok(Self::File(AsyncFileTransport::new(path)))
            }
            TransportUrl::Smtp {
                host,
                port,
                tls,
                credentials,
            } => {
                let security = match tls {
                    TlsMode::None => Security::None,
                    TlsMode::StartTls => Security::StartTls(
                        TlsParameters::new(host.clone()).map_err(TransportError::Tls)?,
                    ),
                    TlsMode::Tls => Security::Tls(Arc::new(
                        ImplicitTls::new(host).map_err(TransportError::ImplicitTls)?,
                    )),
                };
                Ok(Self::Smtp(Arc::new(SmtpPool::new(Settings {
                    host: host.clone(),
                    port: *port,
                    security,
                    credentials: credentials
                        .as_ref()
                        .map(|(user, password)| Credentials::new(user.clone(), password.clone())),
                    timeout: SMTP_TIMEOUT,
                    max_idle: pool_size as usize,
                }))))
            }
        }
    }

    /// Hands `message` to the relay (or writes it to the outbox).
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Self::Smtp(pool) => pool.send(message.envelope(), &message.formatted()).await,
            Self::File(file) => file
                .send(message)
                .await
                .map(drop)
                .map_err(|error| SendError::Transient(format!("outbox: {error}"))),
        }
    }
}
