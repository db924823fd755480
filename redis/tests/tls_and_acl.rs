//! Redis as managed platforms run it: TLS with a private CA (and client certificates), ACL
//! users, passwords from a mounted file. Real `redis-server`s, TLS material made here.

use passreset_redis::{ConnectError, RESPONSE_TIMEOUT, RedisSettings, connect};
use passreset_testkit::{RedisProcess, TestTls};

const PASSWORD: &str = "s3cret-Pa55word";

/// PING through a connection made from `settings`, or why none could be made.
async fn ping(settings: &RedisSettings) -> Result<String, String> {
    let mut connection = connect(settings, RESPONSE_TIMEOUT)
        .await
        .map_err(|error| format!("{error} {error:?}"))?;
    redis::cmd("PING")
        .query_async(&mut connection)
        .await
        .map_err(|error| format!("ping: {error}"))
}

#[tokio::test]
async fn a_rediss_url_with_the_test_ca_works() {
    let tls = TestTls::new();
    let redis = RedisProcess::start_tls(&tls, false).await;
    let mut settings = redis.settings();
    settings.tls_cert = None;
    settings.tls_key = None;
    assert!(settings.url.expose().starts_with("rediss://"));
    assert_eq!(ping(&settings).await.unwrap(), "PONG");
}

#[tokio::test]
async fn a_server_that_checks_clients_takes_our_certificate_and_refuses_none() {
    let tls = TestTls::new();
    let redis = RedisProcess::start_tls(&tls, true).await;
    assert_eq!(ping(&redis.settings()).await.unwrap(), "PONG");

    let mut without = redis.settings();
    without.tls_cert = None;
    without.tls_key = None;
    let error = ping(&without).await.unwrap_err();
    assert!(error.starts_with("REDIS_URL: "), "{error}");
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_is_refused() {
    let tls = TestTls::new();
    let redis = RedisProcess::start_tls(&tls, false).await;
    let mut settings = redis.settings();
    let other = TestTls::new();
    settings.tls_ca = Some(other.ca());
    let error = ping(&settings).await.unwrap_err();
    assert!(error.starts_with("REDIS_URL: "), "{error}");
}

#[tokio::test]
async fn an_acl_user_logs_in_from_the_url_or_from_a_password_file() {
    let redis = RedisProcess::start_with_user("passreset", PASSWORD).await;
    assert_eq!(ping(&redis.settings()).await.unwrap(), "PONG");

    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), format!("{PASSWORD}\n")).unwrap();
    let mut from_file = RedisSettings::single(&redis.url().replace(&format!(":{PASSWORD}"), ""));
    assert!(!from_file.url.expose().contains(PASSWORD));
    from_file.password_file = Some(file.path().to_owned());
    assert_eq!(ping(&from_file).await.unwrap(), "PONG");
}

#[tokio::test]
async fn a_wrong_password_is_refused_naming_redis_url_without_showing_it() {
    let redis = RedisProcess::start_with_user("passreset", PASSWORD).await;
    let wrong = redis.url().replace(PASSWORD, "not-the-password");
    let shown = ping(&RedisSettings::single(&wrong)).await.unwrap_err();
    assert!(shown.starts_with("REDIS_URL: "), "{shown}");
    assert!(!shown.contains("not-the-password"), "{shown}");
    assert!(shown.contains("passreset:***@127.0.0.1"), "{shown}");

    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "not-the-password").unwrap();
    let mut settings = RedisSettings::single(&redis.url().replace(&format!(":{PASSWORD}"), ""));
    settings.password_file = Some(file.path().to_owned());
    let shown = connect(&settings, RESPONSE_TIMEOUT)
        .await
        .unwrap_err()
        .to_string();
    assert!(shown.starts_with("REDIS_URL: "), "{shown}");
    assert!(!shown.contains("not-the-password"), "{shown}");
}

#[tokio::test]
async fn settings_that_name_a_missing_file_or_tls_without_rediss_are_refused() {
    let mut missing = RedisSettings::single("rediss://127.0.0.1:1");
    missing.tls_ca = Some("/nonexistent/ca.pem".into());
    let error = connect(&missing, RESPONSE_TIMEOUT).await.unwrap_err();
    assert!(error.to_string().starts_with("REDIS_TLS_CA: "), "{error}");

    let tls = TestTls::new();
    let mut plain = RedisSettings::single("redis://127.0.0.1:1");
    plain.tls_ca = Some(tls.ca());
    let error = connect(&plain, RESPONSE_TIMEOUT).await.unwrap_err();
    assert!(matches!(error, ConnectError::Tls { .. }), "{error}");
}
