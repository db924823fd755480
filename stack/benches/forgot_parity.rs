//! Does `forgot` take as long for an address without an account as for one with? An attacker
//! who can tell the two apart by latency can enumerate accounts. This starts the whole stack
//! (real Redis, real SMTP sink, real gRPC), sends alternating forgot requests for known and
//! unknown addresses (each address once, so no rate limit is involved), and prints both
//! medians and their difference.
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
    let app =
        helpers::spawn_app_with(&["--limit-per-address", "off", "--limit-per-ip", "off"]).await;
    let accounts = SAMPLES + WARM_UP;
    println!("creating {accounts} accounts");
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

    let known = median(&mut known);
    let unknown = median(&mut unknown);
    let difference = (known.as_secs_f64() - unknown.as_secs_f64()).abs()
        / known.as_secs_f64().min(unknown.as_secs_f64())
        * 100.0;
    println!("forgot latency over {SAMPLES} requests each (median):");
    println!("  known address    {:>8.3} ms", known.as_secs_f64() * 1e3);
    println!("  unknown address  {:>8.3} ms", unknown.as_secs_f64() * 1e3);
    println!("  difference       {difference:>8.2} %");
    app.stop().await;
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}
