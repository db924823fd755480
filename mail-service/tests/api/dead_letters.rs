//! The dead-letter stream: it keeps SMTP codes, never the server's text (which quotes the
//! recipient), and only about `MAIL_DEAD_MAX` entries, the newest.

use passreset_proto::mail::v1::message_status::State;
use passreset_testkit::{SmtpSink, test_redis};

use crate::{
    helpers::{changed_mail, reset_mail, spawn_app},
    process::cli,
};

#[tokio::test]
async fn a_dead_letter_holds_the_smtp_codes_but_not_the_recipient_or_the_servers_text() {
    let redis = test_redis().await;
    let sink = SmtpSink::start().await;
    sink.reject_recipient_with(
        "gone@example.com",
        "550 5.1.1 <gone@example.com>: no such user",
    );
    sink.reject_recipient_with(
        "busy@example.com",
        "451 4.2.1 <busy@example.com>: mailbox busy",
    );
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
    for secret in [
        "gone@example.com",
        "busy@example.com",
        "no such user",
        "mailbox busy",
    ] {
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
