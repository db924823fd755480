//! What a Redis Cluster costs (or gains) against one Redis: the whole stack (real gRPC, real
//! SMTP sink) runs once on a single private Redis and once on a 3-master, 3-replica cluster on
//! loopback, in one run, and each serves the same burst of check-token and forgot requests
//! (rate limits and the forgot floor off, `CONCURRENCY` clients at once). Prints each
//! throughput and the cluster/single ratio.
//!
//! Run: `cargo bench -p stack --bench redis_cluster`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark: a failed step should stop it loudly, and it prints its figures"
)]

#[allow(dead_code, reason = "shared with the e2e tests, which use all of it")]
#[path = "../tests/e2e/helpers.rs"]
mod helpers;

use std::time::Instant;

use passreset_testkit::{RedisCluster, RedisProcess, TestRedis};
use reqwest::StatusCode;

/// Requests per measurement, and how many are in flight at once.
const REQUESTS: usize = 2000;
const CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() {
    let single = RedisProcess::start().await;
    let cluster = RedisCluster::start_with_node_timeout(std::time::Duration::from_secs(15)).await;
    let single = measure(single.test_redis()).await;
    let cluster = measure(cluster.test_redis()).await;
    println!("requests per second, {REQUESTS} requests, {CONCURRENCY} at once:");
    println!("              single    cluster   cluster/single");
    for (name, single, cluster) in [
        ("check-token", single.0, cluster.0),
        ("forgot", single.1, cluster.1),
    ] {
        println!(
            "  {name:<11} {single:>8.0}  {cluster:>8.0}   {:>6.2}",
            cluster / single
        );
    }
}

/// Check-token and forgot throughput (requests per second) on `redis`.
async fn measure(redis: TestRedis) -> (f64, f64) {
    let app = helpers::spawn_app_configured(
        redis,
        &["--limit-per-address", "off", "--limit-per-ip", "off"],
        &["--forgot-min-duration", "0s"],
    )
    .await;
    app.create_account("bench@example.com", "the old password 1")
        .await;
    assert_eq!(
        app.forgot("bench@example.com").await.status(),
        StatusCode::NO_CONTENT
    );
    let token = helpers::token_in(&app.mail_number(1).await);
    let check = burst(async |_| {
        assert_eq!(
            app.check_token(&token).await.status(),
            StatusCode::NO_CONTENT
        );
    })
    .await;
    // Unknown addresses: the same token-service and queue calls, and no mail to deliver.
    let forgot = burst(async |n| {
        let address = format!("nobody-{n}@example.com");
        assert_eq!(app.forgot(&address).await.status(), StatusCode::NO_CONTENT);
    })
    .await;
    app.stop().await;
    (check, forgot)
}

/// Runs `request(n)` for `n` in `0..REQUESTS`, `CONCURRENCY` at a time; requests per second.
async fn burst(request: impl AsyncFn(usize)) -> f64 {
    use futures::StreamExt as _;
    let started = Instant::now();
    futures::stream::iter(0..REQUESTS)
        .for_each_concurrent(CONCURRENCY, |n| request(n))
        .await;
    REQUESTS as f64 / started.elapsed().as_secs_f64()
}
