//! A client's side: its bearer secret for an upstream (the value itself, or `@/path` to a file
//! holding it, for mounted secrets) and the interceptor that sends it on every call.

use std::fmt;

use tonic::{
    Request, Status,
    metadata::{AsciiMetadataValue, MetadataValue},
    service::Interceptor,
};

/// A bearer secret for one upstream. `Debug` never shows it.
#[derive(Clone)]
pub struct ClientSecret(AsciiMetadataValue);

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// A client secret that cannot be used. The message never holds the secret.
#[derive(Debug, thiserror::Error)]
pub enum ClientSecretError {
    /// Empty, or not printable ASCII.
    #[error("must be a non-empty secret of printable ASCII, or @/path to a file holding one")]
    Malformed,
    /// `@/path` cannot be read.
    #[error("cannot read {path}: {reason}")]
    File {
        /// The file named.
        path: String,
        /// Why it cannot be read.
        reason: std::io::Error,
    },
}

impl ClientSecret {
    /// The secret `setting` holds, or the one in the file `@/path` names (surrounding blanks
    /// and a final newline are not part of it).
    pub fn parse(setting: &str) -> Result<Self, ClientSecretError> {
        let secret = match setting.trim().strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|reason| ClientSecretError::File {
                    path: path.to_owned(),
                    reason,
                })?
                .trim()
                .to_owned(),
            None => setting.trim().to_owned(),
        };
        if secret.is_empty() || !secret.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(ClientSecretError::Malformed);
        }
        let mut value: AsciiMetadataValue = MetadataValue::try_from(format!("Bearer {secret}"))
            .map_err(|_| ClientSecretError::Malformed)?;
        // Kept out of HTTP/2 header compression tables and debug output.
        value.set_sensitive(true);
        Ok(Self(value))
    }
}

/// The interceptor of a client: sends its secret (when it has one), then runs `then` (the
/// trace context propagation).
#[derive(Clone, Debug)]
pub struct Outgoing {
    secret: Option<ClientSecret>,
    then: fn(Request<()>) -> Result<Request<()>, Status>,
}

impl Outgoing {
    /// Sends `secret` on every call, then applies `then`.
    pub fn new(
        secret: Option<ClientSecret>,
        then: fn(Request<()>) -> Result<Request<()>, Status>,
    ) -> Self {
        Self { secret, then }
    }
}

impl Interceptor for Outgoing {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(secret) = &self.secret {
            request
                .metadata_mut()
                .insert("authorization", secret.0.clone());
        }
        (self.then)(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_read_from_a_file_and_never_shown() {
        let path = std::env::temp_dir().join(format!("client-secret-{}", std::process::id()));
        std::fs::write(&path, "from-a-mounted-file\n").unwrap();
        let secret = ClientSecret::parse(&format!("@{}", path.display())).unwrap();
        assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
        let mut outgoing = Outgoing::new(Some(secret), Ok);
        let request = outgoing.call(Request::new(())).unwrap();
        assert_eq!(
            request
                .metadata()
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap(),
            "Bearer from-a-mounted-file"
        );
        assert!(ClientSecret::parse("").is_err());
        assert!(ClientSecret::parse("with space").is_err());
    }
}
