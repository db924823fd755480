//! The `password_changed` notice follows the token service's event on `{prefix}events`: the
//! test writes events as the token service does, and a real SMTP server receives the mail.

use std::time::Duration;

use passreset_testkit::{SmtpSink, TestRedis, test_redis};

use crate::helpers::spawn_app;

/// Appends a `password_changed` event the way the token service writes it.
async fn password_changed(redis: &TestRedis, email: &str, reset_id: &str) {
    let mut connection = redis.connection().await;
    redis::cmd("XADD")
        .arg(format!("{}events", redis.prefix))
        .arg("*")
        .arg(&[
            ("type", "password_changed"),
            ("account_id", "acct_0123"),
            ("at", "1700000000000"),
            ("surface", "persona"),
            ("email", email),
            ("locale", "sv"),
            ("reset_id", reset_id),
        ])
        .query_async::<String>(&mut connection)
        .await
        .expect("event written");
}

#[tokio::test]
async fn each_reset_event_becomes_one_notice_even_when_it_is_read_twice() {
    let sink = SmtpSink::start().await;
    let redis = test_redis().await;
    let app = spawn_app(redis.clone(), &sink.url(), &[]).await;

    password_changed(&redis, "ada@example.com", "reset-1").await;
    let first = sink.wait_for_messages(1, Duration::from_secs(30)).await;
    let notice = first.first().unwrap();
    assert_eq!(notice.recipients, vec!["ada@example.com".to_owned()]);
    assert!(
        notice.text_body().contains("2023"),
        "{}",
        notice.text_body()
    );

    // The same reset's event again (its bookkeeping retried, or read again), an event of
    // another kind, and then another reset's: only the last is a new mail. The consumer takes
    // them in order, so once the last has arrived the others were handled.
    password_changed(&redis, "ada@example.com", "reset-1").await;
    let mut connection = redis.connection().await;
    redis::cmd("XADD")
        .arg(format!("{}events", redis.prefix))
        .arg("*")
        .arg(&[("type", "account_locked"), ("account_id", "acct_0123")])
        .query_async::<String>(&mut connection)
        .await
        .unwrap();
    password_changed(&redis, "bob@example.com", "reset-2").await;
    let all = sink.wait_for_messages(2, Duration::from_secs(30)).await;
    let recipients: Vec<_> = all.iter().map(|mail| mail.recipients.clone()).collect();
    assert_eq!(
        recipients,
        vec![
            vec!["ada@example.com".to_owned()],
            vec!["bob@example.com".to_owned()]
        ]
    );
    app.stop().await;
}
