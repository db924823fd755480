//! No secret in any log line: the whole flow on both surfaces and the reset page runs with every
//! crate logging at TRACE (spans included) into a buffer, which is then searched for every
//! token, password, link, API key, gRPC bearer secret and Redis password used (the services
//! run on a Redis that wants a password, with callers and secrets on both gRPC servers). The
//! configs' `Debug`, Redis errors and the `stack` binary's output are searched for the Redis
//! password too. A binary of its own, because the capturing subscriber is process-wide.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step must fail the test loudly"
)]

#[allow(dead_code, reason = "shared with the e2e binary, which uses all of it")]
#[path = "e2e/helpers.rs"]
mod helpers;

use std::{
    io::Write,
    process::Stdio,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use clap::Parser as _;
use helpers::{RESET_URL, json_of, spawn_app_secured_on, token_in};
use passreset_proto::token::v1::{UpsertAccountRequest, VerifyPasswordRequest};
use passreset_testkit::RedisProcess;
use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tracing_subscriber::fmt::{MakeWriter, format::FmtSpan};

const PERSONA_EMAIL: &str = "ada@example.com";
const METAL_EMAIL: &str = "grace@example.com";
const OLD_PASSWORD: &str = "old-Secret-Passw0rd-1";
const NEW_PASSWORD: &str = "violet-Harbour-Quokka-77";
const MISMATCH: &str = "other-Harbour-Quokka-78";
const WEAK: &str = "password1234";
const GUESS: &str = "guessed-Lantern-Otter-55";
/// The `--requirepass` of the tests' Redis.
const REDIS_PASSWORD: &str = "redis-Pass-Marmot-93";
/// A wrong one, which must not be shown either.
const WRONG_REDIS_PASSWORD: &str = "wrong-Pass-Marmot-94";

/// Everything logged, in one buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_password_link_api_key_or_bearer_secret_reaches_a_log_line_even_at_trace() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(capture.clone())
        .init();

    let redis = RedisProcess::start_with_password(REDIS_PASSWORD).await;
    let app = spawn_app_secured_on(redis.test_redis()).await;
    app.create_account(PERSONA_EMAIL, OLD_PASSWORD).await;
    app.create_account(METAL_EMAIL, OLD_PASSWORD).await;

    // persona: forgot, check, a mismatch, a weak password, then the reset.
    assert_eq!(
        app.forgot(PERSONA_EMAIL).await.status(),
        StatusCode::NO_CONTENT
    );
    let persona_mail = app.mail_number(1).await;
    let persona_token = token_in(&persona_mail);
    assert_eq!(
        app.check_token(&persona_token).await.status(),
        StatusCode::NO_CONTENT
    );
    // The reset page, with the token in its address and in its form.
    let page = app
        .http
        .get(format!("{}/reset?token={persona_token}", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page_weak = app
        .http
        .post(format!("{}/reset", app.base_url))
        .form(&[
            ("token", persona_token.as_str()),
            ("password", WEAK),
            ("confirm_password", WEAK),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page_weak.status(), StatusCode::BAD_REQUEST);
    let mismatch = app.reset(&persona_token, NEW_PASSWORD, MISMATCH).await;
    assert_eq!(mismatch.status(), StatusCode::BAD_REQUEST);
    let weak = app.reset(&persona_token, WEAK, WEAK).await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let reset = app.reset(&persona_token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.check_token(&persona_token).await.status(),
        StatusCode::BAD_REQUEST
    );

    // Metal: an API key starts it, the mailed token spends it for a generated password.
    let created = app
        .http
        .post(format!("{}/metal/v1/reset-password", app.base_url))
        .query(&[("email", METAL_EMAIL)])
        .header("X-Auth-Token", &app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let metal_token = token_in(&app.mail_number(3).await);
    let deleted = app
        .http
        .delete(format!("{}/metal/v1/reset-password", app.base_url))
        .header("X-Auth-Token", &metal_token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::CREATED);
    let generated = json_of(deleted).await["new_password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(app.password_verifies(METAL_EMAIL, &generated).await);
    // The directory refuses a weak password as the reset does, and logs it no more.
    let weak_upsert = app
        .directory
        .clone()
        .upsert_account(UpsertAccountRequest {
            email: METAL_EMAIL.to_owned(),
            password: WEAK.to_owned(),
            locale: String::new(),
        })
        .await;
    assert_eq!(
        weak_upsert.map(drop).map_err(|status| status.code()),
        Err(tonic::Code::InvalidArgument)
    );
    // A guesser at one address meets the verify limit (10/15m): refused, and audited by name.
    let mut guesses = Vec::new();
    for _ in 0..11 {
        guesses.push(
            app.directory
                .clone()
                .verify_password(VerifyPasswordRequest {
                    email: PERSONA_EMAIL.to_owned(),
                    password: GUESS.to_owned(),
                    context: None,
                })
                .await
                .map(|response| response.into_inner().valid)
                .map_err(|status| status.code()),
        );
    }
    assert_eq!(guesses[..10], [Ok(false); 10]);
    assert_eq!(guesses[10], Err(tonic::Code::ResourceExhausted));
    app.mail_number(4).await;
    let api_key = app.api_key.clone();
    let bearers = app.secrets.clone().expect("a secured app");
    app.stop().await;

    let logs = capture.text();
    // The capture works: the flow's own audit lines are there.
    assert!(logs.contains(r#"event="issued""#), "nothing was captured");
    assert!(logs.contains("TRACE"), "not captured at trace level");
    // The gRPC calls were made as named callers, and their lines say who.
    assert!(
        logs.contains(r#"caller="gateway""#),
        "no caller in the lines"
    );
    // The account directory's audit lines say who asked too.
    for event in [
        r#"event="account_upserted""#,
        r#"event="password_valid""#,
        r#"step="upsert""#,
        r#"limit="verify_per_address""#,
    ] {
        assert!(
            logs.lines()
                .any(|line| line.contains(event) && line.contains(r#"caller="admin""#)),
            "no {event} line names the caller"
        );
    }
    let link = RESET_URL.replace("{token}", &persona_token);
    let secrets = [
        ("the persona token", persona_token.as_str()),
        ("the metal token", metal_token.as_str()),
        ("the reset link", link.as_str()),
        ("the old password", OLD_PASSWORD),
        ("the new password", NEW_PASSWORD),
        ("the mismatched confirmation", MISMATCH),
        ("the weak password", WEAK),
        ("the guessed password", GUESS),
        ("the generated password", generated.as_str()),
        ("the API key", api_key.as_str()),
        ("the redis password", REDIS_PASSWORD),
        (
            "the gateway's token-service secret",
            &bearers.gateway_to_tokens,
        ),
        (
            "the gateway's mail-service secret",
            &bearers.gateway_to_mail,
        ),
        (
            "the mail service's token-service secret",
            &bearers.mail_to_tokens,
        ),
        ("the admin client's secret", &bearers.admin),
    ];
    for (what, secret) in secrets {
        if let Some(at) = logs.find(secret) {
            let line_start = logs[..at].rfind('\n').map_or(0, |n| n + 1);
            let line_end = logs[at..].find('\n').map_or(logs.len(), |n| at + n);
            panic!("{what} is in the logs:\n{}", &logs[line_start..line_end]);
        }
    }
}

#[tokio::test]
async fn configs_and_redis_errors_never_show_the_redis_password() {
    let redis = RedisProcess::start_with_password(REDIS_PASSWORD).await;
    let url = redis.url();
    let token_config =
        token_service::Config::try_parse_from(["token-service", "--redis-url", &url]).unwrap();
    let mail_config =
        mail_service::Config::try_parse_from(["mail-service", "--redis-url", &url]).unwrap();
    let wrong = url.replace(REDIS_PASSWORD, WRONG_REDIS_PASSWORD);
    let mut wrong_config = token_config.clone();
    wrong_config.redis.url = wrong.as_str().into();
    wrong_config.grpc_addr = ([127, 0, 0, 1], 0).into();
    let refused = token_service::Application::build(wrong_config)
        .await
        .expect_err("a wrong redis password is refused")
        .to_string();
    let mut unparsable = mail_config.clone();
    unparsable.redis.url = format!("redis://default:{REDIS_PASSWORD}@127.0.0.1:port")
        .as_str()
        .into();
    unparsable.grpc_addr = ([127, 0, 0, 1], 0).into();
    let malformed = mail_service::Application::build(unparsable)
        .await
        .expect_err("a malformed redis url is refused")
        .to_string();

    let shown = [
        ("token-service's config", format!("{token_config:?}")),
        ("mail-service's config", format!("{mail_config:?}")),
        ("the wrong-password error", refused.clone()),
        ("the malformed-url error", malformed),
    ];
    for (what, text) in &shown {
        for secret in [REDIS_PASSWORD, WRONG_REDIS_PASSWORD] {
            assert!(
                !text.contains(secret),
                "{what} shows a redis password: {text}"
            );
        }
    }
    assert!(
        shown[0].1.contains("redis://default:***@127.0.0.1"),
        "{}",
        shown[0].1
    );
    assert!(refused.contains("REDIS_URL"), "{refused}");
}

/// Runs the `stack` binary on `redis_url` at TRACE until its banner is out, then stops it with
/// SIGTERM; returns all it wrote.
async fn stack_output(redis_url: &str, outbox: &std::path::Path) -> String {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_stack"))
        .env("REDIS_URL", redis_url)
        .env(
            "REDIS_KEY_PREFIX",
            format!("test:{}:", uuid::Uuid::new_v4().simple()),
        )
        .env("RUST_LOG", "trace")
        .env("GATEWAY_HTTP_ADDR", "127.0.0.1:0")
        .env("TOKEN_GRPC_ADDR", "127.0.0.1:0")
        .env("MAIL_GRPC_ADDR", "127.0.0.1:0")
        .env("MAIL_TRANSPORT", format!("file://{}", outbox.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut output = String::new();
    let banner = async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            output.push_str(&line);
            output.push('\n');
            if line.contains("Ctrl-C stops everything") {
                return;
            }
        }
        panic!("the stack stopped before its banner");
    };
    tokio::time::timeout(Duration::from_secs(60), banner)
        .await
        .unwrap_or_else(|_| panic!("no banner within 60 s:\n{output}"));
    let pid = child.id().unwrap().to_string();
    let sent = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(sent.success());
    while let Some(line) = stdout.next_line().await.unwrap() {
        output.push_str(&line);
        output.push('\n');
    }
    let finished = child.wait_with_output().await.unwrap();
    output.push_str(&String::from_utf8_lossy(&finished.stderr));
    output
}

#[tokio::test]
async fn the_stack_binary_never_prints_the_redis_password() {
    let redis = RedisProcess::start_with_password(REDIS_PASSWORD).await;
    let outbox = tempfile::tempdir().unwrap();
    // The right password: the banner names the Redis it uses.
    let used = stack_output(&redis.url(), outbox.path()).await;
    assert!(
        used.contains("redis at redis://default:***@127.0.0.1"),
        "{used}"
    );
    // A wrong one: the warning names the Redis that did not answer.
    let wrong = redis.url().replace(REDIS_PASSWORD, WRONG_REDIS_PASSWORD);
    let refused = stack_output(&wrong, outbox.path()).await;
    assert!(refused.contains("REDIS_URL does not answer"), "{refused}");
    for output in [&used, &refused] {
        for secret in [REDIS_PASSWORD, WRONG_REDIS_PASSWORD] {
            if let Some(at) = output.find(secret) {
                let line_start = output[..at].rfind('\n').map_or(0, |n| n + 1);
                let line_end = output[at..].find('\n').map_or(output.len(), |n| at + n);
                panic!(
                    "the stack printed a redis password:\n{}",
                    &output[line_start..line_end]
                );
            }
        }
    }
}
