//! The Redis queue's own tests; the contract it shares with the memory queue is in
//! `contract_tests/`.

use std::time::Duration;

use super::{RedisQueue, consumer::MAX_BLOCK, scripts::ENQUEUE};
use crate::queue::{contract_tests, store::QueueStore as _};

async fn queue() -> (RedisQueue, passreset_testkit::TestRedis) {
    let redis = passreset_testkit::test_redis().await;
    let queue = RedisQueue::connect(&redis.settings(), &redis.prefix)
        .await
        .unwrap();
    (queue, redis)
}

#[tokio::test]
async fn a_delivered_mail_leaves_nothing_of_its_content_in_redis() {
    let (queue, redis) = queue().await;
    let mail = contract_tests::reset_mail("https://reset.example/?token=prt_leakcheck");
    queue.enqueue(contract_tests::plain(mail)).await.unwrap();
    let mut consumer = queue.consumer("w1", Duration::from_secs(30)).await.unwrap();
    let delivery = consumer
        .next(Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    queue.delivered(&delivery).await.unwrap();
    let dump = redis.dump().await;
    assert!(!dump.contains("prt_leakcheck"), "{dump}");
}

async fn cluster_queue() -> RedisQueue {
    let redis = passreset_testkit::RedisCluster::shared().await.test_redis();
    RedisQueue::connect(&redis.settings(), &redis.prefix)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_consumer_blocks_for_the_longest_read_on_a_cluster_without_timing_out() {
    let queue = cluster_queue().await;
    let mut consumer = queue.consumer("w1", Duration::from_secs(30)).await.unwrap();
    // The whole block time passes with nothing to read: the reply must not be cut short
    // by the connection's response timeout.
    assert!(consumer.next(MAX_BLOCK).await.unwrap().is_none());
    queue
        .enqueue(contract_tests::plain(contract_tests::reset_mail(
            "https://r/?t=1",
        )))
        .await
        .unwrap();
    assert!(consumer.next(MAX_BLOCK).await.unwrap().is_some());
}

#[tokio::test]
async fn scripts_flushed_from_every_cluster_node_are_loaded_again() {
    let queue = cluster_queue().await;
    queue
        .enqueue(contract_tests::plain(contract_tests::reset_mail(
            "https://r/?t=1",
        )))
        .await
        .unwrap();
    // SCRIPT FLUSH goes to every node: the next EVALSHA answers NOSCRIPT.
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut queue.connection.clone())
        .await
        .unwrap();
    let loaded: Vec<bool> = redis::cmd("SCRIPT")
        .arg("EXISTS")
        .arg(ENQUEUE.get_hash())
        .query_async(&mut queue.connection.clone())
        .await
        .unwrap();
    assert_eq!(loaded, [false]);
    queue
        .enqueue(contract_tests::plain(contract_tests::reset_mail(
            "https://r/?t=2",
        )))
        .await
        .unwrap();
    assert_eq!(queue.depth().await.unwrap(), 2);
}
