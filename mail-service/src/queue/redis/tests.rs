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
    for link in ["prt_leakcheck1", "prt_leakcheck2"] {
        let mail = contract_tests::reset_mail(&format!("https://reset.example/?token={link}"));
        queue.enqueue(contract_tests::plain(mail)).await.unwrap();
    }
    let mut consumer = queue.consumer("w1", Duration::from_secs(30)).await.unwrap();
    let first = consumer
        .next(Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    // Recorded both ways: with the next mail's hand-over, and on its own.
    let second = consumer.delivered_then_next(&first).await.unwrap().unwrap();
    queue.delivered(&second).await.unwrap();
    let dump = redis.dump().await;
    assert!(!dump.contains("prt_leakcheck"), "{dump}");
}

async fn cluster_queue() -> RedisQueue {
    cluster_queue_and_redis().await.0
}

async fn cluster_queue_and_redis() -> (RedisQueue, passreset_testkit::TestRedis) {
    let redis = passreset_testkit::RedisCluster::shared().await.test_redis();
    let queue = RedisQueue::connect(&redis.settings(), &redis.prefix)
        .await
        .unwrap();
    (queue, redis)
}

/// A queue entry whose record is gone (expired, or lost with a Redis write) is acked and
/// dropped by the read that finds it, and the mail behind it is handed out by the same call.
async fn an_entry_without_its_record_is_dropped_and_the_next_mail_handed_out(
    queue: RedisQueue,
    mut redis: passreset_redis::RedisConnection,
) {
    let mut ids = Vec::new();
    for link in ["https://r/?t=gone", "https://r/?t=kept"] {
        let mail = contract_tests::reset_mail(link);
        ids.push(queue.enqueue(contract_tests::plain(mail)).await.unwrap());
    }
    let _: () = redis::cmd("DEL")
        .arg(queue.keys.record(&ids[0]))
        .query_async(&mut redis)
        .await
        .unwrap();
    let mut consumer = queue.consumer("w1", Duration::from_secs(30)).await.unwrap();
    let delivery = consumer
        .next(Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.mail.id, ids[1]);
    let left: u64 = redis::cmd("XLEN")
        .arg(queue.keys.queue())
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(left, 1, "only the mail being sent is left in the stream");
}

#[tokio::test]
async fn an_entry_without_its_record_is_dropped_on_redis() {
    let (queue, redis) = queue().await;
    let connection = redis.connection().await;
    an_entry_without_its_record_is_dropped_and_the_next_mail_handed_out(queue, connection).await;
}

#[tokio::test]
async fn an_entry_without_its_record_is_dropped_on_a_cluster() {
    let (queue, redis) = cluster_queue_and_redis().await;
    let connection = redis.connection().await;
    an_entry_without_its_record_is_dropped_and_the_next_mail_handed_out(queue, connection).await;
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

/// The replication offsets of the master at `port` (`INFO replication`): how far it has
/// written, and how far each replica has acknowledged. A replica acks by itself only once a
/// second; `WAIT` asks it at once.
async fn replication_offsets(port: u16) -> (u64, Vec<u64>) {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
    let mut master = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query_async(&mut master)
        .await
        .unwrap();
    let field = |line: &str, name: &str| -> Option<u64> {
        line.split(',')
            .find_map(|pair| pair.strip_prefix(name))
            .and_then(|value| value.trim().parse().ok())
    };
    let written = info
        .lines()
        .find_map(|line| field(line, "master_repl_offset:"))
        .unwrap();
    let acked = info
        .lines()
        .filter(|line| line.starts_with("slave"))
        .filter_map(|line| field(line.split_once(':')?.1, "offset="))
        .collect();
    (written, acked)
}

#[tokio::test]
async fn an_accepted_mail_is_held_by_a_replica_and_still_accepted_once_the_replica_is_gone() {
    let mut cluster =
        passreset_testkit::RedisCluster::start_with_node_timeout(Duration::from_secs(15)).await;
    let redis = cluster.test_redis();
    let queue = RedisQueue::connect(&redis.settings(), &redis.prefix)
        .await
        .unwrap();
    let master = cluster.master_of(&queue.keys.queue()).await;
    let replica = cluster.replica_of(master).await;
    // A replica fresh from its first sync, or one that has not acked lately, would make the
    // wait below answer "none": start from one that holds all the master wrote.
    let in_sync = async {
        loop {
            let (written, acked) = replication_offsets(master).await;
            if acked.iter().any(|&acked| acked >= written) {
                return written;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let before = tokio::time::timeout(Duration::from_secs(60), in_sync)
        .await
        .expect("the replica catches up with its master");
    let mail = contract_tests::plain(contract_tests::reset_mail("https://r/?t=1"));
    queue.enqueue(mail).await.unwrap();
    // Acknowledged only once the replica holds it (has acked past what the master had written
    // before): the master may die now.
    let (_, acked) = replication_offsets(master).await;
    assert!(
        acked.iter().any(|&acked| acked > before),
        "{before} {acked:?}"
    );

    cluster.kill(replica).await;
    // No replica answers the wait: the mail is accepted on the master alone, not refused.
    for n in 2..=3 {
        let mail = contract_tests::reset_mail(&format!("https://r/?t={n}"));
        queue.enqueue(contract_tests::plain(mail)).await.unwrap();
    }
    assert_eq!(queue.depth().await.unwrap(), 3);
}
