//! `unknown_account` notices with notices off: answered like any mail, but nothing is stored,
//! so a spray of made-up addresses cannot fill Redis; with notices on they are sent.

use std::time::Duration;

use passreset_proto::mail::v1::{
    EnqueueRequest, UnknownAccount, enqueue_request::Kind, message_status::State,
};
use passreset_testkit::{SmtpSink, test_redis};

use crate::helpers::{TestApp, spawn_app};

/// Enqueues `count` unknown-account notices to addresses made up from `name`; their ids.
async fn enqueue_unknown_accounts(app: &TestApp, name: &str, count: u32) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..count {
        let request = EnqueueRequest {
            to: format!("{name}-{n}@example.com"),
            locale: String::new(),
            idempotency_key: String::new(),
            kind: Some(Kind::UnknownAccount(UnknownAccount {})),
        };
        ids.push(app.enqueue(request).await.unwrap());
    }
    ids
}

#[tokio::test]
async fn a_thousand_unknown_account_notices_with_notices_off_leave_redis_as_it_was() {
    let sink = SmtpSink::start().await;
    let app = spawn_app(test_redis().await, &sink.url(), &[]).await;
    let before = app.redis.keys().await;
    let mut ids = enqueue_unknown_accounts(&app, "made-up", 1000).await;
    let after = app.redis.keys().await;
    assert!(
        after.len() <= before.len() + 2,
        "{} keys before, {} after: {:?}",
        before.len(),
        after.len(),
        &after[..after.len().min(10)]
    );
    // Each answer is an id like any other, and its status is known without a record.
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1000);
    let status = app.status(&ids[0]).await;
    assert_eq!(status.state(), State::Suppressed);
    assert_eq!(status.attempts, 0);
    assert!(status.updated_at_unix > 0);
    assert!(!app.redis.dump().await.contains("made-up-"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sink.messages().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn with_notices_on_unknown_account_notices_are_queued_and_delivered() {
    let sink = SmtpSink::start().await;
    let app = spawn_app(
        test_redis().await,
        &sink.url(),
        &["--unknown-account-notices", "true"],
    )
    .await;
    let ids = enqueue_unknown_accounts(&app, "stranger", 100).await;
    sink.wait_for_messages(100, Duration::from_secs(30)).await;
    assert_eq!(app.not_yet(&ids, State::Sent).await, Vec::<String>::new());
    app.stop().await;
}
