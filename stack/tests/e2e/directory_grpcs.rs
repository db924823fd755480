//! `TOKEN_DIRECTORY=grpcs://`: the platform's directory over TLS, signed by a CA the test
//! makes; the token service trusts it through `TOKEN_DIRECTORY_TLS_CA`, and a directory whose
//! certificate it cannot verify is unavailable (503), never reached in plaintext.

use std::time::Duration;

use json_directory::{JsonDirectory, UsersFile};
use passreset_grpc_security::{ServerTls, ServerTlsSettings, TlsVariables};
use passreset_proto::directory::v1::directory_server::DirectoryServer;
use passreset_testkit::TestCa;
use reqwest::StatusCode;

use crate::helpers::{spawn_app_with, token_in};

const EMAIL: &str = "grace@example.com";
const NEW_PASSWORD: &str = "correct horse battery staple";

const VARIABLES: TlsVariables = TlsVariables {
    cert: "TEST_DIRECTORY_TLS_CERT",
    key: "TEST_DIRECTORY_TLS_KEY",
    ca: "TEST_DIRECTORY_TLS_CLIENT_CA",
};

/// The reference directory serving TLS with a certificate of `ca`; its `grpcs://` URL.
async fn directory_over_tls(ca: &TestCa, dir: &std::path::Path) -> String {
    let path = dir.join("users.json");
    let mut users = UsersFile::default();
    users
        .upsert("user-7", EMAIL, "en", "the old password 1")
        .unwrap();
    users.save(&path).unwrap();
    let (cert, key) = ca.issue("directory").write(dir, "directory");
    let settings = ServerTlsSettings::from_paths(Some(&cert), Some(&key), None, VARIABLES)
        .unwrap()
        .unwrap();
    let tls = ServerTls::load(settings).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "grpcs://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let server = tonic::transport::Server::builder()
        .add_service(DirectoryServer::new(JsonDirectory::new(
            path,
            Duration::ZERO,
        )))
        .serve_with_incoming(tls.incoming(listener));
    tokio::spawn(server);
    url
}

#[tokio::test]
async fn a_reset_goes_to_a_directory_over_tls_signed_by_the_configured_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("platform CA");
    let url = directory_over_tls(&ca, dir.path()).await;
    let ca_file = ca.write(dir.path(), "ca.pem");
    let app = spawn_app_with(&[
        "--directory",
        &url,
        "--directory-tls-ca",
        ca_file.to_str().unwrap(),
    ])
    .await;

    assert_eq!(app.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    let token = token_in(&app.mail_number(1).await);
    assert_eq!(
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    let users = UsersFile::load(&dir.path().join("users.json")).unwrap();
    let user = users.by_email(EMAIL).unwrap();
    assert!(json_directory::store::verify(
        &user.password_hash,
        NEW_PASSWORD
    ));
    app.stop().await;
}

#[tokio::test]
async fn a_directory_whose_certificate_is_not_trusted_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let url = directory_over_tls(&TestCa::new("platform CA"), dir.path()).await;
    let other_ca = TestCa::new("some other CA").write(dir.path(), "other.pem");
    let app = spawn_app_with(&[
        "--directory",
        &url,
        "--directory-tls-ca",
        other_ca.to_str().unwrap(),
        "--directory-timeout",
        "500ms",
    ])
    .await;

    assert_eq!(
        app.forgot(EMAIL).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    app.stop().await;
}
