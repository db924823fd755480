//! Argon2 under a burst: with one hashing slot and a queue of one, the rest are refused with
//! RESOURCE_EXHAUSTED before their token is touched, and no more hashes ever run at once than
//! configured (the service's own `password_hashes_in_flight` gauge, read while the burst runs).

use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;
use tonic::Code;

use crate::helpers::spawn_app_with;

const OLD_PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "correct horse battery staple";
const BURST: usize = 6;

#[tokio::test]
async fn a_burst_of_resets_beyond_the_hashing_queue_is_refused_and_leaves_its_tokens_usable() {
    let app = Arc::new(
        spawn_app_with(|config| {
            config.hash_concurrency = 1;
            config.hash_queue = 1;
            config.hash_wait = Duration::from_secs(30);
        })
        .await,
    );
    let mut tokens = Vec::new();
    for n in 0..BURST {
        let email = format!("user{n}@example.com");
        app.create_account(&email, OLD_PASSWORD).await;
        tokens.push((email.clone(), app.token_for(&email).await));
    }

    // Watch the gauge for as long as the burst runs.
    let done = Arc::new(Notify::new());
    let watcher = tokio::spawn({
        let app = Arc::clone(&app);
        let done = Arc::clone(&done);
        async move {
            let mut highest = 0.0_f64;
            loop {
                let in_flight = app.metric("password_hashes_in_flight").await;
                highest = highest.max(in_flight.expect("the gauge is exported"));
                tokio::select! {
                    () = done.notified() => return highest,
                    () = tokio::time::sleep(Duration::from_millis(5)) => {}
                }
            }
        }
    });

    let mut burst = tokio::task::JoinSet::new();
    for (email, token) in tokens {
        let app = Arc::clone(&app);
        burst.spawn(async move {
            let outcome = app.redeem(&token, NEW_PASSWORD).await;
            (email, token, outcome)
        });
    }
    let mut refused = Vec::new();
    let mut redeemed = Vec::new();
    while let Some(joined) = burst.join_next().await {
        let (email, token, outcome) = joined.unwrap();
        match outcome {
            Ok(_) => redeemed.push(email),
            Err(status) => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                refused.push((email, token));
            }
        }
    }
    done.notify_one();
    let highest = watcher.await.unwrap();

    assert!(!refused.is_empty(), "no reset of the burst was refused");
    assert!(!redeemed.is_empty(), "no reset of the burst went through");
    assert!(highest <= 1.0, "{highest} hashes ran at once");
    for email in &redeemed {
        assert!(app.verifies(email, NEW_PASSWORD).await, "{email}");
    }
    for (email, token) in &refused {
        app.check(token)
            .await
            .expect("a refused reset leaves its token usable");
        assert!(app.verifies(email, OLD_PASSWORD).await, "{email}");
    }
    // And a refused token works once the burst is over.
    let (email, token) = refused.first().unwrap();
    app.redeem(token, NEW_PASSWORD).await.unwrap();
    assert!(app.verifies(email, NEW_PASSWORD).await);
    assert_eq!(app.metric("password_hashes_in_flight").await, Some(0.0));
}
