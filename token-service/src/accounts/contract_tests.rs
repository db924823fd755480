//! The account store contract, written once and run against Redis (a real server, this test's
//! own key prefix) and against the in-memory store. Hashes here are placeholders: hashing is
//! the directory's job, tested in `password/`.

use std::{collections::HashSet, sync::Arc};

use super::{
    email::NormalizedEmail,
    password::HashedPassword,
    store::{AccountRecord, AccountStore},
};
use crate::{Error, Stores, clock::UnixMillis};

fn email(text: &str) -> NormalizedEmail {
    NormalizedEmail::parse(text).unwrap()
}

fn hash(label: &str) -> HashedPassword {
    HashedPassword::from_stored(format!("$argon2id$placeholder${label}"))
}

async fn create(store: &dyn AccountStore, address: &str) -> AccountRecord {
    store
        .upsert(
            &email(address),
            &hash("first"),
            Some("sv"),
            UnixMillis(1_000),
        )
        .await
        .unwrap()
}

async fn an_upsert_creates_an_account_findable_by_id_and_address(store: Arc<dyn AccountStore>) {
    let created = create(store.as_ref(), "Ada@Example.com").await;
    assert!(created.id.starts_with("acct_") && created.id.len() == 37);
    assert_eq!(created.email.as_str(), "Ada@example.com");
    assert_eq!(created.locale, "sv");
    assert_eq!(created.created_at, UnixMillis(1_000));
    assert_eq!(created.password_changed_at, UnixMillis(1_000));
    assert_eq!(created.password_hash, hash("first"));

    let by_email = store.by_email(&email("Ada@EXAMPLE.COM")).await.unwrap();
    assert_eq!(by_email.as_ref(), Some(&created));
    let by_id = store.by_id(&created.id).await.unwrap();
    assert_eq!(by_id.as_ref(), Some(&created));
}

async fn unknown_ids_and_addresses_find_nothing(store: Arc<dyn AccountStore>) {
    create(store.as_ref(), "ada@example.com").await;
    assert!(
        store
            .by_email(&email("ada@example.org"))
            .await
            .unwrap()
            .is_none()
    );
    // The local part is case-sensitive: a different mailbox.
    assert!(
        store
            .by_email(&email("ADA@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .by_id("acct_00000000000000000000000000000000")
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_second_upsert_replaces_the_password_and_keeps_the_account(store: Arc<dyn AccountStore>) {
    let created = create(store.as_ref(), "ada@example.com").await;
    let replaced = store
        .upsert(
            &email("ada@example.com"),
            &hash("second"),
            None,
            UnixMillis(2_000),
        )
        .await
        .unwrap();
    assert_eq!(replaced.id, created.id);
    assert_eq!(replaced.created_at, UnixMillis(1_000));
    assert_eq!(replaced.password_changed_at, UnixMillis(2_000));
    assert_eq!(replaced.password_hash, hash("second"));
    assert_eq!(replaced.locale, "sv", "no locale given: the old one stays");

    let relocalised = store
        .upsert(
            &email("ada@example.com"),
            &hash("third"),
            Some("de"),
            UnixMillis(3_000),
        )
        .await
        .unwrap();
    assert_eq!(relocalised.locale, "de");
    assert_eq!(
        store.by_id(&created.id).await.unwrap().map(|a| a.locale),
        Some("de".to_owned())
    );
}

async fn setting_a_password_changes_only_the_hash_and_its_time(store: Arc<dyn AccountStore>) {
    let created = create(store.as_ref(), "ada@example.com").await;
    let changed = store
        .set_password(&created.id, &hash("reset"), UnixMillis(5_000), "r1")
        .await
        .unwrap();
    assert_eq!(changed.password_hash, hash("reset"));
    assert_eq!(changed.password_changed_at, UnixMillis(5_000));
    assert_eq!(changed.email, created.email);
    assert_eq!(changed.created_at, created.created_at);
    assert_eq!(store.by_id(&created.id).await.unwrap(), Some(changed));
}

async fn setting_the_password_of_an_unknown_account_fails(store: Arc<dyn AccountStore>) {
    let outcome = store
        .set_password(
            "acct_00000000000000000000000000000000",
            &hash("x"),
            UnixMillis(1),
            "r1",
        )
        .await;
    assert!(matches!(outcome, Err(Error::AccountNotFound)));
    assert!(
        store
            .by_id("acct_00000000000000000000000000000000")
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_reset_that_set_the_password_settles_as_landed(store: Arc<dyn AccountStore>) {
    let created = create(store.as_ref(), "ada@example.com").await;
    let changed = store
        .set_password(&created.id, &hash("reset"), UnixMillis(5_000), "r1")
        .await
        .unwrap();
    let settled = store.settle_reset(&created.id, "r1").await.unwrap();
    assert_eq!(settled, Some(changed));
    // Settling again says the same: a retry and the sweeper may both ask.
    assert!(
        store
            .settle_reset(&created.id, "r1")
            .await
            .unwrap()
            .is_some()
    );
}

async fn a_reset_settled_as_not_landed_can_never_land_later(store: Arc<dyn AccountStore>) {
    let created = create(store.as_ref(), "ada@example.com").await;
    assert_eq!(store.settle_reset(&created.id, "r1").await.unwrap(), None);
    let late = store
        .set_password(&created.id, &hash("late"), UnixMillis(5_000), "r1")
        .await;
    assert!(matches!(late, Err(Error::ResetInterrupted)), "{late:?}");
    assert_eq!(
        store
            .by_id(&created.id)
            .await
            .unwrap()
            .map(|a| a.password_hash),
        Some(created.password_hash)
    );
    // Another reset is not fenced off.
    store
        .set_password(&created.id, &hash("next"), UnixMillis(6_000), "r2")
        .await
        .unwrap();
    assert!(
        store
            .settle_reset(&created.id, "r2")
            .await
            .unwrap()
            .is_some()
    );
}

async fn concurrent_upserts_of_one_new_address_create_one_account(store: Arc<dyn AccountStore>) {
    let mut upserts = tokio::task::JoinSet::new();
    for round in 0..20 {
        let store = store.clone();
        upserts.spawn(async move {
            store
                .upsert(
                    &email("race@example.com"),
                    &hash(&round.to_string()),
                    None,
                    UnixMillis(round),
                )
                .await
                .unwrap()
                .id
        });
    }
    let ids: HashSet<String> = upserts.join_all().await.into_iter().collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let page = store.list("", 100).await.unwrap();
    assert_eq!(page.accounts.len(), 1);
}

async fn listing_pages_through_every_account(store: Arc<dyn AccountStore>) {
    let mut created = HashSet::new();
    for n in 0..25 {
        created.insert(
            create(store.as_ref(), &format!("user{n}@example.com"))
                .await
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..100 {
        let page = store.list(&cursor, 7).await.unwrap();
        seen.extend(page.accounts.into_iter().map(|account| account.id));
        if page.next_cursor.is_empty() {
            break;
        }
        cursor = page.next_cursor;
    }
    // Redis SCAN may repeat a key while its table rehashes; it never skips one.
    assert!(seen.len() >= 25);
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), created);
}

async fn a_cursor_the_store_never_gave_is_refused(store: Arc<dyn AccountStore>) {
    assert!(matches!(
        store.list("not a cursor", 10).await,
        Err(Error::InvalidArgument(_))
    ));
}

async fn redis_store(redis: passreset_testkit::TestRedis) -> Arc<dyn AccountStore> {
    Stores::connect_redis(&redis.settings(), &redis.prefix)
        .await
        .unwrap()
        .account_store()
}

fn memory_store() -> Arc<dyn AccountStore> {
    Stores::in_memory().account_store()
}

passreset_testkit::store_contract!(
    redis: redis_store,
    memory: memory_store,
    cases: [
        an_upsert_creates_an_account_findable_by_id_and_address,
        unknown_ids_and_addresses_find_nothing,
        a_second_upsert_replaces_the_password_and_keeps_the_account,
        setting_a_password_changes_only_the_hash_and_its_time,
        setting_the_password_of_an_unknown_account_fails,
        a_reset_that_set_the_password_settles_as_landed,
        a_reset_settled_as_not_landed_can_never_land_later,
        concurrent_upserts_of_one_new_address_create_one_account,
        listing_pages_through_every_account,
        a_cursor_the_store_never_gave_is_refused,
    ],
);

#[tokio::test]
async fn redis_account_keys_carry_the_prefix_and_hash_tags() {
    let redis = passreset_testkit::test_redis().await;
    let store = Stores::connect_redis(&redis.settings(), &redis.prefix)
        .await
        .unwrap()
        .account_store();
    let created = create(store.as_ref(), "ada@example.com").await;
    assert_eq!(
        redis.keys().await,
        vec![
            format!("{}account-email:{{ada@example.com}}", redis.prefix),
            format!("{}account:{{{}}}", redis.prefix, created.id),
        ]
    );
}
