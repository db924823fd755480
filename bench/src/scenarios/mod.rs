//! One module per scenario; each returns its rows of the table.

mod check_token;
mod cluster;
mod forgot;
mod idle_rss;
mod limited;
mod mail;
mod many_tokens;
mod resets;

use std::future::Future;

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
    let (mut ours, mut floors) = (Vec::new(), Vec::new());
    for round in 0..rounds.max(1) {
        if round % 2 == 0 {
            ours.push(measured().await?);
            floors.push(floor().await?);
        } else {
            floors.push(floor().await?);
            ours.push(measured().await?);
        }
    }
    Ok((stats::median(&ours), stats::median(&floors)))
}

/// measured / floor, when the floor is not zero.
pub fn ratio(measured: f64, floor: f64) -> Option<f64> {
    (floor > 0.0).then(|| measured / floor)
}
