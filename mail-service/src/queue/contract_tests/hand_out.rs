//! How queued mail reaches the consumers: once each, in order, promptly, and taken over
//! from a consumer that vanished.

use super::*;

pub(super) async fn a_queued_mail_is_handed_out_once_and_then_sent(queue: Arc<dyn QueueStore>) {
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

pub(super) async fn mails_come_out_in_the_order_they_went_in(queue: Arc<dyn QueueStore>) {
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

pub(super) async fn a_waiting_consumer_wakes_when_mail_arrives(queue: Arc<dyn QueueStore>) {
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    let waiting = tokio::spawn(async move { consumer.next(Duration::from_secs(5)).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mail = reset_mail("https://reset.example/?token=late");
    queue.enqueue(plain(mail.clone())).await.unwrap();
    let delivery = waiting.await.unwrap().unwrap().unwrap();
    assert_eq!(delivery.mail.id, mail.id);
}

pub(super) async fn mail_held_by_a_vanished_consumer_is_taken_over_after_the_claim_time(
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

/// A busy worker records a sent mail and takes the next one in the same call.
pub(super) async fn a_mail_recorded_as_sent_with_the_next_hands_that_one_over(
    queue: Arc<dyn QueueStore>,
) {
    let first_id = queue
        .enqueue(plain(reset_mail("https://r/?t=first")))
        .await
        .unwrap();
    let second_id = queue
        .enqueue(plain(reset_mail("https://r/?t=second")))
        .await
        .unwrap();
    let mut consumer = queue.consumer("w1", CLAIM_IDLE).await.unwrap();
    let first = consumer.next(WAIT).await.unwrap().unwrap();
    assert_eq!(first.mail.id, first_id);

    let second = consumer.delivered_then_next(&first).await.unwrap().unwrap();
    assert_eq!((&second.mail.id, second.attempt), (&second_id, 1));
    let status = queue.status(&first_id).await.unwrap().unwrap();
    assert_eq!((status.state, status.attempts), (MailState::Sent, 1));
    assert_eq!(
        state_of(queue.as_ref(), &second_id).await,
        MailState::Sending
    );

    assert!(
        consumer
            .delivered_then_next(&second)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(state_of(queue.as_ref(), &second_id).await, MailState::Sent);
    assert_eq!(queue.depth().await.unwrap(), 0);
    assert!(nothing_within(consumer.as_mut(), SHORT).await);
}
