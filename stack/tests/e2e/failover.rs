//! Failover under load, on a Redis Cluster of the test's own: while forgot and reset requests
//! flow, the master serving the mail queue's slot is failed over to its replica
//! (`CLUSTER FAILOVER`), then the new master is killed. Requests in the gap get 503 with
//! `Retry-After` (never a hang), health goes NOT_SERVING and back, the services answer again
//! without a restart, every accepted mail arrives once and no token is spent twice.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use passreset_testkit::RedisCluster;
use reqwest::StatusCode;
use tokio::task::JoinSet;

use crate::{
    helpers::{RESET_URL, TestApp, spawn_app_on, token_in},
    operations::{eventually, token_health},
};

const ACCOUNTS: usize = 4;
const OLD_PASSWORD: &str = "the old password 1";
/// Longer than any answer may take: a request still open then is a hang.
const HANG: Duration = Duration::from_secs(20);

fn email(n: usize) -> String {
    format!("failover{n}@example.com")
}

/// What the load saw.
#[derive(Default)]
struct Seen {
    /// Forgot requests answered 204: each owes exactly one mail.
    accepted: AtomicUsize,
    /// Every status, with whether a 503 said `Retry-After`.
    statuses: Mutex<Vec<(StatusCode, bool)>>,
    /// Reset answers per token.
    resets: Mutex<HashMap<String, Vec<StatusCode>>>,
}

impl Seen {
    fn record(&self, status: StatusCode, retry_after: bool) {
        self.statuses.lock().unwrap().push((status, retry_after));
    }
}

#[tokio::test]
async fn a_master_failed_over_then_killed_under_load_loses_no_mail_and_spends_no_token_twice() {
    // Nodes give up on a silent master after 5 s: a gap long enough to see NOT_SERVING.
    let mut cluster = RedisCluster::start_with_node_timeout(Duration::from_secs(5)).await;
    let redis = cluster.test_redis();
    // The master serving this deployment's mail queue (its keys' hash tag).
    let mail_tag = format!("{{{}mail}}", redis.prefix);
    let app = Arc::new(
        spawn_app_on(
            redis,
            &[
                "--limit-per-ip",
                "off",
                "--limit-per-address",
                "off",
                "--revoke-older-tokens",
                "false",
            ],
        )
        .await,
    );
    for n in 0..ACCOUNTS {
        app.create_account(&email(n), OLD_PASSWORD).await;
    }
    let seen = Arc::new(Seen::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = JoinSet::new();
    for worker in 0..3 {
        load.spawn(forgot_loop(app.clone(), seen.clone(), stop.clone(), worker));
    }
    load.spawn(reset_loop(app.clone(), seen.clone(), stop.clone()));
    let accepted_at_least = async |count: usize| {
        let target = seen.accepted.load(Ordering::SeqCst) + count;
        for _ in 0..600 {
            if seen.accepted.load(Ordering::SeqCst) >= target {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the load never reached {target} accepted requests");
    };
    accepted_at_least(10).await;

    let old_master = cluster.master_of(&mail_tag).await;
    let replica = cluster.replica_of(old_master).await;
    cluster.fail_over_to(replica).await;
    accepted_at_least(10).await;

    cluster.kill(replica).await;
    eventually("NOT_SERVING while the slot has no master", async || {
        token_health(&app).await == 2
    })
    .await;
    cluster.wait_until_healthy().await;
    eventually("SERVING once a replica took over", async || {
        token_health(&app).await == 1
    })
    .await;
    // Answering again, without a restart.
    accepted_at_least(10).await;
    stop.store(true, Ordering::SeqCst);
    while let Some(finished) = load.join_next().await {
        finished.expect("a load task ran to its end");
    }

    let statuses = seen.statuses.lock().unwrap().clone();
    for (status, retry_after) in &statuses {
        match *status {
            StatusCode::NO_CONTENT => {}
            StatusCode::SERVICE_UNAVAILABLE => assert!(retry_after, "503 without Retry-After"),
            other => panic!("a forgot request was answered {other}"),
        }
    }
    let accepted = seen.accepted.load(Ordering::SeqCst);
    let refused = statuses.len() - accepted;
    // Each accepted request's mail arrives; a refused one may have been queued all the same.
    let reset_mails = async || {
        app.smtp
            .messages()
            .into_iter()
            .filter(|mail| {
                mail.text_body()
                    .contains(RESET_URL.trim_end_matches("{token}"))
            })
            .count()
    };
    for _ in 0..600 {
        if reset_mails().await >= accepted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered = reset_mails().await;
    assert!(
        (accepted..=accepted + refused).contains(&delivered),
        "{accepted} accepted, {refused} refused, {delivered} reset mails"
    );
    let mut ids = HashSet::new();
    for mail in app.smtp.messages() {
        let id = mail.message_id().expect("every mail has a Message-ID");
        assert!(ids.insert(id.clone()), "{id} was delivered twice");
    }
    for (token, answers) in seen.resets.lock().unwrap().iter() {
        let won = answers
            .iter()
            .filter(|status| **status == StatusCode::NO_CONTENT)
            .count();
        assert!(
            won <= 1,
            "a token was spent {won} times: {answers:?} ({token:.8}...)"
        );
    }
    println!(
        "failover: {accepted} forgot accepted, {refused} refused with 503, {delivered} reset \
         mails, {} tokens tried",
        seen.resets.lock().unwrap().len()
    );
}

/// Sends forgot requests for the test's accounts until told to stop.
async fn forgot_loop(app: Arc<TestApp>, seen: Arc<Seen>, stop: Arc<AtomicBool>, worker: usize) {
    let mut n = worker;
    while !stop.load(Ordering::SeqCst) {
        let response = tokio::time::timeout(HANG, app.forgot(&email(n % ACCOUNTS)))
            .await
            .expect("a forgot request hung");
        let retry_after = response.headers().contains_key("retry-after");
        if response.status() == StatusCode::NO_CONTENT {
            seen.accepted.fetch_add(1, Ordering::SeqCst);
        }
        seen.record(response.status(), retry_after);
        n += 3;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Redeems every fourth mailed token twice at once until told to stop (a password hash is
/// costly on a shared CI box; the others stay unspent).
async fn reset_loop(app: Arc<TestApp>, seen: Arc<Seen>, stop: Arc<AtomicBool>) {
    let mut tried = 0;
    let link = RESET_URL.trim_end_matches("{token}");
    while !stop.load(Ordering::SeqCst) {
        let mails = app.smtp.messages();
        let tokens = mails
            .iter()
            .filter(|mail| mail.text_body().contains(link))
            .map(token_in)
            .collect::<Vec<_>>();
        for token in tokens.iter().skip(tried).step_by(4) {
            let password = format!("a brand new password {tried}");
            let (first, second) = tokio::join!(
                tokio::time::timeout(HANG, app.reset(token, &password, &password)),
                tokio::time::timeout(HANG, app.reset(token, &password, &password)),
            );
            let answers = [first, second]
                .into_iter()
                .map(|answer| answer.expect("a reset request hung").status())
                .collect();
            seen.resets.lock().unwrap().insert(token.clone(), answers);
        }
        tried = tried.max(tokens.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
