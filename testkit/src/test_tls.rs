//! TLS material made in the test: a CA, a server certificate for `127.0.0.1`/`localhost` and a
//! client certificate, as PEM files in a temporary directory removed when dropped.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// A test CA and the certificates it signed, on disk.
#[derive(Debug)]
pub struct TestTls {
    dir: tempfile::TempDir,
}

impl TestTls {
    /// A fresh CA, server certificate and client certificate.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // Each certificate its own subject: one whose subject equals its issuer's looks
        // self-signed to OpenSSL (redis-server), which then refuses it as from an unknown CA.
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "passreset test ca");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("ca key"))
            .expect("ca certificate");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("write ca");
        for (name, names) in [
            (
                "server",
                vec!["127.0.0.1".to_owned(), "localhost".to_owned()],
            ),
            ("client", vec!["client.test".to_owned()]),
        ] {
            let key = KeyPair::generate().expect("key");
            let mut params = CertificateParams::new(names).expect("params");
            params
                .distinguished_name
                .push(DnType::CommonName, format!("passreset test {name}"));
            let certificate = params.signed_by(&key, &ca).expect("certificate");
            std::fs::write(dir.path().join(format!("{name}.pem")), certificate.pem())
                .expect("write certificate");
            std::fs::write(dir.path().join(format!("{name}.key")), key.serialize_pem())
                .expect("write key");
        }
        Self { dir }
    }

    /// The CA certificate (what `REDIS_TLS_CA` names).
    pub fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }

    /// The server certificate and its key.
    pub fn server(&self) -> (PathBuf, PathBuf) {
        (self.path("server.pem"), self.path("server.key"))
    }

    /// The client certificate and its key (what `REDIS_TLS_CERT` and `REDIS_TLS_KEY` name).
    pub fn client(&self) -> (PathBuf, PathBuf) {
        (self.path("client.pem"), self.path("client.key"))
    }

    /// The directory holding every file.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Default for TestTls {
    fn default() -> Self {
        Self::new()
    }
}
