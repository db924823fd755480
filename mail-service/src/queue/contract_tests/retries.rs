//! Mail waiting for its next try, and what the queue's depth and age say of it.

use super::*;

pub(super) async fn a_retry_waits_until_due_then_comes_back_with_the_next_attempt(
    queue: Arc<dyn QueueStore>,
) {
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

pub(super) async fn a_retrying_mail_does_not_hold_up_the_ones_behind_it(
    queue: Arc<dyn QueueStore>,
) {
    let stuck = queued_reset(queue.as_ref(), "https://reset.example/?token=1").await;
    let behind = queued_reset(queue.as_ref(), "https://reset.example/?token=2").await;
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    let parked = park_next(queue.as_ref(), consumer.as_mut()).await;
    assert_eq!(parked.mail.id, stuck);
    queue.release_due_retries().await.unwrap();
    let next = consumer.next(WAIT).await.unwrap().unwrap();
    assert_eq!(next.mail.id, behind);
}

pub(super) async fn depth_counts_waiting_and_retrying_mail_until_it_is_settled(
    queue: Arc<dyn QueueStore>,
) {
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

pub(super) async fn the_oldest_queued_time_is_the_first_mail_still_waiting_or_being_sent(
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
