//! The limit store contract, run against Redis (a real server, this test's own key prefix)
//! and against memory. Times are passed in, so nothing depends on the wall clock.

use std::{sync::Arc, time::Duration};

use super::{
    Rate,
    memory::MemoryLimitStore,
    redis::RedisLimitStore,
    store::{Decision, LimitStore, Mode},
};
use crate::clock::UnixMillis;

const FIVE_AN_HOUR: Rate = Rate {
    count: 5,
    period: Duration::from_secs(3600),
};

fn at(ms: i64) -> UnixMillis {
    UnixMillis(1_800_000_000_000 + ms)
}

async fn take(store: &dyn LimitStore, key: &str, now: UnixMillis) -> Decision {
    store
        .acquire(key, FIVE_AN_HOUR, now, Mode::Take)
        .await
        .unwrap()
}

async fn a_burst_of_count_is_allowed_then_the_next_is_limited(store: Arc<dyn LimitStore>) {
    for _ in 0..5 {
        assert_eq!(take(store.as_ref(), "k", at(0)).await, Decision::Allowed);
    }
    let Decision::Limited { retry_after } = take(store.as_ref(), "k", at(0)).await else {
        panic!("the sixth is allowed");
    };
    // One unit frees every 12 minutes.
    assert_eq!(retry_after, Duration::from_secs(12 * 60));
}

async fn units_come_back_one_interval_at_a_time(store: Arc<dyn LimitStore>) {
    for _ in 0..5 {
        take(store.as_ref(), "k", at(0)).await;
    }
    let twelve_minutes = 12 * 60 * 1000;
    assert_ne!(
        take(store.as_ref(), "k", at(twelve_minutes - 1)).await,
        Decision::Allowed
    );
    assert_eq!(
        take(store.as_ref(), "k", at(twelve_minutes)).await,
        Decision::Allowed
    );
    assert_ne!(
        take(store.as_ref(), "k", at(twelve_minutes)).await,
        Decision::Allowed
    );
    // After a whole period the full burst is back.
    let later = twelve_minutes + 3_600_000;
    for _ in 0..5 {
        assert_eq!(
            take(store.as_ref(), "k", at(later)).await,
            Decision::Allowed
        );
    }
}

async fn a_peek_never_consumes(store: Arc<dyn LimitStore>) {
    for _ in 0..20 {
        let peeked = store
            .acquire("k", FIVE_AN_HOUR, at(0), Mode::Peek)
            .await
            .unwrap();
        assert_eq!(peeked, Decision::Allowed);
    }
    for _ in 0..5 {
        take(store.as_ref(), "k", at(0)).await;
    }
    let peeked = store
        .acquire("k", FIVE_AN_HOUR, at(0), Mode::Peek)
        .await
        .unwrap();
    assert_ne!(peeked, Decision::Allowed);
}

async fn subjects_are_limited_separately(store: Arc<dyn LimitStore>) {
    for _ in 0..5 {
        take(store.as_ref(), "one", at(0)).await;
    }
    assert_ne!(take(store.as_ref(), "one", at(0)).await, Decision::Allowed);
    assert_eq!(take(store.as_ref(), "two", at(0)).await, Decision::Allowed);
}

async fn fifty_concurrent_takes_allow_exactly_the_burst(store: Arc<dyn LimitStore>) {
    let takes = (0..50).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { take(store.as_ref(), "race", at(0)).await })
    });
    let mut allowed = 0;
    for handle in takes {
        if handle.await.unwrap() == Decision::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
}

async fn redis_store() -> Arc<dyn LimitStore> {
    let redis = passreset_testkit::test_redis().await;
    Arc::new(RedisLimitStore::new(
        redis.connection().await,
        &redis.prefix,
    ))
}

fn memory_store() -> Arc<dyn LimitStore> {
    Arc::new(MemoryLimitStore::default())
}

passreset_testkit::store_contract!(
    redis: redis_store,
    memory: memory_store,
    cases: [
        a_burst_of_count_is_allowed_then_the_next_is_limited,
        units_come_back_one_interval_at_a_time,
        a_peek_never_consumes,
        subjects_are_limited_separately,
        fifty_concurrent_takes_allow_exactly_the_burst,
    ],
);
