//! Does `forgot` take as long for an address without an account as for one with, when the
//! accounts live in the platform's own directory (`TOKEN_DIRECTORY=grpc://`) and every lookup
//! costs a round trip? Both paths ask the directory once, so its latency should add to both
//! alike. This starts the whole stack over the reference directory (`examples/json-directory`)
//! answering after 5 ms and after 50 ms, sends alternating forgot requests for known and
//! unknown addresses (rate limits off, each address once), and prints both medians and their
//! difference, with the gateway's response-time floor as configured by default and with it off.
//!
//! Run: `REDIS_URL=redis://127.0.0.1:6379 cargo bench -p stack --bench directory_timing`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark: a failed step should stop it loudly, and it prints its figures"
)]

#[allow(dead_code, reason = "shared with the e2e tests, which use all of it")]
#[path = "../tests/e2e/helpers.rs"]
mod helpers;

#[path = "common/forgot_timing.rs"]
mod forgot_timing;

use std::time::Duration;

use forgot_timing::Medians;
use json_directory::{JsonDirectory, UsersFile};

/// Requests per group, after the warm-up.
const SAMPLES: usize = 200;
const WARM_UP: usize = 20;

#[tokio::main]
async fn main() {
    for latency in [Duration::from_millis(5), Duration::from_millis(50)] {
        for (label, floor) in [
            ("default floor (GATEWAY_FORGOT_MIN_DURATION=100ms)", "100ms"),
            ("floor off (0s): the raw work", "0s"),
        ] {
            measure(latency, floor).await.print(&format!(
                "directory answering in {} ms, {label}, median of {SAMPLES} requests each:",
                latency.as_millis()
            ));
        }
    }
}

/// Medians of the known and the unknown address's forgot latency over a directory answering
/// after `latency`, with the gateway's `floor`.
async fn measure(latency: Duration, floor: &str) -> Medians {
    let accounts = SAMPLES + WARM_UP;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("users.json");
    let mut users = UsersFile::default();
    for n in 0..accounts {
        let address = format!("known-{n}@example.com");
        users
            .upsert(&format!("user-{n}"), &address, "", "the old password 1")
            .unwrap();
    }
    users.save(&path).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let directory = format!("grpc://{}", listener.local_addr().unwrap());
    tokio::spawn(JsonDirectory::new(path, latency).serve(listener, std::future::pending()));

    let app = helpers::spawn_app_configured(
        passreset_testkit::test_redis().await,
        &[
            "--limit-per-address",
            "off",
            "--limit-per-ip",
            "off",
            "--directory",
            &directory,
        ],
        &["--forgot-min-duration", floor],
    )
    .await;
    let medians = forgot_timing::alternate_forgot(&app, WARM_UP, SAMPLES).await;
    app.stop().await;
    medians
}
