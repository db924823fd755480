//! PEM files into rustls types. What a file holds is never put in an error: a key file that
//! fails to parse may still hold a key.

use std::path::Path;

use rustls::{
    RootCertStore,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _},
};
use sha2::{Digest as _, Sha256};

use super::TlsError;

/// A file's bytes, read once so what is parsed is what was digested.
pub(crate) struct PemFile<'a> {
    variable: &'static str,
    path: &'a Path,
    bytes: Vec<u8>,
}

impl<'a> PemFile<'a> {
    pub(crate) fn read(variable: &'static str, path: &'a Path) -> Result<Self, TlsError> {
        let bytes = std::fs::read(path).map_err(|reason| TlsError::Read {
            variable,
            path: path.to_owned(),
            reason,
        })?;
        Ok(Self {
            variable,
            path,
            bytes,
        })
    }

    /// Feeds the file into `digest`, so a change of any file is seen.
    pub(crate) fn digest_into(&self, digest: &mut Sha256) {
        digest.update((self.bytes.len() as u64).to_be_bytes());
        digest.update(&self.bytes);
    }

    fn invalid(&self, what: &'static str) -> TlsError {
        TlsError::Pem {
            variable: self.variable,
            path: self.path.to_owned(),
            what,
        }
    }

    /// Every certificate in the file, in order (a chain: leaf first).
    pub(crate) fn certificates(&self) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let certificates = CertificateDer::pem_slice_iter(&self.bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| self.invalid("certificate"))?;
        if certificates.is_empty() {
            return Err(self.invalid("certificate"));
        }
        Ok(certificates)
    }

    /// The first private key in the file (PKCS#8, PKCS#1 or SEC1).
    pub(crate) fn private_key(&self) -> Result<PrivateKeyDer<'static>, TlsError> {
        PrivateKeyDer::from_pem_slice(&self.bytes).map_err(|_| self.invalid("private key"))
    }

    /// The file's certificates as trust anchors.
    pub(crate) fn roots(&self) -> Result<RootCertStore, TlsError> {
        let mut roots = RootCertStore::empty();
        for certificate in self.certificates()? {
            roots
                .add(certificate)
                .map_err(|reason| TlsError::refused(&[self.variable], reason))?;
        }
        Ok(roots)
    }
}

/// A short, public fingerprint of a certificate (SHA-256 of its DER, first 8 bytes), to tell
/// in logs which certificate is served.
pub(crate) fn fingerprint(certificate: &CertificateDer<'_>) -> String {
    hex::encode(&Sha256::digest(certificate.as_ref())[..8])
}
