//! The limit store contract, written once and run against Redis (a real server, this test's
//! own key prefix) and against memory. Each store decides on a clock the test sets, so
//! nothing depends on the wall clock.

use std::{sync::Arc, time::Duration};

use super::{
    Rate,
    memory::MemoryLimitStore,
    redis::RedisLimitStore,
    store::{Decision, LimitName, LimitStore, ManualClock, Subject},
};

/// Five an hour: one unit back every twelve minutes.
const FIVE_AN_HOUR: Rate = Rate {
    count: 5,
    period: Duration::from_secs(3600),
};
const TWELVE_MINUTES_MS: i64 = 12 * 60 * 1000;
const LIMITED_FOR_TWELVE_MINUTES: Decision = Decision::Limited {
    retry_after: Duration::from_secs(12 * 60),
};

/// A store and the clock it decides on.
struct Harness {
    store: Arc<dyn LimitStore>,
    clock: ManualClock,
}

impl Harness {
    /// Takes a unit of `subject` at `ms` past the test's epoch.
    async fn take(&self, subject: &str, ms: i64) -> Decision {
        self.clock.set(1_800_000_000_000 + ms);
        self.store
            .take(LimitName::PerAddress, &Subject::of(subject), FIVE_AN_HOUR)
            .await
            .unwrap()
    }

    /// Gives a unit of `subject` back at `ms` past the test's epoch.
    async fn refund(&self, subject: &str, ms: i64) {
        self.clock.set(1_800_000_000_000 + ms);
        self.store
            .refund(LimitName::PerAddress, &Subject::of(subject), FIVE_AN_HOUR)
            .await
            .unwrap();
    }

    /// Takes the whole burst of `subject` at `ms`, asserting each take is allowed.
    async fn take_burst(&self, subject: &str, ms: i64) {
        for n in 0..5 {
            assert_eq!(self.take(subject, ms).await, Decision::Allowed, "take {n}");
        }
    }
}

async fn a_burst_of_count_is_allowed_then_the_next_is_limited(harness: Harness) {
    harness.take_burst("k", 0).await;
    // The next unit comes back one interval after the burst.
    assert_eq!(harness.take("k", 0).await, LIMITED_FOR_TWELVE_MINUTES);
    assert_eq!(
        harness.take("k", 60_000).await,
        Decision::Limited {
            retry_after: Duration::from_secs(11 * 60)
        }
    );
}

async fn a_refused_take_consumes_nothing(harness: Harness) {
    harness.take_burst("k", 0).await;
    for _ in 0..10 {
        assert_ne!(harness.take("k", 0).await, Decision::Allowed);
    }
    // Ten refusals later, the unit still comes back after one interval.
    assert_eq!(
        harness.take("k", TWELVE_MINUTES_MS).await,
        Decision::Allowed
    );
}

async fn units_come_back_one_interval_at_a_time(harness: Harness) {
    harness.take_burst("k", 0).await;
    assert_ne!(
        harness.take("k", TWELVE_MINUTES_MS - 1).await,
        Decision::Allowed
    );
    assert_eq!(
        harness.take("k", TWELVE_MINUTES_MS).await,
        Decision::Allowed
    );
    assert_ne!(
        harness.take("k", TWELVE_MINUTES_MS).await,
        Decision::Allowed
    );
    // A whole period after the last take, the full burst is back.
    let later = TWELVE_MINUTES_MS + 3_600_000;
    harness.take_burst("k", later).await;
    assert_ne!(harness.take("k", later).await, Decision::Allowed);
}

async fn a_steady_caller_gets_one_per_interval(harness: Harness) {
    harness.take_burst("k", 0).await;
    for n in 1..=10 {
        let now = n * TWELVE_MINUTES_MS;
        assert_eq!(harness.take("k", now).await, Decision::Allowed);
        assert_ne!(harness.take("k", now).await, Decision::Allowed);
    }
}

async fn a_refund_gives_back_the_unit_it_undoes(harness: Harness) {
    harness.take_burst("k", 0).await;
    assert_eq!(harness.take("k", 0).await, LIMITED_FOR_TWELVE_MINUTES);
    harness.refund("k", 60_000).await;
    assert_eq!(harness.take("k", 60_000).await, Decision::Allowed);
    // Exactly one unit came back: the next waits as long as it did before the refund, less
    // the minute that passed.
    assert_eq!(
        harness.take("k", 60_000).await,
        Decision::Limited {
            retry_after: Duration::from_secs(11 * 60)
        }
    );
}

async fn refunds_never_raise_the_budget_above_full(harness: Harness) {
    harness.take("k", 0).await;
    for _ in 0..3 {
        harness.refund("k", 0).await;
    }
    harness.take_burst("k", 0).await;
    assert_ne!(harness.take("k", 0).await, Decision::Allowed);
    // A refund after the budget has refilled lends nothing either.
    let later = 2 * 3_600_000;
    harness.refund("k", later).await;
    harness.take_burst("k", later).await;
    assert_ne!(harness.take("k", later).await, Decision::Allowed);
}

async fn subjects_are_limited_separately(harness: Harness) {
    harness.take_burst("one", 0).await;
    assert_ne!(harness.take("one", 0).await, Decision::Allowed);
    assert_eq!(harness.take("two", 0).await, Decision::Allowed);
    // A refund of one subject gives nothing to another.
    harness.refund("two", 0).await;
    assert_ne!(harness.take("one", 0).await, Decision::Allowed);
}

async fn limits_are_kept_apart_for_one_subject(harness: Harness) {
    let subject = Subject::of("203.0.113.9");
    let one_a_minute = Rate {
        count: 1,
        period: Duration::from_secs(60),
    };
    harness.clock.set(1_800_000_000_000);
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
        let decided = harness
            .store
            .take(limit, &subject, one_a_minute)
            .await
            .unwrap();
        assert_eq!(decided, expected, "{limit:?}");
    }
}

async fn fifty_concurrent_takes_allow_exactly_the_burst(harness: Harness) {
    harness.clock.set(1_800_000_000_000);
    let subject = Subject::of("race");
    let takes = (0..50).map(|_| {
        let (store, subject) = (harness.store.clone(), subject.clone());
        tokio::spawn(async move {
            store
                .take(LimitName::FailuresPerIp, &subject, FIVE_AN_HOUR)
                .await
                .unwrap()
        })
    });
    let mut allowed = 0;
    for handle in takes {
        if handle.await.unwrap() == Decision::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
}

async fn concurrent_attempts_that_are_all_refunded_leave_the_whole_budget(harness: Harness) {
    harness.clock.set(1_800_000_000_000);
    let subject = Subject::of("race");
    let attempts = (0..50).map(|_| {
        let (store, subject) = (harness.store.clone(), subject.clone());
        tokio::spawn(async move {
            let limit = LimitName::FailuresPerIp;
            let taken = store.take(limit, &subject, FIVE_AN_HOUR).await.unwrap();
            if taken == Decision::Allowed {
                store.refund(limit, &subject, FIVE_AN_HOUR).await.unwrap();
            }
        })
    });
    for handle in attempts {
        handle.await.unwrap();
    }
    for _ in 0..5 {
        let taken = harness
            .store
            .take(LimitName::FailuresPerIp, &subject, FIVE_AN_HOUR)
            .await
            .unwrap();
        assert_eq!(taken, Decision::Allowed);
    }
}

async fn redis_store(redis: passreset_testkit::TestRedis) -> Harness {
    let clock = ManualClock::default();
    Harness {
        store: Arc::new(RedisLimitStore::with_clock(
            redis.connection().await,
            &redis.prefix,
            clock.clone(),
        )),
        clock,
    }
}

fn memory_store() -> Harness {
    let clock = ManualClock::default();
    Harness {
        store: Arc::new(MemoryLimitStore::with_clock(clock.clone())),
        clock,
    }
}

passreset_testkit::store_contract!(
    redis: redis_store,
    memory: memory_store,
    cases: [
        a_burst_of_count_is_allowed_then_the_next_is_limited,
        a_refused_take_consumes_nothing,
        units_come_back_one_interval_at_a_time,
        a_steady_caller_gets_one_per_interval,
        a_refund_gives_back_the_unit_it_undoes,
        refunds_never_raise_the_budget_above_full,
        subjects_are_limited_separately,
        limits_are_kept_apart_for_one_subject,
        fifty_concurrent_takes_allow_exactly_the_burst,
        concurrent_attempts_that_are_all_refunded_leave_the_whole_budget,
    ],
);
