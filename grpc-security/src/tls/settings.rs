//! The TLS settings of a server and of a client, checked at start: a certificate needs its key
//! (and the reverse), a client CA needs a certificate to serve. Errors name the variables and
//! paths, never what the files hold.

use std::path::{Path, PathBuf};

/// The variables a service reads its TLS files from, for error lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsVariables {
    /// The certificate chain (PEM).
    pub cert: &'static str,
    /// Its private key (PEM).
    pub key: &'static str,
    /// A server's: the CA that signs its clients' certificates. A client's: the CA that signs
    /// its upstreams' certificates.
    pub ca: &'static str,
}

/// Why TLS cannot be set up. The message names the variable to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate without a key, or a key without a certificate.
    #[error("{cert} and {key} must be set together (PEM files)")]
    Unpaired {
        /// The certificate's variable.
        cert: &'static str,
        /// The key's variable.
        key: &'static str,
    },
    /// A client CA on a server that serves no TLS.
    #[error("{ca} needs {cert} and {key}: mutual TLS is TLS with client certificates")]
    CaWithoutCert {
        /// The client CA's variable.
        ca: &'static str,
        /// The certificate's variable.
        cert: &'static str,
        /// The key's variable.
        key: &'static str,
    },
    /// A file cannot be read.
    #[error("{variable}: cannot read {path}: {reason}")]
    Read {
        /// The variable naming the file.
        variable: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: std::io::Error,
    },
    /// A file holds no usable PEM item of the kind expected. Its content is never shown.
    #[error("{variable}: {path} holds no valid PEM {what}")]
    Pem {
        /// The variable naming the file.
        variable: &'static str,
        /// The file.
        path: PathBuf,
        /// What it should hold.
        what: &'static str,
    },
    /// rustls refuses the material: a key that does not match its certificate, an
    /// unsupported key type, a CA that is not a CA.
    #[error("{variables}: {reason}")]
    Refused {
        /// The variables involved.
        variables: String,
        /// rustls's reason (it never holds key material).
        reason: String,
    },
}

impl TlsError {
    pub(crate) fn refused(variables: &[&'static str], reason: impl std::fmt::Display) -> Self {
        Self::Refused {
            variables: variables.join(", "),
            reason: reason.to_string(),
        }
    }
}

/// A server's TLS files: its certificate and key, and for mutual TLS the client CA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTlsSettings {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
    /// Set: every client must present a certificate this CA signs.
    pub client_ca: Option<PathBuf>,
    /// Where these came from.
    pub variables: TlsVariables,
}

impl ServerTlsSettings {
    /// The server's TLS from its three settings: `None` when it serves plaintext.
    pub fn from_paths(
        cert: Option<&Path>,
        key: Option<&Path>,
        client_ca: Option<&Path>,
        variables: TlsVariables,
    ) -> Result<Option<Self>, TlsError> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(Self {
                cert: cert.to_owned(),
                key: key.to_owned(),
                client_ca: client_ca.map(Path::to_owned),
                variables,
            })),
            (None, None) if client_ca.is_some() => Err(TlsError::CaWithoutCert {
                ca: variables.ca,
                cert: variables.cert,
                key: variables.key,
            }),
            (None, None) => Ok(None),
            _ => Err(TlsError::Unpaired {
                cert: variables.cert,
                key: variables.key,
            }),
        }
    }
}

/// A client's TLS files, used for its `https://` upstreams: the CA that signs the servers
/// (unset: the public web roots) and the certificate it presents for mutual TLS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientTlsSettings {
    /// The CA that signs the upstreams' certificates.
    pub ca: Option<PathBuf>,
    /// The client certificate and its key, sent when a server asks for one.
    pub identity: Option<(PathBuf, PathBuf)>,
    /// Where these came from (`None` for a client that was given no TLS settings at all).
    pub variables: Option<TlsVariables>,
}

impl ClientTlsSettings {
    /// A client's TLS from its three settings.
    pub fn from_paths(
        ca: Option<&Path>,
        cert: Option<&Path>,
        key: Option<&Path>,
        variables: TlsVariables,
    ) -> Result<Self, TlsError> {
        let identity = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert.to_owned(), key.to_owned())),
            (None, None) => None,
            _ => {
                return Err(TlsError::Unpaired {
                    cert: variables.cert,
                    key: variables.key,
                });
            }
        };
        Ok(Self {
            ca: ca.map(Path::to_owned),
            identity,
            variables: Some(variables),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARIABLES: TlsVariables = TlsVariables {
        cert: "X_GRPC_TLS_CERT",
        key: "X_GRPC_TLS_KEY",
        ca: "X_GRPC_TLS_CLIENT_CA",
    };

    #[test]
    fn a_certificate_without_its_key_is_refused_naming_both_variables() {
        let path = Path::new("/etc/tls/cert.pem");
        for (cert, key) in [(Some(path), None), (None, Some(path))] {
            let error = ServerTlsSettings::from_paths(cert, key, None, VARIABLES)
                .unwrap_err()
                .to_string();
            assert_eq!(
                error,
                "X_GRPC_TLS_CERT and X_GRPC_TLS_KEY must be set together (PEM files)"
            );
            let error = ClientTlsSettings::from_paths(None, cert, key, VARIABLES)
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with("X_GRPC_TLS_CERT and X_GRPC_TLS_KEY"),
                "{error}"
            );
        }
        let error = ServerTlsSettings::from_paths(None, None, Some(path), VARIABLES)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("X_GRPC_TLS_CLIENT_CA needs"), "{error}");
        assert_eq!(
            ServerTlsSettings::from_paths(None, None, None, VARIABLES).unwrap(),
            None
        );
    }
}
