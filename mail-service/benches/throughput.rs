//! Mails per second through the dispatcher (gRPC Enqueue -> Redis Stream -> workers -> SMTP),
//! against the floor: a direct lettre send loop with the same concurrency to the same SMTP
//! sink. Both against real Redis and a real SMTP server on loopback.
//!
//! Run: `REDIS_URL=redis://127.0.0.1:6379 cargo bench -p mail-service --bench throughput`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark: a failed step should stop it loudly, and it prints its figures"
)]

use std::time::{Duration, Instant};

use clap::Parser as _;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use passreset_proto::mail::v1::{
    EnqueueRequest, PasswordChanged, enqueue_request::Kind, mail_service_client::MailServiceClient,
};
use passreset_testkit::{SmtpSink, test_redis};

/// Mails per run; `BENCH_MAILS` overrides.
fn mails() -> usize {
    std::env::var("BENCH_MAILS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(2000)
}
const WORKERS: usize = 4;

#[tokio::main]
async fn main() {
    let dispatcher = through_the_dispatcher().await;
    let floor = direct_lettre_loop().await;
    println!(
        "{} mails, {WORKERS} concurrent sends, SMTP sink on loopback:",
        mails()
    );
    println!("  through the dispatcher   {dispatcher:>8.0} mails/s");
    println!("  direct lettre loop       {floor:>8.0} mails/s (the floor)");
}

async fn through_the_dispatcher() -> f64 {
    let redis = test_redis().await;
    let sink = SmtpSink::start().await;
    let workers = WORKERS.to_string();
    let config = mail_service::Config::try_parse_from([
        "mail-service",
        "--redis-url",
        &redis.url,
        "--redis-key-prefix",
        &redis.prefix,
        "--grpc-addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
        "--transport",
        &sink.url(),
        "--workers",
        &workers,
        "--queue-max",
        "0",
    ])
    .unwrap();
    let application = mail_service::Application::build(config).await.unwrap();
    let addr = application.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let client = MailServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();

    let started = Instant::now();
    let mut enqueues = tokio::task::JoinSet::new();
    for chunk in 0..WORKERS {
        let client = client.clone();
        enqueues.spawn(async move {
            for n in (chunk..mails()).step_by(WORKERS) {
                client
                    .clone()
                    .enqueue(EnqueueRequest {
                        to: format!("user{n}@example.com"),
                        locale: String::new(),
                        idempotency_key: String::new(),
                        kind: Some(Kind::PasswordChanged(PasswordChanged {
                            changed_at_unix: 1_795_442_700,
                        })),
                    })
                    .await
                    .unwrap();
            }
        });
    }
    enqueues.join_all().await;
    sink.wait_for_messages(mails(), Duration::from_secs(300))
        .await;
    let rate = rate(started.elapsed());
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    rate
}

async fn direct_lettre_loop() -> f64 {
    let sink = SmtpSink::start().await;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.addr().port())
        .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(WORKERS as u32))
        .build();
    let started = Instant::now();
    let mut senders = tokio::task::JoinSet::new();
    for chunk in 0..WORKERS {
        let transport = transport.clone();
        senders.spawn(async move {
            for n in (chunk..mails()).step_by(WORKERS) {
                let message = Message::builder()
                    .from("passreset <no-reply@localhost>".parse().unwrap())
                    .to(format!("user{n}@example.com").parse().unwrap())
                    .subject("Your password was changed")
                    .body("The password of your account was changed.".to_owned())
                    .unwrap();
                transport.send(message).await.unwrap();
            }
        });
    }
    senders.join_all().await;
    sink.wait_for_messages(mails(), Duration::from_secs(300))
        .await;
    rate(started.elapsed())
}

fn rate(elapsed: Duration) -> f64 {
    mails() as f64 / elapsed.as_secs_f64()
}
