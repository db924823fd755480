//! The dead-letter stream: it keeps SMTP codes, never the server's text (which quotes the
//! recipient), and only about `MAIL_DEAD_MAX` entries, the newest.

use std::process::Stdio;

use passreset_proto::mail::v1::message_status::State;
use passreset_testkit::{SmtpSink, test_redis};
use tokio::process::Command;

use crate::{
    helpers::{changed_mail, free_port, reset_mail, spawn_app},
    process::{cli, client, ids_in_state},
};

/// Makes the sink refuse `gone@` for good and `busy@` for now, quoting each address as real
/// servers do.
fn refuse_quoting_the_recipient(sink: &SmtpSink) {
    sink.reject_recipient_with(
        "gone@example.com",
        "550 5.1.1 <gone@example.com>: no such user",
    );
    sink.reject_recipient_with(
        "busy@example.com",
        "451 4.2.1 <busy@example.com>: mailbox busy",
    );
}

/// What must never be stored or logged: the addresses and the servers' own words.
const QUOTED: [&str; 4] = [
    "gone@example.com",
    "busy@example.com",
    "no such user",
    "mailbox busy",
];

#[tokio::test]
async fn a_dead_letter_holds_the_smtp_codes_but_not_the_recipient_or_the_servers_text() {
    let redis = test_redis().await;
    let sink = SmtpSink::start().await;
    refuse_quoting_the_recipient(&sink);
    let app = spawn_app(
        redis.clone(),
        &sink.url(),
        &["--workers", "1", "--max-attempts", "2"],
    )
    .await;
    let refused = app
        .enqueue(reset_mail("gone@example.com", "prt_refused"))
        .await
        .unwrap();
    let busy = app
        .enqueue(reset_mail("busy@example.com", "prt_busy"))
        .await
        .unwrap();

    let status = app.status_once(&refused, State::Dead).await;
    assert_eq!(status.state(), State::Dead);
    assert_eq!(status.last_error, "smtp: 550 5.1.1");
    let status = app.status_once(&busy, State::Dead).await;
    assert_eq!(status.state(), State::Dead);
    assert_eq!(status.attempts, 2);
    assert_eq!(
        status.last_error,
        "gave up after 2 attempts: smtp: 451 4.2.1"
    );

    let dump = redis.dump().await;
    for secret in QUOTED {
        assert!(!dump.contains(secret), "{secret} in redis:\n{dump}");
    }
    let listed = cli(&redis, &["dead", "list"]).await;
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.contains("smtp: 550 5.1.1"), "{listed}");
    assert!(
        !listed.contains("no such user") && !listed.contains("@"),
        "{listed}"
    );
    app.stop().await;
}

#[tokio::test]
async fn with_a_small_dead_max_the_stream_stays_near_it_and_dead_list_shows_the_newest() {
    let redis = test_redis().await;
    let sink = SmtpSink::start().await;
    sink.reject_recipient("gone@example.com", 550);
    let app = spawn_app(
        redis.clone(),
        &sink.url(),
        &["--workers", "1", "--dead-max", "10"],
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..150 {
        ids.push(app.enqueue(changed_mail("gone@example.com")).await.unwrap());
    }
    // One worker takes them in order: once the last is dead, all are.
    let last = ids.last().unwrap();
    assert_eq!(
        app.status_once(last, State::Dead).await.state(),
        State::Dead
    );

    let kept: u64 = redis::cmd("XLEN")
        .arg(format!("{}{{mail}}:dead", redis.prefix))
        .query_async(&mut redis.connection().await)
        .await
        .unwrap();
    // Redis trims whole nodes of up to 100 entries (`stream-node-max-entries`' default).
    assert!((10..=10 + 100).contains(&kept), "{kept} dead letters kept");

    let listed = cli(&redis, &["dead", "list", "--limit", "5"]).await;
    assert!(listed.status.success());
    let listed: Vec<String> = String::from_utf8(listed.stdout)
        .unwrap()
        .lines()
        .map(|line| line.split('\t').next().unwrap().to_owned())
        .collect();
    assert_eq!(listed, ids[ids.len() - 5..]);
    app.stop().await;
}

#[tokio::test]
async fn the_servers_text_never_reaches_the_logs_only_its_codes_do() {
    let redis = test_redis().await;
    let sink = SmtpSink::start().await;
    refuse_quoting_the_recipient(&sink);
    let port = free_port();
    let mut service = Command::new(env!("CARGO_BIN_EXE_mail-service"))
        .env("REDIS_URL", &redis.url)
        .env("REDIS_KEY_PREFIX", &redis.prefix)
        .env("MAIL_GRPC_ADDR", format!("127.0.0.1:{port}"))
        .env("MAIL_METRICS_ADDR", "127.0.0.1:0")
        .env("MAIL_TRANSPORT", sink.url())
        .env("MAIL_MAX_ATTEMPTS", "2")
        .env("MAIL_RETRY_BASE", "200ms")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut mail = client(port).await;
    let mut ids = Vec::new();
    for to in ["gone@example.com", "busy@example.com"] {
        let queued = mail.enqueue(changed_mail(to)).await.unwrap();
        ids.push(queued.into_inner().message_id);
    }
    ids_in_state(&mut mail, &ids, State::Dead, 2).await;
    service.start_kill().unwrap();
    let output = service.wait_with_output().await.unwrap();
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        logs.contains("550 5.1.1") && logs.contains("451 4.2.1"),
        "{logs}"
    );
    for secret in QUOTED {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }
}
