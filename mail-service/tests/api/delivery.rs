//! Delivery against an SMTP server that is down, answers 451 or refuses a recipient.

use std::{collections::HashMap, time::Duration};

use passreset_proto::mail::v1::message_status::State;
use passreset_testkit::{SmtpSink, test_redis};
use tonic::Code;

use crate::helpers::{changed_mail, free_port, reset_mail, spawn_app};

/// How many mails carry each Message-ID: every value must be 1.
fn copies_by_message_id(sink: &SmtpSink) -> HashMap<String, usize> {
    let mut copies = HashMap::new();
    for mail in sink.messages() {
        *copies
            .entry(mail.message_id().expect("a Message-ID"))
            .or_insert(0) += 1;
    }
    copies
}

#[tokio::test]
async fn thirty_mails_queued_while_smtp_is_down_all_arrive_once_it_is_up() {
    // Bound but not listening: connections are refused, as by a server that is down, and no
    // other test can take the port before the sink listens on it.
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = reserved.local_addr().unwrap().port();
    let app = spawn_app(
        test_redis().await,
        &format!("smtp://127.0.0.1:{port}?tls=none"),
        &["--workers", "4"],
    )
    .await;
    let ids = app.enqueue_notices(30).await;
    // Nothing listens yet: every first attempt fails and is parked for a retry.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sink = SmtpSink::start_from(reserved.listen(128).unwrap()).await;
    sink.wait_for_messages(30, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let copies = copies_by_message_id(&sink);
    assert_eq!(copies.len(), 30);
    assert!(copies.values().all(|count| *count == 1), "{copies:?}");
    assert_eq!(app.not_yet(&ids, State::Sent).await, Vec::<String>::new());
    app.stop().await;
}

#[tokio::test]
async fn transactions_answered_451_are_retried_and_every_mail_arrives_once() {
    let sink = SmtpSink::start().await;
    sink.fail_next_transactions(5);
    let app = spawn_app(test_redis().await, &sink.url(), &["--workers", "2"]).await;
    let ids = app.enqueue_notices(10).await;
    sink.wait_for_messages(10, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let copies = copies_by_message_id(&sink);
    assert_eq!(copies.len(), 10);
    assert!(copies.values().all(|count| *count == 1), "{copies:?}");
    let retried = attempts_over_one(&app, &ids).await;
    assert!(retried >= 1, "no mail needed a second attempt");
    app.stop().await;
}

/// How many of `ids` took more than one attempt.
async fn attempts_over_one(app: &crate::helpers::TestApp, ids: &[String]) -> usize {
    let mut retried = 0;
    for id in ids {
        if app.status(id).await.attempts > 1 {
            retried += 1;
        }
    }
    retried
}

#[tokio::test]
async fn a_recipient_answered_550_is_dead_lettered_after_one_attempt_and_others_arrive() {
    let sink = SmtpSink::start().await;
    sink.reject_recipient("gone@example.com", 550);
    let app = spawn_app(test_redis().await, &sink.url(), &["--workers", "1"]).await;
    let dead = app
        .enqueue(reset_mail("gone@example.com", "prt_deadletter"))
        .await
        .unwrap();
    let fine = app.enqueue(changed_mail("fine@example.com")).await.unwrap();
    sink.wait_for_messages(1, Duration::from_secs(20)).await;
    let status = app.status_once(&dead, State::Dead).await;
    assert_eq!(status.state(), State::Dead);
    assert_eq!(status.attempts, 1);
    assert!(status.last_error.contains("550"), "{}", status.last_error);
    assert!(!status.last_error.contains("prt_deadletter"));
    assert_eq!(
        app.status_once(&fine, State::Sent).await.state(),
        State::Sent
    );
    let dump = app.redis.dump().await;
    assert!(
        !dump.contains("prt_deadletter"),
        "a dead mail keeps its link:\n{dump}"
    );
    assert!(
        dump.contains("550"),
        "the dead-letter stream keeps the reason:\n{dump}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_same_idempotency_key_twice_sends_one_mail() {
    let sink = SmtpSink::start().await;
    let app = spawn_app(test_redis().await, &sink.url(), &[]).await;
    let mut request = reset_mail("ada@example.com", "prt_once");
    request.idempotency_key = "digest-of-prt_once".to_owned();
    let first = app.enqueue(request.clone()).await.unwrap();
    let second = app.enqueue(request).await.unwrap();
    assert_eq!(first, second);
    app.enqueue(changed_mail("later@example.com"))
        .await
        .unwrap();
    sink.wait_for_messages(2, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn a_full_queue_answers_resource_exhausted() {
    let port = free_port();
    let app = spawn_app(
        test_redis().await,
        &format!("smtp://127.0.0.1:{port}?tls=none"),
        &["--queue-max", "3"],
    )
    .await;
    app.enqueue_notices(3).await;
    let refused = app.enqueue(changed_mail("one-too-many@example.com")).await;
    assert_eq!(refused.unwrap_err().code(), Code::ResourceExhausted);
    app.stop().await;
}

#[tokio::test]
async fn a_delivered_mail_is_sent_and_leaves_no_link_in_redis() {
    let sink = SmtpSink::start().await;
    let app = spawn_app(test_redis().await, &sink.url(), &[]).await;
    let id = app
        .enqueue(reset_mail("ada@example.com", "prt_delivered"))
        .await
        .unwrap();
    sink.wait_for_messages(1, Duration::from_secs(20)).await;
    let state = app.status_once(&id, State::Sent).await.state();
    assert_eq!(state, State::Sent);
    let dump = app.redis.dump().await;
    assert!(!dump.contains("prt_delivered"), "{dump}");
    app.stop().await;
}
