//! A server's TLS: the rustls config built from its files, swapped whole when they change
//! (every new connection gets the current one; live connections keep theirs), and the stream
//! of handshaken connections that tonic's `serve_with_incoming` serves from.

use std::{sync::Arc, time::Duration};

use arc_swap::ArcSwap;
use rustls::{ServerConfig, server::WebPkiClientVerifier};
use sha2::{Digest as _, Sha256};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{Semaphore, mpsc},
};
use tokio_rustls::{TlsAcceptor, server::TlsStream};
use tokio_stream::wrappers::ReceiverStream;

use super::{
    ALPN_H2, ServerTlsSettings, TlsError,
    pem::{PemFile, fingerprint},
    provider,
    verify::CaOrOwnCertificate,
    watch::{Changes, Reloads, digest_of},
};

/// Longest a client may take over its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes under way at once; beyond them, connections wait in the listen backlog.
const MAX_HANDSHAKES: usize = 256;

/// A server's current TLS config and the files it comes from.
#[derive(Clone, Debug)]
pub struct ServerTls {
    settings: ServerTlsSettings,
    current: Arc<ArcSwap<ServerConfig>>,
    /// The digest of the files the first config came from.
    started_from: [u8; 32],
}

/// One reading of the files: the config they make and their digest.
struct Loaded {
    config: ServerConfig,
    digest: [u8; 32],
    fingerprint: String,
}

impl ServerTls {
    /// Reads the files; an unusable one stops the start, naming its variable.
    pub fn load(settings: ServerTlsSettings) -> Result<Self, TlsError> {
        let loaded = load(&settings)?;
        tracing::info!(
            certificate = %loaded.fingerprint,
            mutual = settings.client_ca.is_some(),
            "gRPC TLS on"
        );
        Ok(Self {
            settings,
            current: Arc::new(ArcSwap::from_pointee(loaded.config)),
            started_from: loaded.digest,
        })
    }

    /// The connections accepted on `listener`, each handshaken with the config current when it
    /// arrived. The files are watched for as long as the stream lives. A failed handshake (a
    /// client without a certificate under mutual TLS, a wrong CA, a timeout) drops that
    /// connection only.
    pub fn incoming(
        self,
        listener: TcpListener,
    ) -> ReceiverStream<Result<TlsStream<TcpStream>, std::io::Error>> {
        let (sender, receiver) = mpsc::channel(64);
        tokio::spawn(self.accept_until_dropped(listener, sender));
        ReceiverStream::new(receiver)
    }

    async fn accept_until_dropped(
        self,
        listener: TcpListener,
        sender: mpsc::Sender<Result<TlsStream<TcpStream>, std::io::Error>>,
    ) {
        let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
        let mut reload = Reloads::new();
        let mut changes = Changes::since(self.started_from);
        loop {
            let permit = tokio::select! {
                () = sender.closed() => return,
                () = reload.next() => {
                    self.reload(&mut changes);
                    continue;
                }
                permit = handshakes.clone().acquire_owned() => permit,
            };
            let Ok(permit) = permit else { return };
            let accepted = tokio::select! {
                () = sender.closed() => return,
                () = reload.next() => {
                    self.reload(&mut changes);
                    continue;
                }
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                // As tonic does on listeners it binds: an answer written in two segments must
                // not wait for the client's delayed ACK.
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    stream
                }
                Err(error) => {
                    // Out of descriptors, most likely: pause rather than spin.
                    tracing::warn!(%error, "cannot accept a gRPC connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let acceptor = TlsAcceptor::from(self.current.load_full());
            let sender = sender.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => {
                        let _ = sender.send(Ok(stream)).await;
                    }
                    Ok(Err(error)) => tracing::debug!(%error, "gRPC TLS handshake refused"),
                    Err(_) => tracing::debug!("gRPC TLS handshake timed out"),
                }
                drop(permit);
            });
        }
    }

    /// Swaps the config in when the files changed and make a usable one.
    fn reload(&self, changes: &mut Changes) {
        let loaded = changes.check(digest_of(&self.paths()), || {
            load(&self.settings).map(|loaded| {
                let digest = loaded.digest;
                (loaded, digest)
            })
        });
        if let Some(loaded) = loaded {
            self.current.store(Arc::new(loaded.config));
            tracing::info!(certificate = %loaded.fingerprint, "gRPC TLS certificate reloaded");
        }
    }

    /// The files, with their variables.
    fn paths(&self) -> Vec<(&'static str, &std::path::Path)> {
        let variables = self.settings.variables;
        let mut paths = vec![
            (variables.cert, self.settings.cert.as_path()),
            (variables.key, self.settings.key.as_path()),
        ];
        if let Some(client_ca) = &self.settings.client_ca {
            paths.push((variables.ca, client_ca.as_path()));
        }
        paths
    }
}

fn files(settings: &ServerTlsSettings) -> Result<Vec<PemFile<'_>>, TlsError> {
    let variables = settings.variables;
    let mut files = vec![
        PemFile::read(variables.cert, &settings.cert)?,
        PemFile::read(variables.key, &settings.key)?,
    ];
    if let Some(client_ca) = &settings.client_ca {
        files.push(PemFile::read(variables.ca, client_ca)?);
    }
    Ok(files)
}

/// The config the files make now.
fn load(settings: &ServerTlsSettings) -> Result<Loaded, TlsError> {
    let variables = settings.variables;
    let files = files(settings)?;
    let mut digest = Sha256::new();
    for file in &files {
        file.digest_into(&mut digest);
    }
    let chain = files[0].certificates()?;
    let key = files[1].private_key()?;
    let leaf = chain[0].clone();
    let refused = |reason| TlsError::refused(&[variables.cert, variables.key], reason);
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(refused)?;
    let builder = match files.get(2) {
        None => builder.with_no_client_auth(),
        Some(client_ca) => {
            let ca = WebPkiClientVerifier::builder_with_provider(
                Arc::new(client_ca.roots()?),
                provider(),
            )
            .build()
            .map_err(|reason| TlsError::refused(&[variables.ca], reason))?;
            builder.with_client_cert_verifier(Arc::new(CaOrOwnCertificate {
                ca,
                own: leaf.clone(),
            }))
        }
    };
    let mut config = builder.with_single_cert(chain, key).map_err(refused)?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Loaded {
        config,
        digest: digest.finalize().into(),
        fingerprint: fingerprint(&leaf),
    })
}

#[cfg(test)]
mod tests {
    use passreset_testkit::TestCa;

    use super::*;
    use crate::TlsVariables;

    const VARIABLES: TlsVariables = TlsVariables {
        cert: "X_GRPC_TLS_CERT",
        key: "X_GRPC_TLS_KEY",
        ca: "X_GRPC_TLS_CLIENT_CA",
    };

    fn settings(dir: &std::path::Path, client_ca: bool) -> ServerTlsSettings {
        ServerTlsSettings {
            cert: dir.join("server.crt"),
            key: dir.join("server.key"),
            client_ca: client_ca.then(|| dir.join("ca.crt")),
            variables: VARIABLES,
        }
    }

    #[test]
    fn unusable_files_are_refused_naming_the_variable_and_never_showing_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new("test CA");
        let (first, second) = (ca.issue("one"), ca.issue("two"));
        first.write(dir.path(), "server");
        ca.write(dir.path(), "ca.crt");
        assert!(ServerTls::load(settings(dir.path(), true)).is_ok());

        // A key that is not the certificate's.
        std::fs::write(dir.path().join("server.key"), &second.key_pem).unwrap();
        let error = ServerTls::load(settings(dir.path(), false))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("X_GRPC_TLS_CERT, X_GRPC_TLS_KEY: "),
            "{error}"
        );

        // Not PEM at all, with something secret-looking inside.
        std::fs::write(dir.path().join("server.key"), "hunter2-not-a-key").unwrap();
        let error = ServerTls::load(settings(dir.path(), false))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("X_GRPC_TLS_KEY: "), "{error}");
        assert!(error.contains("holds no valid PEM private key"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");

        // A missing client CA.
        first.write(dir.path(), "server");
        std::fs::remove_file(dir.path().join("ca.crt")).unwrap();
        let error = ServerTls::load(settings(dir.path(), true))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("X_GRPC_TLS_CLIENT_CA: cannot read "),
            "{error}"
        );
    }
}
