//! SMTP connections with `TCP_NODELAY`, reused by the workers.
//!
//! lettre's pooled transport opens its sockets without `TCP_NODELAY`, so the last small write
//! of each message (`.` after the body) waits for the server's delayed ACK: ~40 ms a mail,
//! whatever the hardware (91 mails/s from 4 workers). lettre lets a caller bring its own stream
//! (`AsyncSmtpConnection::connect_with_transport`), so this opens the socket itself, sets
//! `TCP_NODELAY`, wraps it in TLS from the first byte for `tls=tls`, and leaves EHLO, STARTTLS,
//! AUTH and the transaction to lettre. Idle connections are kept, one per worker at most.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use lettre::{
    address::Envelope,
    transport::smtp::{
        authentication::{Credentials, DEFAULT_MECHANISMS},
        client::{AsyncSmtpConnection, TlsParameters},
        extension::ClientId,
    },
};
use tokio::net::TcpStream;

use crate::{smtp_tls::ImplicitTls, transport::SendError};

/// A connection idle this long is asked `NOOP` before it carries a mail: the server may have
/// hung up meanwhile. A busy connection is reused without the extra round trip.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(2);
/// A connection idle this long is closed rather than reused (as lettre's pool does).
const CLOSE_AFTER_IDLE: Duration = Duration::from_secs(60);

/// How a connection is secured, with what it needs for TLS.
#[derive(Clone)]
pub(crate) enum Security {
    /// Plain text.
    None,
    /// STARTTLS, required.
    StartTls(TlsParameters),
    /// TLS from the first byte, for this server name.
    Tls(Arc<ImplicitTls>),
}

/// Where and how to connect; one per transport.
pub(crate) struct Settings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<Credentials>,
    /// How long connecting (TCP, TLS, EHLO, AUTH) or one transaction may take.
    pub timeout: Duration,
    /// Idle connections kept at most (the number of workers).
    pub max_idle: usize,
}

/// The shared pool: settings and the idle connections.
pub struct SmtpPool {
    settings: Settings,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl std::fmt::Debug for SmtpPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credentials.
        write!(f, "SmtpPool({}:{})", self.settings.host, self.settings.port)
    }
}

impl SmtpPool {
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            settings,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends one message on an idle connection or a new one; keeps the connection if it is
    /// still good afterwards.
    pub(crate) async fn send(&self, envelope: &Envelope, email: &[u8]) -> Result<(), SendError> {
        let timeout = self.settings.timeout;
        let mut connection = self.checkout().await?;
        let sent = tokio::time::timeout(timeout, connection.send(envelope, email)).await;
        match sent {
            Ok(Ok(_)) => {
                self.checkin(connection);
                Ok(())
            }
            Ok(Err(error)) => {
                // lettre has sent QUIT on a broken connection; a refused message leaves it usable.
                if !connection.has_broken() {
                    self.checkin(connection);
                }
                Err(crate::transport::classify_smtp(error))
            }
            Err(_) => Err(SendError::Transient("smtp: timeout".to_owned())),
        }
    }

    async fn checkout(&self) -> Result<AsyncSmtpConnection, SendError> {
        loop {
            let idle = self.lock().pop();
            let Some((mut connection, since)) = idle else {
                return tokio::time::timeout(self.settings.timeout, self.connect())
                    .await
                    .map_err(|_| SendError::Transient("smtp: timeout".to_owned()))?;
            };
            let idle_for = since.elapsed();
            if idle_for >= CLOSE_AFTER_IDLE {
                connection.abort().await;
            } else if idle_for < CHECK_AFTER_IDLE || connection.test_connected().await {
                return Ok(connection);
            }
        }
    }

    fn checkin(&self, connection: AsyncSmtpConnection) {
        let mut idle = self.lock();
        if idle.len() < self.settings.max_idle {
            idle.push((connection, Instant::now()));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(AsyncSmtpConnection, Instant)>> {
        // A panic elsewhere while holding the lock leaves a plain list: still usable.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let settings = &self.settings;
        let failed = |_| SendError::Transient("smtp: connection failed".to_owned());
        let tcp = TcpStream::connect((settings.host.as_str(), settings.port))
            .await
            .map_err(failed)?;
        tcp.set_nodelay(true).map_err(failed)?;
        let hello = ClientId::default();
        let mut connection = match &settings.security {
            Security::Tls(tls) => {
                let stream = tls
                    .wrap(tcp)
                    .await
                    .map_err(|_| SendError::Transient("smtp: tls failed".to_owned()))?;
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello).await
            }
            Security::None | Security::StartTls(_) => {
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello).await
            }
        }
        .map_err(crate::transport::classify_smtp)?;
        if let Security::StartTls(parameters) = &settings.security {
            connection
                .starttls(parameters.clone(), &hello)
                .await
                .map_err(crate::transport::classify_smtp)?;
        }
        if let Some(credentials) = &settings.credentials {
            connection
                .auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(crate::transport::classify_smtp)?;
        }
        Ok(connection)
    }
}
