//! The printed table: one row per scenario, its floor beside it, the ratio against the goal.

use std::time::Duration;

use crate::{Options, stats::Summary};

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured, e.g. `check-token via the gateway`.
    pub scenario: String,
    /// Its figure, e.g. `12,345 req/s` with p50/p99.
    pub measured: Figure,
    /// What bounds it, measured in the same run, when it has a floor.
    pub floor: Option<(String, Figure)>,
    /// measured / floor (or the figure the goal is stated on).
    pub ratio: Option<f64>,
    /// The goal, as the issue states it.
    pub goal: String,
    /// Whether the goal was met (unknown when it cannot be judged here).
    pub met: Option<bool>,
}

/// A number with its unit and, for request loads, latency percentiles.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The number.
    pub value: f64,
    /// Its unit, e.g. `req/s`, `MiB`.
    pub unit: &'static str,
    /// Latency percentiles, when it is a load.
    pub latency: Option<(Duration, Duration)>,
    /// Unexpected answers (e.g. 503s), when it is a load.
    pub others: u64,
}

impl Figure {
    /// A rate with its percentiles.
    pub fn load(summary: Summary, unit: &'static str) -> Self {
        Self {
            value: summary.rate,
            unit,
            latency: Some((summary.p50, summary.p99)),
            others: summary.others,
        }
    }

    /// A plain number.
    pub fn plain(value: f64, unit: &'static str) -> Self {
        Self {
            value,
            unit,
            latency: None,
            others: 0,
        }
    }

    fn render(&self) -> String {
        let mut text = if self.value >= 100.0 {
            format!("{} {}", thousands(self.value), self.unit)
        } else {
            format!("{:.2} {}", self.value, self.unit)
        };
        if let Some((p50, p99)) = self.latency {
            text.push_str(&format!(" (p50 {} / p99 {})", millis(p50), millis(p99)));
        }
        if self.others > 0 {
            text.push_str(&format!(", {} others", self.others));
        }
        text
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

fn thousands(value: f64) -> String {
    let digits = format!("{value:.0}");
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Prints the table as Markdown, headed by the run's settings and the load average.
pub fn print(rows: &[Row], options: &Options) {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "{} rounds of {:?}, {} connections ({} for the floor-on forgot), {cores} cores, \
         load average {}",
        options.rounds,
        options.duration,
        options.connections,
        options.floor_connections,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!();
    println!("| scenario | measured | floor | floor measured | ratio | goal | met |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for row in rows {
        let (floor, floor_figure) = match &row.floor {
            Some((name, figure)) => (name.clone(), figure.render()),
            None => (String::new(), String::new()),
        };
        let ratio = row
            .ratio
            .map_or_else(String::new, |ratio| format!("{ratio:.2}"));
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        println!(
            "| {} | {} | {floor} | {floor_figure} | {ratio} | {} | {met} |",
            row.scenario,
            row.measured.render(),
            row.goal
        );
    }
}
