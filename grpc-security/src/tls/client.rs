//! A client's TLS: its `https://` upstream channels, each connection made with the rustls
//! config current at that moment (the CA that signs the servers, the client certificate for
//! mutual TLS), re-read when the files change as a server's are; and the channel of the
//! `healthcheck` subcommand, which trusts exactly its own service's certificate.
//!
//! tonic's own client TLS is fixed when the channel is made, so an `https://` URL is dialled
//! through a connector of ours, and tonic is given the same address as `http://`.

use std::{
    net::SocketAddr,
    sync::{Arc, Weak},
};

use arc_swap::ArcSwap;
use http::Uri;
use hyper_util::rt::TokioIo;
use rustls::{ClientConfig, RootCertStore, pki_types::ServerName};
use sha2::{Digest as _, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};

use super::{
    ALPN_H2, ClientTlsSettings, ServerTlsSettings, TlsError,
    pem::PemFile,
    provider,
    verify::Pinned,
    watch::{Changes, Reloads, digest_of},
};

/// The TLS of a client's upstreams.
#[derive(Clone, Debug)]
pub struct ClientTls {
    current: Arc<ArcSwap<ClientConfig>>,
}

/// An upstream URL that cannot be dialled.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamUrlError {
    /// Not a URL tonic takes.
    #[error("{0}")]
    Invalid(String),
    /// No host to dial.
    #[error("has no host")]
    NoHost,
}

impl ClientTls {
    /// Reads the files; an unusable one stops the start, naming its variable. Inside a tokio
    /// runtime the files are then watched for as long as a clone of this lives.
    pub fn load(settings: &ClientTlsSettings) -> Result<Self, TlsError> {
        let (config, digest) = load(settings)?;
        let current = Arc::new(ArcSwap::from_pointee(config));
        if settings.variables.is_some()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(watch(Arc::downgrade(&current), settings.clone(), digest));
        }
        Ok(Self { current })
    }

    /// A lazily connected channel to `url`, set up by `configure` (timeouts, keep-alive). An
    /// `https://` URL is reached over TLS, each connection with the config current then.
    pub fn connect_lazy(
        &self,
        url: &str,
        configure: impl FnOnce(Endpoint) -> Endpoint,
    ) -> Result<Channel, UpstreamUrlError> {
        let uri: Uri = url
            .parse()
            .map_err(|error: http::uri::InvalidUri| UpstreamUrlError::Invalid(error.to_string()))?;
        let host = uri.host().ok_or(UpstreamUrlError::NoHost)?.to_owned();
        if uri.scheme_str() != Some("https") {
            let endpoint = Endpoint::from_shared(url.to_owned())
                .map_err(|error| UpstreamUrlError::Invalid(error.to_string()))?;
            return Ok(configure(endpoint).connect_lazy());
        }
        let port = uri.port_u16().unwrap_or(443);
        let name = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let server_name = ServerName::try_from(name.clone())
            .map_err(|error| UpstreamUrlError::Invalid(error.to_string()))?;
        let endpoint = Endpoint::from_shared(format!("http://{host}:{port}"))
            .map_err(|error| UpstreamUrlError::Invalid(error.to_string()))?;
        let current = self.current.clone();
        let connect = tower::service_fn(move |_: Uri| {
            let (current, server_name, name) = (current.clone(), server_name.clone(), name.clone());
            async move {
                let tcp = TcpStream::connect((name.as_str(), port)).await?;
                tcp.set_nodelay(true)?;
                let tls = TlsConnector::from(current.load_full())
                    .connect(server_name, tcp)
                    .await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        });
        Ok(configure(endpoint).connect_with_connector_lazy(connect))
    }
}

/// Reads the files again while the client lives, swapping the config in when they change.
async fn watch(
    current: Weak<ArcSwap<ClientConfig>>,
    settings: ClientTlsSettings,
    started_from: [u8; 32],
) {
    let mut reloads = Reloads::new();
    let mut changes = Changes::since(started_from);
    loop {
        reloads.next().await;
        let Some(current) = current.upgrade() else {
            return;
        };
        if let Some(config) = changes.check(digest_of(&paths(&settings)), || load(&settings)) {
            current.store(Arc::new(config));
            tracing::info!("gRPC client TLS files reloaded");
        }
    }
}

/// The files, with their variables.
fn paths(settings: &ClientTlsSettings) -> Vec<(&'static str, &std::path::Path)> {
    let Some(variables) = settings.variables else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    if let Some(ca) = &settings.ca {
        paths.push((variables.ca, ca.as_path()));
    }
    if let Some((cert, key)) = &settings.identity {
        paths.push((variables.cert, cert.as_path()));
        paths.push((variables.key, key.as_path()));
    }
    paths
}

/// The config the files make now, and the digest of what was read.
fn load(settings: &ClientTlsSettings) -> Result<(ClientConfig, [u8; 32]), TlsError> {
    let mut digest = Sha256::new();
    let variables = settings.variables;
    let roots = match (&settings.ca, variables) {
        (Some(ca), Some(variables)) => {
            let file = PemFile::read(variables.ca, ca)?;
            file.digest_into(&mut digest);
            file.roots()?
        }
        _ => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|reason| TlsError::refused(&["gRPC client TLS"], reason))?
        .with_root_certificates(roots);
    let mut config = match (&settings.identity, variables) {
        (Some((cert, key)), Some(variables)) => {
            let cert = PemFile::read(variables.cert, cert)?;
            let key = PemFile::read(variables.key, key)?;
            cert.digest_into(&mut digest);
            key.digest_into(&mut digest);
            builder
                .with_client_auth_cert(cert.certificates()?, key.private_key()?)
                .map_err(|reason| TlsError::refused(&[variables.cert, variables.key], reason))?
        }
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok((config, digest.finalize().into()))
}

/// An error and its sources on one line (tonic's own message is only "transport error").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

/// A connected channel to the service on this host at `addr` that serves `settings`: it trusts
/// the certificate in the service's own file (no name check: it dials an address) and presents
/// that certificate when asked for one (the server accepts its own certificate).
pub async fn probe_channel(
    addr: SocketAddr,
    settings: &ServerTlsSettings,
) -> Result<Channel, String> {
    let variables = settings.variables;
    let cert = PemFile::read(variables.cert, &settings.cert).map_err(|error| error.to_string())?;
    let key = PemFile::read(variables.key, &settings.key).map_err(|error| error.to_string())?;
    let chain = cert.certificates().map_err(|error| error.to_string())?;
    let key = key.private_key().map_err(|error| error.to_string())?;
    let provider = provider();
    let verifier = Pinned {
        certificate: chain[0].clone(),
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(chain, key)
        .map_err(|error| format!("{}, {}: {error}", variables.cert, variables.key))?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    let connector = TlsConnector::from(Arc::new(config));
    let connect = tower::service_fn(move |_: http::Uri| {
        let connector = connector.clone();
        async move {
            let tcp = TcpStream::connect(addr).await?;
            let tls = connector
                .connect(ServerName::IpAddress(addr.ip().into()), tcp)
                .await?;
            Ok::<_, std::io::Error>(TokioIo::new(tls))
        }
    });
    Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|error| format!("bad address {addr}: {error}"))?
        .connect_with_connector(connect)
        .await
        .map_err(|error| format!("cannot connect to {addr} over TLS: {}", error_chain(&error)))
}
