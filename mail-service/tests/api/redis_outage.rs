//! Redis going away under a running dispatcher: killed and restarted empty, or frozen and thawed.
//! `Enqueue` answers UNAVAILABLE meanwhile instead of hanging, and the workers carry on once
//! Redis is back (reconnecting, and recreating the consumer group Redis lost).

use std::{process::Stdio, time::Duration};

use passreset_testkit::{RedisProcess, SmtpSink, TestRedis};
use tokio::process::{Child, Command};
use tonic::Code;

use crate::helpers::{TestApp, changed_mail, free_port, spawn_app, wait_for_mail_to};

const WAIT: Duration = Duration::from_secs(20);

/// Enqueues a notice to `to` until Redis takes it (for up to 10 s).
async fn enqueue_once_back(app: &TestApp, to: &str) {
    let mut accepted = Err(tonic::Status::unavailable("not tried"));
    for _ in 0..50 {
        accepted = app.enqueue(changed_mail(to)).await;
        if accepted.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    accepted.expect("redis takes mail again");
}

/// The code `Enqueue` refuses a notice to `to` with; it must answer within 15 s, never hang.
async fn refusal(app: &TestApp, to: &str) -> Code {
    let answer = tokio::time::timeout(Duration::from_secs(15), app.enqueue(changed_mail(to)))
        .await
        .expect("enqueue answers, never hangs");
    answer
        .expect_err("enqueue refuses while redis is away")
        .code()
}

#[tokio::test]
async fn with_redis_down_enqueue_fails_as_unavailable_and_recovers_when_it_is_back() {
    let mut redis = RedisProcess::start().await;
    let sink = SmtpSink::start().await;
    let app = spawn_app(redis.test_redis(), &sink.url(), &["--workers", "1"]).await;
    app.enqueue(changed_mail("before@example.com"))
        .await
        .unwrap();
    wait_for_mail_to(&sink, "before@example.com", WAIT).await;

    redis.stop().await;
    assert_eq!(refusal(&app, "during@example.com").await, Code::Unavailable);

    // Back, and empty: the worker reconnects and recreates the consumer group.
    redis.restart().await;
    enqueue_once_back(&app, "after@example.com").await;
    wait_for_mail_to(&sink, "after@example.com", WAIT).await;
    app.stop().await;
}

/// A private `redis-server` the test can freeze (SIGSTOP) and thaw (SIGCONT): a Redis that
/// hangs instead of refusing, as one behind a lost network does. Killed when dropped.
struct FreezableRedis {
    port: u16,
    child: Child,
}

impl FreezableRedis {
    async fn start() -> Self {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is on PATH");
        let redis = Self { port, child };
        let client = redis::Client::open(redis.test_redis().url).unwrap();
        for _ in 0..100 {
            if let Ok(mut connection) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .is_ok()
            {
                return redis;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server on port {port} did not start");
    }

    fn test_redis(&self) -> TestRedis {
        TestRedis::single(&format!("redis://127.0.0.1:{}", self.port))
    }

    async fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("redis-server runs").to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .await
            .unwrap();
        assert!(sent.success(), "kill -{signal} {pid}");
    }
}

#[tokio::test]
async fn with_redis_frozen_enqueue_answers_unavailable_and_mail_flows_once_it_thaws() {
    let redis = FreezableRedis::start().await;
    let sink = SmtpSink::start().await;
    let app = spawn_app(redis.test_redis(), &sink.url(), &["--workers", "2"]).await;
    app.enqueue(changed_mail("before@example.com"))
        .await
        .unwrap();
    wait_for_mail_to(&sink, "before@example.com", WAIT).await;

    redis.signal("STOP").await;
    assert_eq!(refusal(&app, "during@example.com").await, Code::Unavailable);

    redis.signal("CONT").await;
    enqueue_once_back(&app, "after@example.com").await;
    wait_for_mail_to(&sink, "after@example.com", WAIT).await;
    app.stop().await;
}
