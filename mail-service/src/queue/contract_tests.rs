//! The queue contract, written once and run against Redis (a real server, this test's own key
//! prefix) and against the in-memory queue.

use std::{sync::Arc, time::Duration};

use super::{
    memory::MemoryQueue,
    redis::RedisQueue,
    store::{Consumer, Delivery, MailState, NewMail, QueueError, QueueStore, Revival, unix_millis},
};
use crate::mail::{Content, MessageId, QueuedMail, Secret};

const WAIT: Duration = Duration::from_secs(2);
const CLAIM_IDLE: Duration = Duration::from_secs(30);
/// A dead-letter cap no test reaches unless it means to.
const KEEP: u64 = 100_000;
/// Long enough for a mail that would be handed out to arrive.
const SHORT: Duration = Duration::from_millis(200);

pub(super) fn reset_mail(link: &str) -> QueuedMail {
    QueuedMail {
        id: MessageId::new(),
        traceparent: String::new(),
        to: "ada@example.com".to_owned(),
        locale: "en".to_owned(),
        content: Content::PasswordReset {
            link: Secret::new(link.to_owned()),
            token: None,
            expires_at_unix: 1_700_000_000,
            ttl_seconds: 1800,
        },
    }
}

pub(super) fn plain(mail: QueuedMail) -> NewMail {
    NewMail {
        mail,
        idempotency_key: None,
        suppressed: false,
        max_depth: 0,
    }
}

/// A password-changed notice: unlike a reset mail, it keeps a copy to send again once dead.
fn notice(changed_at_unix: i64) -> QueuedMail {
    QueuedMail {
        content: Content::PasswordChanged { changed_at_unix },
        ..reset_mail("https://unused.example/")
    }
}

/// Queues a reset mail holding `link`; its id.
async fn queued_reset(queue: &dyn QueueStore, link: &str) -> MessageId {
    queue.enqueue(plain(reset_mail(link))).await.unwrap()
}

/// Whether `consumer` is handed nothing within `wait`.
async fn nothing_within(consumer: &mut dyn Consumer, wait: Duration) -> bool {
    consumer.next(wait).await.unwrap().is_none()
}

/// Takes the next mail and dead-letters it as refused, the stream keeping about `keep`.
async fn dead_letter_next(queue: &dyn QueueStore, consumer: &mut dyn Consumer, keep: u64) {
    let delivery = consumer.next(WAIT).await.unwrap().unwrap();
    queue
        .dead(&delivery, "smtp: 550 5.1.1", keep)
        .await
        .unwrap();
}

/// Takes the next mail and has it wait a minute for its retry; the mail taken.
async fn park_next(queue: &dyn QueueStore, consumer: &mut dyn Consumer) -> Delivery {
    let delivery = consumer.next(WAIT).await.unwrap().unwrap();
    queue
        .retry_at(&delivery, unix_millis() + 60_000, "smtp: 451")
        .await
        .unwrap();
    delivery
}

async fn state_of(queue: &dyn QueueStore, id: &MessageId) -> MailState {
    queue.status(id).await.unwrap().unwrap().state
}

async fn a_queued_mail_is_handed_out_once_and_then_sent(queue: Arc<dyn QueueStore>) {
    let mail = reset_mail("https://reset.example/?token=t1");
    let id = queue.enqueue(plain(mail.clone())).await.unwrap();
    assert_eq!(id, mail.id);
    assert_eq!(state_of(queue.as_ref(), &id).await, MailState::Queued);

    let mut first = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    let mut second = queue.consumer("w2", CLAIM_IDLE).await.unwrap();
    let delivery = first.next(WAIT).await.unwrap().unwrap();
    assert_eq!(delivery.mail, mail);
    assert_eq!(delivery.attempt, 1);
    assert_eq!(state_of(queue.as_ref(), &id).await, MailState::Sending);
    assert!(nothing_within(second.as_mut(), SHORT).await);

    queue.delivered(&delivery).await.unwrap();
    let status = queue.status(&id).await.unwrap().unwrap();
    assert_eq!((status.state, status.attempts), (MailState::Sent, 1));
    assert!(nothing_within(first.as_mut(), SHORT).await);
}

async fn mails_come_out_in_the_order_they_went_in(queue: Arc<dyn QueueStore>) {
    let mails: Vec<_> = (0..5)
        .map(|n| reset_mail(&format!("https://reset.example/?token=t{n}")))
        .collect();
    for mail in &mails {
        queue.enqueue(plain(mail.clone())).await.unwrap();
    }
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    for mail in &mails {
        let delivery = consumer.next(WAIT).await.unwrap().unwrap();
        assert_eq!(delivery.mail.id, mail.id);
        queue.delivered(&delivery).await.unwrap();
    }
}

async fn a_waiting_consumer_wakes_when_mail_arrives(queue: Arc<dyn QueueStore>) {
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    let waiting = tokio::spawn(async move { consumer.next(Duration::from_secs(5)).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mail = reset_mail("https://reset.example/?token=late");
    queue.enqueue(plain(mail.clone())).await.unwrap();
    let delivery = waiting.await.unwrap().unwrap().unwrap();
    assert_eq!(delivery.mail.id, mail.id);
}

async fn the_same_idempotency_key_queues_one_mail(queue: Arc<dyn QueueStore>) {
    let first = reset_mail("https://reset.example/?token=a");
    let second = reset_mail("https://reset.example/?token=b");
    let keyed = |mail| NewMail {
        mail,
        idempotency_key: Some("issued-token-digest".to_owned()),
        suppressed: false,
        max_depth: 0,
    };
    let first_id = queue.enqueue(keyed(first.clone())).await.unwrap();
    let second_id = queue.enqueue(keyed(second.clone())).await.unwrap();
    assert_eq!(second_id, first_id);
    assert!(queue.status(&second.id).await.unwrap().is_none());

    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    let delivery = consumer.next(WAIT).await.unwrap().unwrap();
    assert_eq!(delivery.mail.id, first.id);
    queue.delivered(&delivery).await.unwrap();
    assert!(nothing_within(consumer.as_mut(), SHORT).await);
}

async fn a_suppressed_mail_leaves_nothing_behind_and_is_never_handed_out(
    queue: Arc<dyn QueueStore>,
) {
    let mut mail = reset_mail("https://unused.example/");
    mail.content = Content::UnknownAccount;
    mail.id = MessageId::suppressed(unix_millis());
    let id = queue
        .enqueue(NewMail {
            mail: mail.clone(),
            idempotency_key: None,
            suppressed: true,
            max_depth: 0,
        })
        .await
        .unwrap();
    assert_eq!(id, mail.id);
    assert!(queue.status(&id).await.unwrap().is_none());
    assert_eq!(queue.depth().await.unwrap(), 0);
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    assert!(nothing_within(consumer.as_mut(), SHORT).await);
}

async fn a_retry_waits_until_due_then_comes_back_with_the_next_attempt(queue: Arc<dyn QueueStore>) {
    let mail = reset_mail("https://reset.example/?token=r");
    let id = queue.enqueue(plain(mail)).await.unwrap();
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    let delivery = consumer.next(WAIT).await.unwrap().unwrap();

    let due = unix_millis() + 400;
    queue
        .retry_at(&delivery, due, "smtp: 451 try later")
        .await
        .unwrap();
    let status = queue.status(&id).await.unwrap().unwrap();
    assert_eq!(status.state, MailState::Retrying);
    assert_eq!(status.next_attempt_at_ms, Some(due));
    assert_eq!(status.last_error, "smtp: 451 try later");

    assert_eq!(queue.release_due_retries().await.unwrap(), 0, "not due yet");
    assert!(nothing_within(consumer.as_mut(), Duration::from_millis(100)).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(queue.release_due_retries().await.unwrap(), 1);
    let again = consumer.next(WAIT).await.unwrap().unwrap();
    assert_eq!((again.mail.id.clone(), again.attempt), (id, 2));
}

async fn a_retrying_mail_does_not_hold_up_the_ones_behind_it(queue: Arc<dyn QueueStore>) {
    let stuck = queued_reset(queue.as_ref(), "https://reset.example/?token=1").await;
    let behind = queued_reset(queue.as_ref(), "https://reset.example/?token=2").await;
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    let parked = park_next(queue.as_ref(), consumer.as_mut()).await;
    assert_eq!(parked.mail.id, stuck);
    queue.release_due_retries().await.unwrap();
    let next = consumer.next(WAIT).await.unwrap().unwrap();
    assert_eq!(next.mail.id, behind);
}

async fn a_dead_mail_keeps_its_reason_and_is_never_handed_out_again(queue: Arc<dyn QueueStore>) {
    let id = queued_reset(queue.as_ref(), "https://reset.example/?token=d").await;
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    dead_letter_next(queue.as_ref(), consumer.as_mut(), KEEP).await;
    let status = queue.status(&id).await.unwrap().unwrap();
    assert_eq!(status.state, MailState::Dead);
    assert_eq!(status.last_error, "smtp: 550 5.1.1");
    queue.release_due_retries().await.unwrap();
    assert!(nothing_within(consumer.as_mut(), SHORT).await);
}

async fn mail_held_by_a_vanished_consumer_is_taken_over_after_the_claim_time(
    queue: Arc<dyn QueueStore>,
) {
    let claim_idle = Duration::from_millis(300);
    let id = queued_reset(queue.as_ref(), "https://reset.example/?token=c").await;
    let mut crashed = queue.consumer("w1", claim_idle).await.unwrap();
    let held = crashed.next(WAIT).await.unwrap().unwrap();
    drop(crashed);

    let mut survivor = queue.consumer("w2", claim_idle).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let taken = survivor.next(WAIT).await.unwrap().unwrap();
    assert_eq!(taken.mail.id, id);
    assert_eq!(taken.attempt, held.attempt + 1);
    queue.delivered(&taken).await.unwrap();
    assert_eq!(state_of(queue.as_ref(), &id).await, MailState::Sent);
}

async fn depth_counts_waiting_and_retrying_mail_until_it_is_settled(queue: Arc<dyn QueueStore>) {
    assert_eq!(queue.depth().await.unwrap(), 0);
    for n in 0..3 {
        queued_reset(
            queue.as_ref(),
            &format!("https://reset.example/?token=q{n}"),
        )
        .await;
    }
    assert_eq!(queue.depth().await.unwrap(), 3);
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    let first = consumer.next(WAIT).await.unwrap().unwrap();
    queue.delivered(&first).await.unwrap();
    park_next(queue.as_ref(), consumer.as_mut()).await;
    assert_eq!(queue.depth().await.unwrap(), 2, "one queued, one retrying");
    assert!(queue.answers().await);
}

async fn the_oldest_queued_time_is_the_first_mail_still_waiting_or_being_sent(
    queue: Arc<dyn QueueStore>,
) {
    assert_eq!(queue.oldest_queued_at().await.unwrap(), None);
    let before = unix_millis();
    for n in 0..2 {
        queued_reset(
            queue.as_ref(),
            &format!("https://reset.example/?token=o{n}"),
        )
        .await;
    }
    let oldest = queue.oldest_queued_at().await.unwrap().unwrap();
    assert!(oldest >= before && oldest <= unix_millis());
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    let first = consumer.next(WAIT).await.unwrap().unwrap();
    assert_eq!(
        queue.oldest_queued_at().await.unwrap(),
        Some(oldest),
        "a mail being sent still counts"
    );
    queue.delivered(&first).await.unwrap();
    park_next(queue.as_ref(), consumer.as_mut()).await;
    assert_eq!(
        queue.oldest_queued_at().await.unwrap(),
        None,
        "a mail waiting out its backoff is not stuck"
    );
}

async fn a_full_queue_refuses_new_mail_but_not_a_repeat_or_a_suppressed_one(
    queue: Arc<dyn QueueStore>,
) {
    let limited = |mail, key: Option<&str>, suppressed| NewMail {
        mail,
        idempotency_key: key.map(str::to_owned),
        suppressed,
        max_depth: 2,
    };
    let first = reset_mail("https://reset.example/?token=f1");
    queue
        .enqueue(limited(first.clone(), Some("first"), false))
        .await
        .unwrap();
    queue
        .enqueue(limited(
            reset_mail("https://reset.example/?token=f2"),
            None,
            false,
        ))
        .await
        .unwrap();
    let refused = queue
        .enqueue(limited(
            reset_mail("https://reset.example/?token=f3"),
            None,
            false,
        ))
        .await;
    assert!(matches!(refused, Err(QueueError::Full)), "{refused:?}");
    let repeat = queue
        .enqueue(limited(
            reset_mail("https://reset.example/?token=f4"),
            Some("first"),
            false,
        ))
        .await
        .unwrap();
    assert_eq!(repeat, first.id);
    queue
        .enqueue(limited(
            reset_mail("https://reset.example/?token=f5"),
            None,
            true,
        ))
        .await
        .unwrap();
}

async fn a_dead_notice_can_be_revived_but_a_dead_reset_mail_cannot(queue: Arc<dyn QueueStore>) {
    let reset = queued_reset(queue.as_ref(), "https://reset.example/?token=gone").await;
    let notice = queue.enqueue(plain(notice(1_700_000_000))).await.unwrap();
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    for _ in 0..2 {
        dead_letter_next(queue.as_ref(), consumer.as_mut(), KEEP).await;
    }

    let letters = queue.dead_letters(10).await.unwrap();
    let summary: Vec<_> = letters
        .iter()
        .map(|letter| (letter.id.clone(), letter.kind.as_str(), letter.retryable))
        .collect();
    assert_eq!(
        summary,
        [
            (reset.clone(), "password_reset", false),
            (notice.clone(), "password_changed", true)
        ]
    );
    assert!(letters.iter().all(|letter| letter.reason.contains("550")));

    assert_eq!(queue.revive(&reset).await.unwrap(), Revival::NotRetryable);
    assert_eq!(
        queue.revive(&MessageId::new()).await.unwrap(),
        Revival::Unknown
    );
    assert_eq!(queue.revive(&notice).await.unwrap(), Revival::Requeued);
    assert_eq!(state_of(queue.as_ref(), &notice).await, MailState::Queued);
    let again = consumer.next(WAIT).await.unwrap().unwrap();
    assert_eq!(again.mail.id, notice);
    assert_eq!(queue.dead_letters(10).await.unwrap().len(), 1);
}

async fn the_dead_letter_list_ends_with_the_newest(queue: Arc<dyn QueueStore>) {
    let ids = dead_notices(queue.as_ref(), 3, KEEP).await;
    assert_eq!(ids_of(queue.dead_letters(10).await.unwrap()), ids);
    assert_eq!(ids_of(queue.dead_letters(2).await.unwrap()), ids[1..]);
}

fn ids_of(letters: Vec<super::DeadLetter>) -> Vec<MessageId> {
    letters.into_iter().map(|letter| letter.id).collect()
}

/// Queues `count` notices and dead-letters each, the stream keeping about `keep`; their ids,
/// oldest first.
async fn dead_notices(queue: &dyn QueueStore, count: u32, keep: u64) -> Vec<MessageId> {
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..count {
        ids.push(queue.enqueue(plain(notice(i64::from(n)))).await.unwrap());
        dead_letter_next(queue, consumer.as_mut(), keep).await;
    }
    ids
}

async fn the_dead_letter_list_and_a_revival_reach_across_pages(queue: Arc<dyn QueueStore>) {
    // Two and a half pages of the Redis queue's reads.
    let ids = dead_notices(queue.as_ref(), 250, KEEP).await;
    assert_eq!(ids_of(queue.dead_letters(1000).await.unwrap()), ids);
    assert_eq!(ids_of(queue.dead_letters(150).await.unwrap()), ids[100..]);
    // The oldest is on the last page a newest-first search reads.
    assert_eq!(queue.revive(&ids[0]).await.unwrap(), Revival::Requeued);
    assert_eq!(state_of(queue.as_ref(), &ids[0]).await, MailState::Queued);
    assert_eq!(ids_of(queue.dead_letters(1000).await.unwrap()), ids[1..]);
}

async fn the_dead_letter_stream_keeps_about_its_cap_and_the_newest(queue: Arc<dyn QueueStore>) {
    let ids = dead_notices(queue.as_ref(), 250, 10).await;
    let letters = queue.dead_letters(1000).await.unwrap();
    // Redis trims whole nodes of up to 100 entries (`stream-node-max-entries`' default).
    assert!(
        (10..=10 + 100).contains(&letters.len()),
        "{} dead letters kept",
        letters.len()
    );
    let kept = ids_of(letters);
    assert_eq!(kept, ids[ids.len() - kept.len()..]);
}

async fn an_unknown_id_has_no_status(queue: Arc<dyn QueueStore>) {
    assert!(queue.status(&MessageId::new()).await.unwrap().is_none());
}

async fn redis_queue(redis: passreset_testkit::TestRedis) -> Arc<dyn QueueStore> {
    Arc::new(
        RedisQueue::connect(&redis.settings(), &redis.prefix)
            .await
            .unwrap(),
    )
}

fn memory_queue() -> Arc<dyn QueueStore> {
    Arc::new(MemoryQueue::default())
}

passreset_testkit::store_contract!(
    redis: redis_queue,
    memory: memory_queue,
    cases: [
        a_queued_mail_is_handed_out_once_and_then_sent,
        mails_come_out_in_the_order_they_went_in,
        a_waiting_consumer_wakes_when_mail_arrives,
        the_same_idempotency_key_queues_one_mail,
        a_suppressed_mail_leaves_nothing_behind_and_is_never_handed_out,
        a_retry_waits_until_due_then_comes_back_with_the_next_attempt,
        a_retrying_mail_does_not_hold_up_the_ones_behind_it,
        a_dead_mail_keeps_its_reason_and_is_never_handed_out_again,
        mail_held_by_a_vanished_consumer_is_taken_over_after_the_claim_time,
        depth_counts_waiting_and_retrying_mail_until_it_is_settled,
        the_oldest_queued_time_is_the_first_mail_still_waiting_or_being_sent,
        a_full_queue_refuses_new_mail_but_not_a_repeat_or_a_suppressed_one,
        a_dead_notice_can_be_revived_but_a_dead_reset_mail_cannot,
        the_dead_letter_list_ends_with_the_newest,
        an_unknown_id_has_no_status,
        the_dead_letter_list_and_a_revival_reach_across_pages,
        the_dead_letter_stream_keeps_about_its_cap_and_the_newest,
    ],
);
