//! What the forgot-parity benchmarks share: alternating forgot requests for known and unknown
//! addresses against a running stack, and how their medians are printed.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::TestApp;

/// The medians of the known and the unknown address's forgot latency.
#[derive(Debug)]
pub struct Medians {
    pub known: Duration,
    pub unknown: Duration,
}

/// Sends a forgot for `known-<n>@example.com` (which must have accounts) and for
/// `nobody-<n>@example.com`, for each `n` below `warm_up + samples`, and takes the medians of
/// the last `samples` of each. Each address is asked once, so rate limits must be off.
pub async fn alternate_forgot(app: &TestApp, warm_up: usize, samples: usize) -> Medians {
    let mut known = Vec::with_capacity(samples);
    let mut unknown = Vec::with_capacity(samples);
    for n in 0..warm_up + samples {
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
            if n >= warm_up {
                if *is_known { &mut known } else { &mut unknown }.push(elapsed);
            }
        }
    }
    Medians {
        known: median(&mut known),
        unknown: median(&mut unknown),
    }
}

impl Medians {
    /// Prints both medians and how far apart they are, under `heading`.
    pub fn print(&self, heading: &str) {
        let (known, unknown) = (self.known.as_secs_f64(), self.unknown.as_secs_f64());
        let difference = (known - unknown).abs() / known.min(unknown) * 100.0;
        println!("{heading}");
        println!("  known address    {:>8.3} ms", known * 1e3);
        println!("  unknown address  {:>8.3} ms", unknown * 1e3);
        println!("  difference       {difference:>8.2} %");
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}
