//! passreset's benchmark: each scenario of issue 15 beside its floor, measured in the same run,
//! alternating, as medians of several rounds.
//!
//! - [`options`]: what to run and for how long (`--quick`, `--scenarios`, ...);
//! - [`stack`]: the parts under test: a private Redis, a counting SMTP sink, and the services
//!   as the workspace's binaries (or in this process, as the smoke test starts them);
//! - [`load`]: the HTTP load generator (N keep-alive connections) and one-shot bursts;
//! - [`floors`]: what bounds each scenario: bare axum handlers doing one Redis GET or one
//!   script call, the bare hop (axum -> tonic -> one GET, two processes), a raw SMTP sender
//!   with `TCP_NODELAY`, argon2id hashes alone and all cores at once;
//! - [`grpc`]: the admin calls that prepare accounts and tokens;
//! - `ports`: a free local port, and waiting until something listens on it;
//! - [`scenarios`]: one module per scenario, each returning rows of the table;
//! - [`stats`], [`table`]: medians, percentiles and the printed table.
#![allow(
    clippy::print_stdout,
    reason = "a benchmark program: the table is its output"
)]

pub mod floors;
pub mod grpc;
pub mod load;
pub mod options;
mod ports;
pub mod rss;
pub mod scenarios;
pub mod stack;
pub mod stats;
pub mod table;

pub use options::{Options, Scenario};
pub use table::Row;

/// Starts the stack (the services as the workspace's binaries, or by `in_process`), runs the
/// chosen scenarios in order and returns their rows.
pub async fn run(
    options: &Options,
    in_process: Option<stack::InProcess>,
) -> anyhow::Result<Vec<Row>> {
    let stack = stack::Stack::start(options, in_process).await?;
    let mut rows = Vec::new();
    for scenario in options.chosen() {
        eprintln!("bench: {scenario:?}");
        rows.extend(scenarios::run(scenario, &stack, options).await?);
    }
    Ok(rows)
}
