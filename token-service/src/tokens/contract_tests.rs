//! The token store contract, written once and run against Redis (a real server, this test's own
//! key prefix) and against the in-memory store.

use std::{sync::Arc, time::Duration};

use super::{
    codec::{Digest, Token, TokenHasher},
    store::{Claim, ClaimId, RECORD_GRACE, TokenRecord, TokenStore},
};
use crate::{Error, Stores, clock::UnixMillis};

const TTL: Duration = Duration::from_secs(30 * 60);

fn fresh_digest() -> Digest {
    TokenHasher::new(None).digest(&Token::generate().unwrap())
}

fn record_for(account_id: &str, ttl: Duration) -> TokenRecord {
    let now = UnixMillis::now();
    TokenRecord {
        account_id: account_id.to_owned(),
        email: "ada@example.com".to_owned(),
        locale: "sv".to_owned(),
        issued_at: now,
        expires_at: now.plus(ttl),
    }
}

fn claim_id() -> ClaimId {
    ClaimId::generate().unwrap()
}

/// Claims with a fresh claim id, holding for the usual 30 s.
async fn claim(store: &dyn TokenStore, digest: &Digest) -> Result<(ClaimId, TokenRecord), Error> {
    let claim = claim_id();
    let now = UnixMillis::now();
    match store
        .claim(
            digest,
            &claim,
            "persona",
            now,
            now.plus(Duration::from_secs(30)),
        )
        .await?
    {
        Claim::Held(record) => Ok((claim, record)),
        Claim::Lapsed(lapsed) => panic!("unexpected lapsed claim {lapsed:?}"),
    }
}

async fn issue(store: &dyn TokenStore, account_id: &str, revoke_older: bool) -> Digest {
    let digest = fresh_digest();
    store
        .insert(&digest, &record_for(account_id, TTL), revoke_older)
        .await
        .unwrap();
    digest
}

async fn an_issued_token_checks_valid_any_number_of_times(store: Arc<dyn TokenStore>) {
    let digest = fresh_digest();
    let record = record_for("acct_1", TTL);
    store.insert(&digest, &record, true).await.unwrap();
    for _ in 0..3 {
        let checked = store.check(&digest, UnixMillis::now()).await.unwrap();
        assert_eq!(checked, record);
    }
}

async fn a_token_never_issued_is_unknown(store: Arc<dyn TokenStore>) {
    let digest = fresh_digest();
    assert!(matches!(
        store.check(&digest, UnixMillis::now()).await,
        Err(Error::TokenUnknown)
    ));
    assert!(matches!(
        claim(store.as_ref(), &digest).await,
        Err(Error::TokenUnknown)
    ));
    assert!(!store.release(&digest, &claim_id()).await.unwrap());
    assert!(
        !store
            .finalize(&digest, &claim_id(), UnixMillis::now())
            .await
            .unwrap()
    );
}

async fn a_claimed_token_still_checks_valid_but_cannot_be_claimed_again(
    store: Arc<dyn TokenStore>,
) {
    let digest = issue(store.as_ref(), "acct_1", true).await;
    let (_, record) = claim(store.as_ref(), &digest).await.unwrap();
    assert_eq!(record.account_id, "acct_1");
    assert_eq!(record.email, "ada@example.com");
    assert_eq!(record.locale, "sv");
    store.check(&digest, UnixMillis::now()).await.unwrap();
    assert!(matches!(
        claim(store.as_ref(), &digest).await,
        Err(Error::TokenInUse)
    ));
}

async fn a_finalized_token_answers_token_spent(store: Arc<dyn TokenStore>) {
    let digest = issue(store.as_ref(), "acct_1", true).await;
    let (claim_held, _) = claim(store.as_ref(), &digest).await.unwrap();
    assert!(
        store
            .finalize(&digest, &claim_held, UnixMillis::now())
            .await
            .unwrap()
    );
    assert!(matches!(
        store.check(&digest, UnixMillis::now()).await,
        Err(Error::TokenSpent)
    ));
    assert!(matches!(
        claim(store.as_ref(), &digest).await,
        Err(Error::TokenSpent)
    ));
    // Finishing twice (a retry of interrupted bookkeeping), or releasing after finishing,
    // changes nothing.
    assert!(
        store
            .finalize(&digest, &claim_held, UnixMillis::now())
            .await
            .unwrap()
    );
    assert!(!store.release(&digest, &claim_held).await.unwrap());
    assert!(matches!(
        store.check(&digest, UnixMillis::now()).await,
        Err(Error::TokenSpent)
    ));
}

async fn a_released_token_can_be_claimed_again_but_only_by_its_holder_release(
    store: Arc<dyn TokenStore>,
) {
    let digest = issue(store.as_ref(), "acct_1", true).await;
    let (claim_held, _) = claim(store.as_ref(), &digest).await.unwrap();
    assert!(!store.release(&digest, &claim_id()).await.unwrap());
    assert!(matches!(
        claim(store.as_ref(), &digest).await,
        Err(Error::TokenInUse)
    ));
    assert!(store.release(&digest, &claim_held).await.unwrap());
    let (second, _) = claim(store.as_ref(), &digest).await.unwrap();
    // The first holder lost its hold: it can neither finish nor release.
    assert!(
        !store
            .finalize(&digest, &claim_held, UnixMillis::now())
            .await
            .unwrap()
    );
    assert!(
        store
            .finalize(&digest, &second, UnixMillis::now())
            .await
            .unwrap()
    );
}

async fn a_lapsed_claim_is_reported_and_listed_never_taken_over(store: Arc<dyn TokenStore>) {
    let digest = issue(store.as_ref(), "acct_1", true).await;
    let start = UnixMillis::now();
    let first = claim_id();
    let held = store
        .claim(
            &digest,
            &first,
            "metal",
            start,
            start.plus(Duration::from_millis(50)),
        )
        .await
        .unwrap();
    let Claim::Held(record) = held else {
        panic!("not held: {held:?}");
    };
    // Before its deadline the claim is neither listed nor reported.
    assert!(!listed(store.as_ref(), &digest, start).await);
    let later = start.plus(Duration::from_millis(100));
    assert!(listed(store.as_ref(), &digest, later).await);
    let second = claim_id();
    let again = store
        .claim(
            &digest,
            &second,
            "persona",
            later,
            later.plus(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    let Claim::Lapsed(lapsed) = again else {
        panic!("taken over: {again:?}");
    };
    assert_eq!(lapsed.claim, first);
    assert_eq!(lapsed.record, record);
    assert_eq!(lapsed.surface, "metal");
    // The second redemption holds nothing: only the first claim can finish.
    assert!(!store.finalize(&digest, &second, later).await.unwrap());
    assert!(store.finalize(&digest, &first, later).await.unwrap());
    assert!(!listed(store.as_ref(), &digest, later).await);
}

async fn finalizing_the_same_claim_again_is_a_success_and_changes_nothing(
    store: Arc<dyn TokenStore>,
) {
    let digest = issue(store.as_ref(), "acct_1", true).await;
    let (held, _) = claim(store.as_ref(), &digest).await.unwrap();
    assert!(
        store
            .finalize(&digest, &held, UnixMillis::now())
            .await
            .unwrap()
    );
    assert!(
        store
            .finalize(&digest, &held, UnixMillis::now())
            .await
            .unwrap()
    );
    assert!(
        !store
            .finalize(&digest, &claim_id(), UnixMillis::now())
            .await
            .unwrap()
    );
    assert!(matches!(
        store.check(&digest, UnixMillis::now()).await,
        Err(Error::TokenSpent)
    ));
}

async fn a_released_claim_is_no_longer_listed(store: Arc<dyn TokenStore>) {
    let digest = issue(store.as_ref(), "acct_1", true).await;
    let (held, _) = claim(store.as_ref(), &digest).await.unwrap();
    let much_later = UnixMillis::now().plus(Duration::from_secs(60));
    assert!(listed(store.as_ref(), &digest, much_later).await);
    assert!(store.release(&digest, &held).await.unwrap());
    assert!(!listed(store.as_ref(), &digest, much_later).await);
}

/// Whether the sweeper's list at `now` holds `digest`.
async fn listed(store: &dyn TokenStore, digest: &Digest, now: UnixMillis) -> bool {
    store
        .lapsed(now, 1000)
        .await
        .unwrap()
        .iter()
        .any(|lapsed| &lapsed.digest == digest)
}

async fn an_expired_token_answers_token_expired(store: Arc<dyn TokenStore>) {
    let digest = fresh_digest();
    store
        .insert(&digest, &record_for("acct_1", Duration::from_secs(1)), true)
        .await
        .unwrap();
    store.check(&digest, UnixMillis::now()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(matches!(
        store.check(&digest, UnixMillis::now()).await,
        Err(Error::TokenExpired)
    ));
    assert!(matches!(
        claim(store.as_ref(), &digest).await,
        Err(Error::TokenExpired)
    ));
}

async fn a_newer_token_revokes_the_older_ones_when_asked(store: Arc<dyn TokenStore>) {
    let first = issue(store.as_ref(), "acct_1", true).await;
    let second = issue(store.as_ref(), "acct_1", true).await;
    assert!(matches!(
        store.check(&first, UnixMillis::now()).await,
        Err(Error::TokenUnknown)
    ));
    store.check(&second, UnixMillis::now()).await.unwrap();

    let kept = issue(store.as_ref(), "acct_1", false).await;
    store.check(&second, UnixMillis::now()).await.unwrap();
    store.check(&kept, UnixMillis::now()).await.unwrap();

    // A token written while its elders were revoked is still found by the next revocation.
    let newest = issue(store.as_ref(), "acct_1", true).await;
    for revoked in [&second, &kept] {
        assert!(matches!(
            store.check(revoked, UnixMillis::now()).await,
            Err(Error::TokenUnknown)
        ));
    }
    store.check(&newest, UnixMillis::now()).await.unwrap();
}

/// Each issue reads the account's older tokens before it writes its own, so issues racing for
/// one account can never revoke every one of their tokens.
async fn twenty_concurrent_issues_for_one_account_leave_a_usable_token(store: Arc<dyn TokenStore>) {
    let mut issues = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        issues.spawn(async move { issue(store.as_ref(), "acct_1", true).await });
    }
    let mut usable = 0;
    for digest in issues.join_all().await {
        match store.check(&digest, UnixMillis::now()).await {
            Ok(_) => usable += 1,
            Err(Error::TokenUnknown) => {}
            Err(other) => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(usable >= 1, "every racing issue was revoked");
}

async fn a_completed_redemption_revokes_every_other_token_of_the_account(
    store: Arc<dyn TokenStore>,
) {
    let first = issue(store.as_ref(), "acct_1", false).await;
    let redeemed = issue(store.as_ref(), "acct_1", false).await;
    let third = issue(store.as_ref(), "acct_1", false).await;
    let someone_elses = issue(store.as_ref(), "acct_2", false).await;

    let (held, _) = claim(store.as_ref(), &redeemed).await.unwrap();
    assert!(
        store
            .finalize(&redeemed, &held, UnixMillis::now())
            .await
            .unwrap()
    );
    for revoked in [&first, &third] {
        assert!(matches!(
            store.check(revoked, UnixMillis::now()).await,
            Err(Error::TokenUnknown)
        ));
    }
    assert!(matches!(
        store.check(&redeemed, UnixMillis::now()).await,
        Err(Error::TokenSpent)
    ));
    store
        .check(&someone_elses, UnixMillis::now())
        .await
        .unwrap();
}

async fn fifty_concurrent_claims_of_one_token_have_exactly_one_winner(store: Arc<dyn TokenStore>) {
    let digest = issue(store.as_ref(), "acct_1", true).await;
    let mut claims = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let store = store.clone();
        let digest = digest.clone();
        claims.spawn(async move { claim(store.as_ref(), &digest).await });
    }
    let mut winners = 0;
    while let Some(outcome) = claims.join_next().await {
        match outcome.unwrap() {
            Ok(_) => winners += 1,
            Err(Error::TokenInUse) => {}
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }
    assert_eq!(winners, 1);
}

async fn redis_store(redis: passreset_testkit::TestRedis) -> Arc<dyn TokenStore> {
    Stores::connect_redis(&redis.settings(), &redis.prefix)
        .await
        .unwrap()
        .token_store()
}

fn memory_store() -> Arc<dyn TokenStore> {
    Stores::in_memory().token_store()
}

async fn a_revoked_token_is_unknown_and_revoking_twice_is_fine(store: Arc<dyn TokenStore>) {
    let revoked = issue(store.as_ref(), "acct_1", false).await;
    let kept = issue(store.as_ref(), "acct_1", false).await;
    store.revoke(&revoked).await.unwrap();
    store.revoke(&revoked).await.unwrap();
    store.revoke(&fresh_digest()).await.unwrap();
    assert!(matches!(
        store.check(&revoked, UnixMillis::now()).await,
        Err(Error::TokenUnknown)
    ));
    store.check(&kept, UnixMillis::now()).await.unwrap();
}

passreset_testkit::store_contract!(
    redis: redis_store,
    memory: memory_store,
    cases: [
        an_issued_token_checks_valid_any_number_of_times,
        a_token_never_issued_is_unknown,
        a_claimed_token_still_checks_valid_but_cannot_be_claimed_again,
        a_finalized_token_answers_token_spent,
        a_released_token_can_be_claimed_again_but_only_by_its_holder_release,
        a_lapsed_claim_is_reported_and_listed_never_taken_over,
        finalizing_the_same_claim_again_is_a_success_and_changes_nothing,
        a_released_claim_is_no_longer_listed,
        an_expired_token_answers_token_expired,
        a_newer_token_revokes_the_older_ones_when_asked,
        twenty_concurrent_issues_for_one_account_leave_a_usable_token,
        a_completed_redemption_revokes_every_other_token_of_the_account,
        fifty_concurrent_claims_of_one_token_have_exactly_one_winner,
        a_revoked_token_is_unknown_and_revoking_twice_is_fine,
    ],
);

#[tokio::test]
async fn redis_keeps_token_records_only_until_their_grace_period_ends() {
    let redis = passreset_testkit::test_redis().await;
    let store = Stores::connect_redis(&redis.settings(), &redis.prefix)
        .await
        .unwrap()
        .token_store();
    issue(store.as_ref(), "acct_1", true).await;
    let keys = redis.keys().await;
    assert_eq!(
        keys.len(),
        2,
        "one token hash and the account's set: {keys:?}"
    );
    let mut connection = redis.connection().await;
    let longest = i64::try_from((TTL + RECORD_GRACE).as_millis()).unwrap();
    for key in keys {
        assert!(key.starts_with(&redis.prefix));
        let pttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!(pttl > 0 && pttl <= longest, "{key} expires in {pttl} ms");
    }
}

#[tokio::test]
async fn memory_forgets_a_record_once_its_grace_period_ends() {
    let store = memory_store();
    let digest = fresh_digest();
    let record = record_for("acct_1", TTL);
    store.insert(&digest, &record, true).await.unwrap();
    let just_before = UnixMillis(record.forget_at().0 - 1);
    assert!(matches!(
        store.check(&digest, just_before).await,
        Err(Error::TokenExpired)
    ));
    assert!(matches!(
        store.check(&digest, record.forget_at()).await,
        Err(Error::TokenUnknown)
    ));
}
