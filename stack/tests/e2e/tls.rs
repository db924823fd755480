//! gRPC over TLS and mutual TLS, with a CA made in the test: the whole persona flow (and the
//! mail service's revocation call) runs over both, a client without a certificate is refused at
//! the handshake, and a rotated certificate is served without a restart.

use std::{path::Path, sync::Arc, time::Duration};

use passreset_grpc_security::{ClientTls, ClientTlsSettings, TlsVariables};
use passreset_testkit::{IssuedCert, TestCa, test_redis};
use reqwest::StatusCode;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::{Secrets, TestApp, spawn_app_wired, token_in};

const EMAIL: &str = "ada@example.com";
const UNDELIVERABLE: &str = "bounced@example.com";
const OLD_PASSWORD: &str = "old-Secret-Passw0rd-1";
const NEW_PASSWORD: &str = "violet-Harbour-Quokka-77";

/// The TLS files of one test: a CA, a certificate per service (and the test's own client).
struct Pki {
    dir: tempfile::TempDir,
    ca: TestCa,
}

impl Pki {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            ca: TestCa::new("passreset test CA"),
        }
    }

    fn path(&self, file: &str) -> String {
        self.dir.path().join(file).display().to_string()
    }

    /// Issues `name`'s certificate to `<name>.crt`/`<name>.key`.
    fn issue(&self, name: &str) -> IssuedCert {
        let cert = self.ca.issue(name);
        cert.write(self.dir.path(), name);
        cert
    }

    /// A client trusting the CA, presenting `identity`'s certificate if any.
    fn client(&self, identity: Option<&str>) -> ClientTls {
        let ca = self.ca.write(self.dir.path(), "ca.crt");
        let (cert, key) = match identity {
            Some(name) => (
                Some(self.path(&format!("{name}.crt"))),
                Some(self.path(&format!("{name}.key"))),
            ),
            None => (None, None),
        };
        ClientTls::load(
            &ClientTlsSettings::from_paths(
                Some(&ca),
                cert.as_deref().map(Path::new),
                key.as_deref().map(Path::new),
                TlsVariables {
                    cert: "TEST_CERT",
                    key: "TEST_KEY",
                    ca: "TEST_CA",
                },
            )
            .unwrap(),
        )
        .unwrap()
    }
}

/// A secured passreset whose gRPC runs over TLS, and with `mutual` over mutual TLS.
async fn spawn_app_over_tls(pki: &Pki, mutual: bool) -> TestApp {
    let secrets = Secrets::fresh();
    for name in ["token", "mail", "gateway", "admin"] {
        pki.issue(name);
    }
    pki.ca.write(pki.dir.path(), "ca.crt");
    let (token_callers, mail_callers) = (secrets.token_callers(), secrets.mail_callers());
    let (token_cert, token_key) = (pki.path("token.crt"), pki.path("token.key"));
    let (mail_cert, mail_key) = (pki.path("mail.crt"), pki.path("mail.key"));
    let (gateway_cert, gateway_key) = (pki.path("gateway.crt"), pki.path("gateway.key"));
    let ca = pki.path("ca.crt");
    let mut token_flags = vec![
        "--grpc-callers",
        &token_callers,
        "--grpc-tls-cert",
        &token_cert,
        "--grpc-tls-key",
        &token_key,
    ];
    let mut mail_flags = vec![
        "--grpc-callers",
        &mail_callers,
        "--token-service-secret",
        &secrets.mail_to_tokens,
        "--grpc-tls-cert",
        &mail_cert,
        "--grpc-tls-key",
        &mail_key,
        "--grpc-tls-ca",
        &ca,
    ];
    let mut gateway_flags = vec![
        "--token-service-secret",
        &secrets.gateway_to_tokens,
        "--mail-service-secret",
        &secrets.gateway_to_mail,
        "--grpc-tls-ca",
        &ca,
    ];
    if mutual {
        token_flags.extend(["--grpc-tls-client-ca", &ca]);
        mail_flags.extend(["--grpc-tls-client-ca", &ca]);
        gateway_flags.extend([
            "--grpc-tls-cert",
            &gateway_cert,
            "--grpc-tls-key",
            &gateway_key,
        ]);
    }
    spawn_app_wired(
        test_redis().await,
        &token_flags,
        &mail_flags,
        &gateway_flags,
        Some(secrets.clone()),
        Some(&pki.client(Some("admin"))),
    )
    .await
}

/// The certificate the server at `addr` presents to a client trusting `ca` (no client
/// certificate), or the handshake's error.
async fn served_certificate(addr: &str, ca: &TestCa) -> Result<Vec<u8>, std::io::Error> {
    let mut roots = rustls::RootCertStore::empty();
    let ca_der: rustls::pki_types::CertificateDer<'static> =
        rustls::pki_types::pem::PemObject::from_pem_slice(ca.pem().as_bytes()).unwrap();
    roots.add(ca_der).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect("127.0.0.1".try_into().unwrap(), tcp)
        .await?;
    Ok(tls.get_ref().1.peer_certificates().unwrap()[0].to_vec())
}

/// The token service's health over `tls`, or the connection's error.
async fn health_over(url: &str, tls: &ClientTls) -> Result<i32, String> {
    let channel = tls.connect_lazy(url, |endpoint| endpoint).unwrap();
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .map(|answer| answer.into_inner().status)
        .map_err(|status| format!("{status:?}"))
}

/// forgot -> mail -> reset through the gateway, and a reset mail that dies is revoked at the
/// token service by the mail service (its own TLS client).
async fn the_persona_flow_works(app: &TestApp) {
    app.create_account(EMAIL, OLD_PASSWORD).await;
    assert_eq!(app.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    let token = token_in(&app.mail_number(1).await);
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );
    let reset = app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert!(app.password_verifies(EMAIL, NEW_PASSWORD).await);

    app.create_account(UNDELIVERABLE, OLD_PASSWORD).await;
    app.smtp.reject_recipient(UNDELIVERABLE, 550);
    assert_eq!(
        app.forgot(UNDELIVERABLE).await.status(),
        StatusCode::NO_CONTENT
    );
    let revoked = r#"method="passreset.token.v1.TokenService/RevokeToken""#;
    let mut seen = String::new();
    for _ in 0..100 {
        seen = app
            .http
            .get(&app.token_metrics_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if seen.lines().any(|line| {
            line.starts_with("grpc_server_calls_total{")
                && line.contains(revoked)
                && line.contains(r#"code="OK""#)
        }) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the mail service never revoked the dead mail's token over TLS:\n{seen}");
}

#[tokio::test]
async fn the_whole_persona_flow_runs_over_tls_and_then_mutual_tls() {
    for mutual in [false, true] {
        let pki = Pki::new();
        let app = spawn_app_over_tls(&pki, mutual).await;
        assert!(app.token_url.starts_with("https://"));
        the_persona_flow_works(&app).await;
        app.stop().await;
    }
}

#[tokio::test]
async fn under_mutual_tls_a_client_without_a_certificate_is_refused_at_the_handshake() {
    let pki = Pki::new();
    let app = spawn_app_over_tls(&pki, true).await;
    let serving = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
    assert_eq!(
        health_over(&app.token_url, &pki.client(Some("admin"))).await,
        Ok(serving)
    );

    let refused = health_over(&app.token_url, &pki.client(None))
        .await
        .unwrap_err();
    assert!(
        refused.contains("CertificateRequired") || refused.contains("certificate"),
        "{refused}"
    );
    assert!(health_over(&app.mail_url, &pki.client(None)).await.is_err());

    // A certificate from another CA is no better.
    let stranger = TestCa::new("another CA");
    stranger.issue("stranger").write(pki.dir.path(), "stranger");
    assert!(
        health_over(&app.token_url, &pki.client(Some("stranger")))
            .await
            .is_err()
    );

    // Plaintext gRPC gets no answer from a TLS port.
    let plain = app.token_url.replace("https://", "http://");
    let channel = Channel::from_shared(plain).unwrap().connect().await;
    if let Ok(channel) = channel {
        let answer = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await;
        assert!(answer.is_err());
    }
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_certificate_is_served_without_a_restart_and_a_bad_one_is_not() {
    let pki = Pki::new();
    let app = spawn_app_over_tls(&pki, false).await;
    let addr = app.token_url.trim_start_matches("https://").to_owned();
    let first = std::fs::read_to_string(pki.path("token.crt")).unwrap();
    let served = served_certificate(&addr, &pki.ca).await.unwrap();

    // A half-written rotation: the new certificate beside the old key. It must not be served,
    // and the old one keeps working meanwhile.
    let rotated = pki.ca.issue("token, rotated");
    assert_ne!(rotated.der, served);
    std::fs::write(pki.path("token.crt"), &rotated.cert_pem).unwrap();
    std::fs::write(
        pki.path("token.key"),
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    for _ in 0..5 {
        assert_eq!(served_certificate(&addr, &pki.ca).await.unwrap(), served);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_ne!(first, rotated.cert_pem);

    // The rotation completes: new connections get the new certificate.
    rotated.write(pki.dir.path(), "token");
    let mut now_served = served.clone();
    for _ in 0..300 {
        now_served = served_certificate(&addr, &pki.ca).await.unwrap();
        if now_served == rotated.der {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        now_served, rotated.der,
        "the rotated certificate is never served"
    );
    the_persona_flow_works(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn a_clients_rotated_certificate_is_presented_without_a_restart() {
    let pki = Pki::new();
    let app = spawn_app_over_tls(&pki, true).await;
    let serving = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
    pki.issue("rotating");
    let client = pki.client(Some("rotating"));
    assert_eq!(health_over(&app.token_url, &client).await, Ok(serving));

    // Each new connection presents what the files hold by then: first a stranger's
    // certificate (refused), then a good one again.
    let stranger = TestCa::new("another CA");
    stranger.issue("stranger").write(pki.dir.path(), "rotating");
    let mut answer = Ok(serving);
    for _ in 0..300 {
        answer = health_over(&app.token_url, &client).await;
        if answer.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        answer.is_err(),
        "the client never presented its new certificate"
    );
    pki.issue("rotating");
    for _ in 0..300 {
        answer = health_over(&app.token_url, &client).await;
        if answer.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(answer, Ok(serving));
    app.stop().await;
}
