//! Mail given up on: its reason, the dead-letter list, and sending it again.

use super::*;
use crate::queue::DeadLetter;

pub(super) async fn a_dead_mail_keeps_its_reason_and_is_never_handed_out_again(
    queue: Arc<dyn QueueStore>,
) {
    let id = queued_reset(queue.as_ref(), "https://reset.example/?token=d").await;
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    dead_letter_next(queue.as_ref(), consumer.as_mut(), KEEP).await;
    let status = queue.status(&id).await.unwrap().unwrap();
    assert_eq!(status.state, MailState::Dead);
    assert_eq!(status.last_error, "smtp: 550 5.1.1");
    queue.release_due_retries().await.unwrap();
    assert!(nothing_within(consumer.as_mut(), SHORT).await);
}

pub(super) async fn a_dead_notice_can_be_revived_but_a_dead_reset_mail_cannot(
    queue: Arc<dyn QueueStore>,
) {
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

pub(super) async fn the_dead_letter_list_ends_with_the_newest(queue: Arc<dyn QueueStore>) {
    let ids = dead_notices(queue.as_ref(), 3, KEEP).await;
    assert_eq!(ids_of(queue.dead_letters(10).await.unwrap()), ids);
    assert_eq!(ids_of(queue.dead_letters(2).await.unwrap()), ids[1..]);
}

fn ids_of(letters: Vec<DeadLetter>) -> Vec<MessageId> {
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

pub(super) async fn the_dead_letter_list_and_a_revival_reach_across_pages(
    queue: Arc<dyn QueueStore>,
) {
    // Two and a half pages of the Redis queue's reads.
    let ids = dead_notices(queue.as_ref(), 250, KEEP).await;
    assert_eq!(ids_of(queue.dead_letters(1000).await.unwrap()), ids);
    assert_eq!(ids_of(queue.dead_letters(150).await.unwrap()), ids[100..]);
    // The oldest is on the last page a newest-first search reads.
    assert_eq!(queue.revive(&ids[0]).await.unwrap(), Revival::Requeued);
    assert_eq!(state_of(queue.as_ref(), &ids[0]).await, MailState::Queued);
    assert_eq!(ids_of(queue.dead_letters(1000).await.unwrap()), ids[1..]);
}

pub(super) async fn the_dead_letter_stream_keeps_about_its_cap_and_the_newest(
    queue: Arc<dyn QueueStore>,
) {
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
