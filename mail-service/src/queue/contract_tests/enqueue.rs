//! What `enqueue` keeps and refuses: idempotency keys, suppressed mail, a full queue.

use super::*;

pub(super) async fn the_same_idempotency_key_queues_one_mail(queue: Arc<dyn QueueStore>) {
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

pub(super) async fn a_suppressed_mail_leaves_nothing_behind_and_is_never_handed_out(
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

pub(super) async fn a_full_queue_refuses_new_mail_but_not_a_repeat_or_a_suppressed_one(
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

pub(super) async fn an_unknown_id_has_no_status(queue: Arc<dyn QueueStore>) {
    assert!(queue.status(&MessageId::new()).await.unwrap().is_none());
}
