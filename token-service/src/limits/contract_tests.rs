//! The limit store contract, written once and run against Redis (a real server, this test's
//! own key prefix) and against memory. Times are passed in, so nothing depends on the wall
//! clock.

use std::{sync::Arc, time::Duration};

use super::{
    Rate,
    memory::MemoryLimitStore,
    redis::RedisLimitStore,
    store::{Decision, LimitName, LimitStore, Mode, Subject},
};
use crate::clock::UnixMillis;

/// Five an hour: one unit back every twelve minutes.
const FIVE_AN_HOUR: Rate = Rate {
    count: 5,
    period: Duration::from_secs(3600),
};
const TWELVE_MINUTES_MS: i64 = 12 * 60 * 1000;

fn at(ms: i64) -> UnixMillis {
    UnixMillis(1_800_000_000_000 + ms)
}

async fn acquire(store: &dyn LimitStore, subject: &str, now: UnixMillis, mode: Mode) -> Decision {
    store
        .acquire(
            LimitName::PerAddress,
            &Subject::of(subject),
            FIVE_AN_HOUR,
            now,
            mode,
        )
        .await
        .unwrap()
}

async fn take(store: &dyn LimitStore, subject: &str, now: UnixMillis) -> Decision {
    acquire(store, subject, now, Mode::Take).await
}

async fn peek(store: &dyn LimitStore, subject: &str, now: UnixMillis) -> Decision {
    acquire(store, subject, now, Mode::Peek).await
}

async fn a_burst_of_count_is_allowed_then_the_next_is_limited(store: Arc<dyn LimitStore>) {
    for _ in 0..5 {
        assert_eq!(take(store.as_ref(), "k", at(0)).await, Decision::Allowed);
    }
    // The next unit comes back one interval after the burst.
    assert_eq!(
        take(store.as_ref(), "k", at(0)).await,
        Decision::Limited {
            retry_after: Duration::from_secs(12 * 60)
        }
    );
    assert_eq!(
        take(store.as_ref(), "k", at(60_000)).await,
        Decision::Limited {
            retry_after: Duration::from_secs(11 * 60)
        }
    );
}

async fn a_refused_take_consumes_nothing(store: Arc<dyn LimitStore>) {
    for _ in 0..5 {
        take(store.as_ref(), "k", at(0)).await;
    }
    for _ in 0..10 {
        assert_ne!(take(store.as_ref(), "k", at(0)).await, Decision::Allowed);
    }
    // Ten refusals later, the unit still comes back after one interval.
    assert_eq!(
        take(store.as_ref(), "k", at(TWELVE_MINUTES_MS)).await,
        Decision::Allowed
    );
}

async fn units_come_back_one_interval_at_a_time(store: Arc<dyn LimitStore>) {
    for _ in 0..5 {
        take(store.as_ref(), "k", at(0)).await;
    }
    assert_ne!(
        take(store.as_ref(), "k", at(TWELVE_MINUTES_MS - 1)).await,
        Decision::Allowed
    );
    assert_eq!(
        take(store.as_ref(), "k", at(TWELVE_MINUTES_MS)).await,
        Decision::Allowed
    );
    assert_ne!(
        take(store.as_ref(), "k", at(TWELVE_MINUTES_MS)).await,
        Decision::Allowed
    );
    // A whole period after the last take, the full burst is back.
    let later = TWELVE_MINUTES_MS + 3_600_000;
    for _ in 0..5 {
        assert_eq!(
            take(store.as_ref(), "k", at(later)).await,
            Decision::Allowed
        );
    }
    assert_ne!(
        take(store.as_ref(), "k", at(later)).await,
        Decision::Allowed
    );
}

async fn a_steady_caller_gets_one_per_interval(store: Arc<dyn LimitStore>) {
    for _ in 0..5 {
        take(store.as_ref(), "k", at(0)).await;
    }
    for n in 1..=10 {
        let now = at(n * TWELVE_MINUTES_MS);
        assert_eq!(take(store.as_ref(), "k", now).await, Decision::Allowed);
        assert_ne!(take(store.as_ref(), "k", now).await, Decision::Allowed);
    }
}

async fn a_peek_never_consumes(store: Arc<dyn LimitStore>) {
    for _ in 0..20 {
        assert_eq!(peek(store.as_ref(), "k", at(0)).await, Decision::Allowed);
    }
    for _ in 0..4 {
        take(store.as_ref(), "k", at(0)).await;
    }
    // One unit left: a peek sees it, and leaves it for the take.
    assert_eq!(peek(store.as_ref(), "k", at(0)).await, Decision::Allowed);
    assert_eq!(take(store.as_ref(), "k", at(0)).await, Decision::Allowed);
    assert_eq!(
        peek(store.as_ref(), "k", at(0)).await,
        Decision::Limited {
            retry_after: Duration::from_secs(12 * 60)
        }
    );
    assert_eq!(
        peek(store.as_ref(), "k", at(TWELVE_MINUTES_MS)).await,
        Decision::Allowed
    );
}

async fn subjects_are_limited_separately(store: Arc<dyn LimitStore>) {
    for _ in 0..5 {
        take(store.as_ref(), "one", at(0)).await;
    }
    assert_ne!(take(store.as_ref(), "one", at(0)).await, Decision::Allowed);
    assert_eq!(take(store.as_ref(), "two", at(0)).await, Decision::Allowed);
}

async fn limits_are_kept_apart_for_one_subject(store: Arc<dyn LimitStore>) {
    let subject = Subject::of("203.0.113.9");
    let one_a_minute = Rate {
        count: 1,
        period: Duration::from_secs(60),
    };
    for (limit, expected) in [
        (LimitName::PerIp, Decision::Allowed),
        (LimitName::FailuresPerIp, Decision::Allowed),
        (
            LimitName::PerIp,
            Decision::Limited {
                retry_after: Duration::from_secs(60),
            },
        ),
    ] {
        let decided = store
            .acquire(limit, &subject, one_a_minute, at(0), Mode::Take)
            .await
            .unwrap();
        assert_eq!(decided, expected, "{limit:?}");
    }
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
        a_refused_take_consumes_nothing,
        units_come_back_one_interval_at_a_time,
        a_steady_caller_gets_one_per_interval,
        a_peek_never_consumes,
        subjects_are_limited_separately,
        limits_are_kept_apart_for_one_subject,
        fifty_concurrent_takes_allow_exactly_the_burst,
    ],
);
