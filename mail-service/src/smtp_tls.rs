//! TLS from the first byte (`tls=tls`, SMTPS) over a socket we opened, so it can have
//! `TCP_NODELAY` (see `smtp_pool`): rustls with the webpki roots and ring, as lettre's own
//! rustls setup uses by default.

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use lettre::transport::smtp::client::AsyncTokioStream;
use rustls::pki_types::ServerName;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tokio_rustls::{TlsConnector, client::TlsStream};

/// The TLS client for one relay.
pub(crate) struct ImplicitTls {
    connector: TlsConnector,
    server: ServerName<'static>,
}

impl ImplicitTls {
    /// A client that verifies `host`'s certificate against the webpki roots.
    pub(crate) fn new(host: &str) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let server = ServerName::try_from(host.to_owned()).map_err(|error| error.to_string())?;
        Ok(Self {
            connector: TlsConnector::from(Arc::new(config)),
            server,
        })
    }

    /// The TLS handshake over `tcp`.
    pub(crate) async fn wrap(&self, tcp: TcpStream) -> io::Result<Tls> {
        Ok(Tls(self
            .connector
            .connect(self.server.clone(), tcp)
            .await?))
    }
}

/// A TLS stream lettre can speak SMTP over.
#[derive(Debug)]
pub(crate) struct Tls(TlsStream<TcpStream>);

impl AsyncTokioStream for Tls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for Tls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
