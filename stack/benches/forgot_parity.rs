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

#[path = "common/forgot_timing.rs"]
mod forgot_timing;

use forgot_timing::Medians;

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
        measure(floor).await.print(&format!(
            "forgot latency {label}, median of {SAMPLES} requests each:"
        ));
    }
}

/// Medians of the known and the unknown address's forgot latency with the gateway's `floor`.
async fn measure(floor: &str) -> Medians {
    let app = helpers::spawn_app_configured(
        passreset_testkit::test_redis().await,
        &["--limit-per-address", "off", "--limit-per-ip", "off"],
        &["--forgot-min-duration", floor],
    )
    .await;
    for n in 0..SAMPLES + WARM_UP {
        app.create_account(&format!("known-{n}@example.com"), "the old password 1")
            .await;
    }
    let medians = forgot_timing::alternate_forgot(&app, WARM_UP, SAMPLES).await;
    app.stop().await;
    medians
}
