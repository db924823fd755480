//! A client's TLS: its `https://` upstream channels (tonic's rustls TLS, with the CA that signs
//! the servers and the client certificate for mutual TLS), and the channel of the
//! `healthcheck` subcommand, which trusts exactly its own service's certificate.

use std::{net::SocketAddr, sync::Arc};

use hyper_util::rt::TokioIo;
use rustls::{ClientConfig, pki_types::ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use super::{
    ALPN_H2, ClientTlsSettings, ServerTlsSettings, TlsError, pem::PemFile, provider, verify::Pinned,
};

/// The TLS of a client's upstreams, read once at start.
#[derive(Clone, Debug)]
pub struct ClientTls {
    config: ClientTlsConfig,
    /// The CA's variable, for errors of a URL that uses it.
    ca_variable: &'static str,
}

impl Default for ClientTls {
    /// The public web roots and no client certificate.
    fn default() -> Self {
        Self {
            config: ClientTlsConfig::new().with_webpki_roots(),
            ca_variable: "the upstream's TLS",
        }
    }
}

impl ClientTls {
    /// Reads the files; an unusable one stops the start, naming its variable.
    pub fn load(settings: &ClientTlsSettings) -> Result<Self, TlsError> {
        let Some(variables) = settings.variables else {
            return Ok(Self::default());
        };
        let mut config = ClientTlsConfig::new();
        config = match &settings.ca {
            Some(ca) => {
                let file = PemFile::read(variables.ca, ca)?;
                file.certificates()?;
                config.ca_certificate(Certificate::from_pem(file.bytes()))
            }
            None => config.with_webpki_roots(),
        };
        if let Some((cert, key)) = &settings.identity {
            let cert = PemFile::read(variables.cert, cert)?;
            let key = PemFile::read(variables.key, key)?;
            cert.certificates()?;
            key.private_key()?;
            config = config.identity(Identity::from_pem(cert.bytes(), key.bytes()));
        }
        Ok(Self {
            config,
            ca_variable: variables.ca,
        })
    }

    /// `endpoint`, speaking TLS when its URL is `https://`.
    pub fn apply(&self, endpoint: Endpoint) -> Result<Endpoint, TlsError> {
        if endpoint.uri().scheme_str() != Some("https") {
            return Ok(endpoint);
        }
        endpoint
            .tls_config(self.config.clone())
            .map_err(|error| TlsError::refused(&[self.ca_variable], error_chain(&error)))
    }
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
