//! Who may call the gRPC services: every method of every passreset service is refused without a
//! secret (found from the services' descriptors, so a new method cannot be forgotten), each
//! caller's secret opens exactly its permissions, refusals are counted, and the whole persona
//! flow runs with the wired secrets, also from file-mounted settings.

use std::str::FromStr as _;

use http::uri::PathAndQuery;
use prost::Message as _;
use reqwest::StatusCode;
use tonic::{Code, transport::Channel};

use crate::helpers::{Secrets, spawn_app_flagged, spawn_app_secured, token_in};
use passreset_testkit::test_redis;

const EMAIL: &str = "ada@example.com";
const OLD_PASSWORD: &str = "old-Secret-Passw0rd-1";
const NEW_PASSWORD: &str = "violet-Harbour-Quokka-77";

/// The code a unary call of `path` with an empty message gets, sending `secret` if any.
async fn code_of(url: &str, path: &str, secret: Option<&str>) -> Code {
    let channel = Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .expect("the service answers");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("the channel is ready");
    let mut request = tonic::Request::new(());
    if let Some(secret) = secret {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {secret}").parse().unwrap());
    }
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    match grpc
        .unary(request, PathAndQuery::from_str(path).unwrap(), codec)
        .await
    {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// A `/metrics` page's text.
async fn metrics_of(http: &reqwest::Client, url: &str) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

/// `/package.Service/Method` of every method of every service in passreset's contracts.
fn every_method() -> Vec<(String, String)> {
    let set = prost_types::FileDescriptorSet::decode(passreset_proto::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    let mut methods = Vec::new();
    for file in set.file {
        let package = file.package().to_owned();
        for service in &file.service {
            for method in &service.method {
                methods.push((
                    package.clone(),
                    format!("/{package}.{}/{}", service.name(), method.name()),
                ));
            }
        }
    }
    methods
}

#[tokio::test]
async fn without_a_secret_every_method_but_health_is_unauthenticated_and_counted() {
    let app = spawn_app_secured().await;
    let methods = every_method();
    assert!(methods.len() >= 10, "{methods:?}");
    for (package, path) in methods {
        let url = match package.as_str() {
            "passreset.token.v1" => &app.token_url,
            "passreset.mail.v1" => &app.mail_url,
            other => panic!("which service serves {other}? add it to this test"),
        };
        assert_eq!(
            code_of(url, &path, None).await,
            Code::Unauthenticated,
            "{path}"
        );
        assert_eq!(
            code_of(url, &path, Some("not-a-known-secret-at-all")).await,
            Code::Unauthenticated,
            "{path}"
        );
    }
    for url in [&app.token_url, &app.mail_url] {
        for reflection in [
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ] {
            assert_eq!(code_of(url, reflection, None).await, Code::Unauthenticated);
        }
        assert_eq!(
            code_of(url, "/grpc.health.v1.Health/Check", None).await,
            Code::Ok
        );
    }
    for metrics in [&app.token_metrics_url, &app.mail_metrics_url] {
        let text = metrics_of(&app.http, metrics).await;
        assert!(
            text.lines()
                .any(|line| line.starts_with("grpc_server_calls_total{")
                    && line.contains(r#"code="UNAUTHENTICATED""#)),
            "{text}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_gateways_secret_runs_the_reset_flow_but_cannot_manage_accounts() {
    let app = spawn_app_secured().await;
    let secrets = app.secrets.clone().unwrap();
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

    let gateway = Some(secrets.gateway_to_tokens.as_str());
    for method in [
        "UpsertAccount",
        "GetAccount",
        "ListAccounts",
        "VerifyPassword",
    ] {
        let path = format!("/passreset.token.v1.AccountDirectory/{method}");
        assert_eq!(
            code_of(&app.token_url, &path, gateway).await,
            Code::PermissionDenied,
            "{path}"
        );
    }
    // The gateway's own secret for mail is no secret at the token service.
    let issue = "/passreset.token.v1.TokenService/IssueToken";
    let wrong_upstream = Some(secrets.gateway_to_mail.as_str());
    assert_eq!(
        code_of(&app.token_url, issue, wrong_upstream).await,
        Code::Unauthenticated
    );
    let enqueue = "/passreset.mail.v1.MailService/Enqueue";
    let code = code_of(&app.mail_url, enqueue, wrong_upstream).await;
    assert!(
        !matches!(code, Code::Unauthenticated | Code::PermissionDenied),
        "{code:?}"
    );
    let text = metrics_of(&app.http, &app.token_metrics_url).await;
    assert!(text.contains(r#"code="PERMISSION_DENIED""#), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn the_mail_services_secret_may_revoke_tokens_only() {
    let app = spawn_app_secured().await;
    let mail = app.secrets.clone().unwrap().mail_to_tokens;
    let revoke = "/passreset.token.v1.TokenService/RevokeToken";
    let code = code_of(&app.token_url, revoke, Some(&mail)).await;
    assert!(
        !matches!(code, Code::Unauthenticated | Code::PermissionDenied),
        "{code:?}"
    );
    for (_, path) in every_method() {
        if path != revoke && path.starts_with("/passreset.token.v1.") {
            assert_eq!(
                code_of(&app.token_url, &path, Some(&mail)).await,
                Code::PermissionDenied,
                "{path}"
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn callers_and_client_secrets_mounted_as_files_work() {
    let secrets = Secrets::fresh();
    let folder = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = folder.path().join(name);
        std::fs::write(&path, text).unwrap();
        format!("@{}", path.display())
    };
    let token_callers = write(
        "token-callers",
        &format!(
            "# one caller a line\n{}\n",
            secrets.token_callers().replace(',', "\n")
        ),
    );
    let mail_callers = write("mail-callers", &secrets.mail_callers());
    let mail_secret = write("mail-secret", &format!("{}\n", secrets.mail_to_tokens));
    let gateway_tokens = write("gateway-tokens", &secrets.gateway_to_tokens);
    let gateway_mail = write("gateway-mail", &secrets.gateway_to_mail);
    let app = spawn_app_flagged(
        test_redis().await,
        &["--grpc-callers", &token_callers],
        &[
            "--grpc-callers",
            &mail_callers,
            "--token-service-secret",
            &mail_secret,
        ],
        &[
            "--token-service-secret",
            &gateway_tokens,
            "--mail-service-secret",
            &gateway_mail,
        ],
        Some(secrets.clone()),
    )
    .await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    assert_eq!(app.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    let token = token_in(&app.mail_number(1).await);
    let reset = app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        code_of(
            &app.token_url,
            "/passreset.token.v1.TokenService/IssueToken",
            None
        )
        .await,
        Code::Unauthenticated
    );
    app.stop().await;
}
