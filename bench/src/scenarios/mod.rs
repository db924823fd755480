//! One module per scenario; each returns its rows of the table.

mod check_token;
mod cluster;
mod forgot;
mod idle_rss;
mod limited;
mod mail;
mod many_tokens;
mod resets;

use std::{future::Future, pin::Pin};

use crate::{
    Options, Scenario,
    stack::Stack,
    stats::{self, Summary},
    table::Row,
};

/// Runs one scenario.
pub async fn run(scenario: Scenario, stack: &Stack, options: &Options) -> anyhow::Result<Vec<Row>> {
    match scenario {
        Scenario::IdleRss => idle_rss::run(stack).await,
        Scenario::CheckToken => check_token::run(stack, options).await,
        Scenario::ManyTokens => many_tokens::run(stack, options).await,
        Scenario::Limited => limited::run(stack, options).await,
        Scenario::Mail => mail::run(stack, options).await,
        Scenario::Resets => resets::run(stack, options).await,
        Scenario::Cluster => cluster::run(stack, options).await,
        Scenario::Forgot => forgot::run(stack, options).await,
    }
}

/// `rounds` rounds of `measured` and `floor`, alternating which goes first, so drift (the
/// other engineers' builds, caches) hits both alike; returns both medians.
pub async fn alternate<A, B, FA, FB>(
    rounds: usize,
    mut measured: A,
    mut floor: B,
) -> anyhow::Result<(Summary, Summary)>
where
    A: FnMut() -> FA,
    B: FnMut() -> FB,
    FA: Future<Output = anyhow::Result<Summary>>,
    FB: Future<Output = anyhow::Result<Summary>>,
{
    let [ours, floor] = rotate(rounds, |which| -> BoxedMeasurement<'_> {
        if which == 0 {
            Box::pin(measured())
        } else {
            Box::pin(floor())
        }
    })
    .await?;
    Ok((ours, floor))
}

/// One measurement of [`rotate`]'s, whichever it is.
pub type BoxedMeasurement<'a> = Pin<Box<dyn Future<Output = anyhow::Result<Summary>> + 'a>>;

/// `rounds` rounds of `N` measurements (`measure(0)` to `measure(N - 1)`), each round
/// starting with the next one; returns each one's median.
pub async fn rotate<const N: usize, F, Fut>(
    rounds: usize,
    mut measure: F,
) -> anyhow::Result<[Summary; N]>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<Summary>>,
{
    let mut all: [Vec<Summary>; N] = std::array::from_fn(|_| Vec::new());
    for round in 0..rounds.max(1) {
        for step in 0..N {
            let which = (round + step) % N;
            let summary = measure(which).await?;
            // On stderr as it is taken: drift over the run shows here, not in the medians.
            eprintln!(
                "  round {round}, measurement {which}: {:.0}/s, p50 {:.2?}, p99 {:.2?}",
                summary.rate, summary.p50, summary.p99
            );
            all[which].push(summary);
        }
    }
    Ok(all.map(|summaries| stats::median(&summaries)))
}

/// measured / floor, when the floor is not zero.
pub fn ratio(measured: f64, floor: f64) -> Option<f64> {
    (floor > 0.0).then(|| measured / floor)
}
