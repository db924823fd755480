//! The gRPC services' TLS as a platform runs them, real binaries configured only through their
//! documented variables: each `healthcheck` subcommand passes over mutual TLS with the service's
//! own settings, a rotated certificate is served after SIGHUP without a restart, and a
//! certificate without its key stops the start with one line naming both variables. A binary
//! of its own: it needs the workspace's binaries built (`cargo test --workspace`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step must fail the test loudly"
)]

use std::{collections::HashMap, process::Stdio, sync::Arc, time::Duration};

use passreset_testkit::{IssuedCert, TestCa, test_redis, workspace_binary};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _};
use tokio::process::{Child, Command};

/// A port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(name: &str, env: &HashMap<&str, String>) -> Child {
    Command::new(workspace_binary(name))
        .envs(env)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// `<binary> healthcheck`'s exit code under `env`, and what it printed.
async fn healthcheck(name: &str, env: &HashMap<&str, String>) -> (Option<i32>, String) {
    let output = Command::new(workspace_binary(name))
        .arg("healthcheck")
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The certificate served at `addr` to a client trusting `ca` and presenting `client`.
async fn served_certificate(addr: &str, ca: &TestCa, client: &IssuedCert) -> Vec<u8> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.pem().as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(
        vec![CertificateDer::from(client.der.clone())],
        PrivateKeyDer::from_pem_slice(client.key_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect("127.0.0.1".try_into().unwrap(), tcp)
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

/// Waits until `<binary> healthcheck` passes (the service is up), at most 10 s.
async fn until_healthy(name: &str, env: &HashMap<&str, String>) {
    let mut last = (None, String::new());
    for _ in 0..100 {
        last = healthcheck(name, env).await;
        if last.0 == Some(0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{name} healthcheck never passed over TLS: {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthchecks_pass_over_mutual_tls_and_sighup_serves_a_rotated_certificate() {
    let redis = test_redis().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("passreset test CA");
    let ca_path = ca.write(dir.path(), "ca.crt").display().to_string();
    let path = |file: &str| dir.path().join(file).display().to_string();
    ca.issue("token").write(dir.path(), "token");
    ca.issue("mail").write(dir.path(), "mail");
    let (token_port, mail_port) = (free_port(), free_port());
    let env = HashMap::from([
        ("REDIS_URL", redis.url.clone()),
        ("REDIS_KEY_PREFIX", redis.prefix.clone()),
        ("TOKEN_GRPC_ADDR", format!("127.0.0.1:{token_port}")),
        ("TOKEN_METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ("TOKEN_GRPC_TLS_CERT", path("token.crt")),
        ("TOKEN_GRPC_TLS_KEY", path("token.key")),
        ("TOKEN_GRPC_TLS_CLIENT_CA", ca_path.clone()),
        ("MAIL_GRPC_ADDR", format!("127.0.0.1:{mail_port}")),
        ("MAIL_METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ("MAIL_TRANSPORT", format!("file://{}", path("outbox"))),
        ("MAIL_GRPC_TLS_CERT", path("mail.crt")),
        ("MAIL_GRPC_TLS_KEY", path("mail.key")),
        ("MAIL_GRPC_TLS_CLIENT_CA", ca_path.clone()),
        ("MAIL_GRPC_TLS_CA", ca_path.clone()),
        (
            "MAIL_TOKEN_SERVICE_URL",
            format!("https://127.0.0.1:{token_port}"),
        ),
    ]);
    let tokens = spawn("token-service", &env);
    let mail = spawn("mail-service", &env);
    until_healthy("token-service", &env).await;
    until_healthy("mail-service", &env).await;

    // Without its TLS settings the probe speaks plaintext, and a TLS port does not answer it.
    let mut plaintext = env.clone();
    plaintext.retain(|variable, _| !variable.contains("_TLS_"));
    assert_eq!(healthcheck("token-service", &plaintext).await.0, Some(1));
    assert_eq!(healthcheck("mail-service", &plaintext).await.0, Some(1));

    // Rotation: new files, then SIGHUP. The process lives on (SIGHUP would otherwise end it)
    // and new connections get the new certificate.
    let client = ca.issue("a client");
    let addr = format!("127.0.0.1:{token_port}");
    let before = served_certificate(&addr, &ca, &client).await;
    let rotated = ca.issue("token, rotated");
    rotated.write(dir.path(), "token");
    let pid = tokens.id().unwrap().to_string();
    let sent = Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .await
        .unwrap();
    assert!(sent.success());
    let mut served = before.clone();
    for _ in 0..100 {
        served = served_certificate(&addr, &ca, &client).await;
        if served == rotated.der {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(before, rotated.der);
    assert_eq!(
        served, rotated.der,
        "the rotated certificate is never served"
    );
    until_healthy("token-service", &env).await;
    drop((tokens, mail));
}

#[tokio::test]
async fn a_certificate_without_its_key_stops_the_start_naming_both_variables() {
    for (name, cert, key) in [
        ("token-service", "TOKEN_GRPC_TLS_CERT", "TOKEN_GRPC_TLS_KEY"),
        ("mail-service", "MAIL_GRPC_TLS_CERT", "MAIL_GRPC_TLS_KEY"),
        ("gateway", "GATEWAY_GRPC_TLS_CERT", "GATEWAY_GRPC_TLS_KEY"),
    ] {
        let output = Command::new(workspace_binary(name))
            .env(cert, "/nowhere/cert.pem")
            // Unreachable Redis: the TLS settings must be refused before it is tried.
            .env("REDIS_URL", format!("redis://127.0.0.1:{}", free_port()))
            .env("TOKEN_GRPC_ADDR", "127.0.0.1:0")
            .env("MAIL_GRPC_ADDR", "127.0.0.1:0")
            .env("GATEWAY_HTTP_ADDR", "127.0.0.1:0")
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{cert} and {key} must be set together")),
            "{name}: {stderr}"
        );
    }
}
