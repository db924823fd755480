//! [`TestCa`]: a certificate authority made in the test, and the certificates it issues, written
//! as PEM files the services are configured with; [`TestTls`]: one such CA with a server and a
//! client certificate already written to a temporary directory (what a TLS Redis needs).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A CA of the test's own.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// A certificate the CA issued, with its key.
#[derive(Clone, Debug)]
pub struct IssuedCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM (PKCS#8).
    pub key_pem: String,
    /// The certificate, DER: what a peer sees in the handshake.
    pub der: Vec<u8>,
}

impl TestCa {
    /// A fresh CA named `name`.
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a CA key");
        Self {
            issuer: CertifiedIssuer::self_signed(params, key).expect("a self-signed CA"),
        }
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate for `127.0.0.1` and `localhost`, valid both to serve and to present as a
    /// client (a passreset service uses one certificate for both), with a fresh key.
    pub fn issue(&self, name: &str) -> IssuedCert {
        self.issue_for(name, &["127.0.0.1", "localhost"])
    }

    /// As [`Self::issue`], for the host names (or addresses) `hosts`. `name` is its subject:
    /// one equal to its issuer's looks self-signed to OpenSSL (redis-server), which then
    /// refuses it as from an unknown CA.
    pub fn issue_for(&self, name: &str, hosts: &[&str]) -> IssuedCert {
        let hosts: Vec<String> = hosts.iter().map(|host| (*host).to_owned()).collect();
        let mut params = CertificateParams::new(hosts).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().expect("a leaf key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("the CA signs the leaf");
        IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }

    /// Writes the CA certificate to `dir/<file>` and returns the path.
    pub fn write(&self, dir: &Path, file: &str) -> PathBuf {
        write(dir, file, &self.pem())
    }
}

impl IssuedCert {
    /// Writes the certificate and key to `dir/<stem>.crt` and `dir/<stem>.key`, replacing
    /// what is there (as a rotation does), and returns the two paths.
    pub fn write(&self, dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
        (
            write(dir, &format!("{stem}.crt"), &self.cert_pem),
            write(dir, &format!("{stem}.key"), &self.key_pem),
        )
    }
}

/// A test CA and a server and a client certificate it signed, on disk in a temporary directory
/// removed when dropped.
#[derive(Debug)]
pub struct TestTls {
    dir: tempfile::TempDir,
}

impl TestTls {
    /// A fresh CA, server certificate (`127.0.0.1`, `localhost`) and client certificate.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let ca = TestCa::new("passreset test ca");
        ca.write(dir.path(), "ca.pem");
        ca.issue("passreset test server")
            .write(dir.path(), "server");
        ca.issue_for("passreset test client", &["client.test"])
            .write(dir.path(), "client");
        Self { dir }
    }

    /// The CA certificate (what `REDIS_TLS_CA` names).
    pub fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }

    /// The server certificate and its key.
    pub fn server(&self) -> (PathBuf, PathBuf) {
        (self.path("server.crt"), self.path("server.key"))
    }

    /// The client certificate and its key (what `REDIS_TLS_CERT` and `REDIS_TLS_KEY` name).
    pub fn client(&self) -> (PathBuf, PathBuf) {
        (self.path("client.crt"), self.path("client.key"))
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

/// Writes `content` to `dir/file` through a rename, so a reader sees the old file or the new
/// one, never half of one.
fn write(dir: &Path, file: &str, content: &str) -> PathBuf {
    let path = dir.join(file);
    let partial = dir.join(format!(".{file}.partial"));
    std::fs::write(&partial, content).expect("write a TLS file");
    std::fs::rename(&partial, &path).expect("move a TLS file in place");
    path
}
