//! Does `forgot` take as long for an address without an account as for one with? An attacker
//! who can tell the two apart by latency can enumerate accounts. This starts the whole stack
//! (real Redis, real SMTP sink, real gRPC), sends alternating forgot requests for known and
//! unknown addresses (rate limits off, each address once), and prints both medians and their
//! difference: once as configured by default (the response-time floor on), once with the floor
//! off, to show the raw gap the floor hides.
//!
//! Run: `REDIS_URL=redis://127.0.0.1:6379 cargo bench -p stack --bench forgot_parity`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark: a failed step should stop it loudly, and it prints its figures"
)]

#[allow(dead_code, reason = "shared with the e2e tests, which use all of it")]
#[path = "../tests/e2e/helpers.rs"]
mod helpers;

use std::time::{Duration, Instant};

use reqwest::StatusCode;

/// Requests per group, after the warm-up.
const SAMPLES: usize = 400;
const WARM_UP: usize = 40;

#[tokio::main]
async fn main() {
    for (label, floor) in [
        (
            "with the default GATEWAY_FORGOT_MIN_DURATION (100ms)",
            "100ms",
        ),
        (
            "with the floor off (GATEWAY_FORGOT_MIN_DURATION=0s): the raw work",
            "0s",
        ),
    ] {
        let (known, unknown) = measure(floor).await;
        let difference = (known.as_secs_f64() - unknown.as_secs_f64()).abs()
            / known.as_secs_f64().min(unknown.as_secs_f64())
            * 100.0;
        println!("forgot latency {label}, median of {SAMPLES} requests each:");
        println!("  known address    {:>8.3} ms", known.as_secs_f64() * 1e3);
        println!("  unknown address  {:>8.3} ms", unknown.as_secs_f64() * 1e3);
        println!("  difference       {difference:>8.2} %");
    }
}

/// Medians of the known and the unknown address's forgot latency with the gateway's `floor`.
async fn measure(floor: &str) -> (Duration, Duration) {
    let app = helpers::spawn_app_configured(
        passreset_testkit::test_redis().await,
        &["--limit-per-address", "off", "--limit-per-ip", "off"],
        &["--forgot-min-duration", floor],
    )
    .await;
    let accounts = SAMPLES + WARM_UP;
    for n in 0..accounts {
        app.create_account(&format!("known-{n}@example.com"), "the old password 1")
            .await;
    }

    let mut known = Vec::with_capacity(SAMPLES);
    let mut unknown = Vec::with_capacity(SAMPLES);
    for n in 0..accounts {
        // Alternate, so drift (caches, Redis, the other core) hits both groups alike.
        let pair = [
            (format!("known-{n}@example.com"), true),
            (format!("nobody-{n}@example.com"), false),
        ];
        let order = if n % 2 == 0 { [0, 1] } else { [1, 0] };
        for index in order {
            let (address, is_known) = &pair[index];
            let started = Instant::now();
            let response = app.forgot(address).await;
            let elapsed = started.elapsed();
            assert_eq!(response.status(), StatusCode::NO_CONTENT);
            if n >= WARM_UP {
                if *is_known { &mut known } else { &mut unknown }.push(elapsed);
            }
        }
    }
    app.stop().await;
    (median(&mut known), median(&mut unknown))
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}
