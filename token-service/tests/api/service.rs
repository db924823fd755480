//! What every gRPC service of passreset offers besides its API: health, reflection, a clean
//! shutdown, a clear refusal to start without Redis.

use std::time::Duration;

use token_service::{Application, Config, StartupError};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

use passreset_testkit::{RedisProcess, TestTls};

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn health_reports_both_services_serving() {
    let app = spawn_app().await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in [
        "",
        "passreset.token.v1.TokenService",
        "passreset.token.v1.AccountDirectory",
    ] {
        let answer = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.status(), ServingStatus::Serving, "{service:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn reflection_lists_the_token_services() {
    let app = spawn_app().await;
    let mut reflection = ServerReflectionClient::new(app.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().expect("one answer");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("unexpected answer {answer:?}");
    };
    let names: Vec<String> = list
        .service
        .into_iter()
        .map(|service| service.name)
        .collect();
    for expected in [
        "passreset.token.v1.TokenService",
        "passreset.token.v1.AccountDirectory",
    ] {
        assert!(names.iter().any(|name| name == expected), "{names:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn without_redis_the_service_refuses_to_start_naming_the_setting() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = Config::default_for(&format!("redis://127.0.0.1:{port}"));
    config.grpc_addr = "127.0.0.1:0".parse().unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(30), Application::build(config))
        .await
        .expect("startup gives up by itself");
    let error = outcome.unwrap_err();
    assert!(matches!(error, StartupError::Redis(_)), "{error}");
    assert!(error.to_string().starts_with("REDIS_URL: "), "{error}");
}

#[tokio::test]
async fn the_config_reads_the_documented_flags() {
    use clap::Parser as _;
    let config = Config::try_parse_from([
        "token-service",
        "--redis-url",
        "redis://example.invalid:6379",
        "--grpc-addr",
        "127.0.0.1:0",
        "--token-ttl",
        "45m",
    ])
    .unwrap();
    assert_eq!(config.token_ttl, Duration::from_secs(45 * 60));
    assert_eq!(config.grpc_addr.port(), 0);
}

#[tokio::test]
async fn the_service_runs_on_a_redis_that_wants_tls_and_a_client_certificate() {
    let tls = TestTls::new();
    let redis = RedisProcess::start_tls(&tls, true).await;
    let app = spawn_app_with(|config| config.redis = redis.settings()).await;
    app.create_account("ada@example.com", "a fine password")
        .await;
    let token = app.token_for("ada@example.com").await;
    app.check(&token).await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn help_lists_every_redis_setting() {
    use clap::CommandFactory as _;
    let help = Config::command().render_long_help().to_string();
    for variable in [
        "REDIS_URL",
        "REDIS_CLUSTER",
        "REDIS_TLS_CA",
        "REDIS_TLS_CERT",
        "REDIS_TLS_KEY",
        "REDIS_PASSWORD_FILE",
    ] {
        assert!(
            help.contains(&format!("[env: {variable}")),
            "{variable}: {help}"
        );
    }
}
