//! The queue contract, written once and run against Redis (a real server, this test's own key
//! prefix) and against the in-memory queue.

mod dead_letters;
mod enqueue;
mod hand_out;
mod retries;

use std::{sync::Arc, time::Duration};

use self::{dead_letters::*, enqueue::*, hand_out::*, retries::*};
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
        a_mail_recorded_as_sent_with_the_next_hands_that_one_over,
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
