//! What the benchmark runs: scenarios, rounds, durations, sizes.

use std::time::Duration;

/// The scenarios of issue 15, in the order they run: forgot goes last because the mail
/// backlog it leaves keeps the mail service busy for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Scenario {
    /// Idle RSS of each service (before and after the other scenarios).
    IdleRss,
    /// check-token through the gateway vs a bare axum handler doing one Redis GET.
    CheckToken,
    /// check-token with many live tokens vs with 1k.
    ManyTokens,
    /// A 429 answer vs a bare axum handler doing one Redis script call.
    Limited,
    /// Mail dispatch vs a raw SMTP sender with TCP_NODELAY.
    Mail,
    /// Resets arriving at once: resets/s vs cores / hash time, memory, check-token p99.
    Resets,
    /// check-token and forgot on a 3-master, 3-replica Redis Cluster vs on one Redis.
    Cluster,
    /// forgot for known addresses, floor off; and floor on vs off at 512 connections.
    Forgot,
}

/// What a process the bench starts for a floor serves.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Serves one half of the bare hop (the bench starts these itself).
    #[command(hide = true)]
    ServeFloor {
        #[command(subcommand)]
        half: crate::floors::HopHalf,
    },
}

/// Command-line options.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "bench",
    about = "passreset's scenarios beside their floors, in one run"
)]
pub struct Options {
    /// Set only in the processes the bench starts for its floors.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Scenarios to run, comma-separated (all when none is given).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub scenarios: Vec<Scenario>,
    /// Rounds per scenario; each round measures the scenario and its floor, alternating
    /// which goes first.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// How long each throughput measurement runs.
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Connections of the HTTP load generator.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Connections for "forgot with the floor on" (the 512).
    #[arg(long, default_value_t = 512)]
    pub floor_connections: usize,
    /// Live tokens for the many-tokens scenario.
    #[arg(long, default_value_t = 1_000_000)]
    pub many_tokens: usize,
    /// Mails per dispatch round.
    #[arg(long, default_value_t = 4000)]
    pub mails: usize,
    /// Resets that arrive at once.
    #[arg(long, default_value_t = 200)]
    pub resets: usize,
    /// A short run: 2 rounds of 1 s, 100k live tokens, 1000 mails.
    #[arg(long)]
    pub quick: bool,
}

impl Options {
    /// The options with `--quick` applied.
    pub fn effective(mut self) -> Self {
        if self.quick {
            self.rounds = self.rounds.min(2);
            self.duration = self.duration.min(Duration::from_secs(1));
            self.many_tokens = self.many_tokens.min(100_000);
            self.mails = self.mails.min(1000);
        }
        self
    }

    /// The scenarios to run, in running order.
    pub fn chosen(&self) -> Vec<Scenario> {
        use clap::ValueEnum as _;
        let mut chosen = if self.scenarios.is_empty() {
            Scenario::value_variants().to_vec()
        } else {
            self.scenarios.clone()
        };
        chosen.sort();
        chosen.dedup();
        chosen
    }
}
