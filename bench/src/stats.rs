//! One measurement (a [`Sample`]) and the median of several rounds (a [`Summary`]).

use std::time::Duration;

/// What one load run saw.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Answers with the expected status.
    pub ok: u64,
    /// Any other answer or a failed request (e.g. 503 when a queue is full).
    pub others: u64,
    /// How long the run took.
    pub elapsed: Duration,
    /// The latency of every expected answer, sorted.
    pub latencies: Vec<Duration>,
}

impl Sample {
    /// Expected answers per second.
    pub fn rate(&self) -> f64 {
        if self.elapsed.is_zero() {
            return 0.0;
        }
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q` quantile (0..=1) of the latencies.
    pub fn quantile(&self, q: f64) -> Duration {
        quantile(&self.latencies, q)
    }

    /// This sample's rate and percentiles.
    pub fn summary(&self) -> Summary {
        Summary {
            rate: self.rate(),
            p50: self.quantile(0.50),
            p99: self.quantile(0.99),
            others: self.others,
        }
    }
}

/// The `q` quantile of sorted durations (zero when there are none).
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// A rate with its latency percentiles: one round's, or the median of several rounds'.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    /// Per second.
    pub rate: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Unexpected answers (summed over rounds).
    pub others: u64,
}

/// The median of each figure over the rounds (the others summed).
pub fn median(rounds: &[Summary]) -> Summary {
    let mut rates: Vec<f64> = rounds.iter().map(|round| round.rate).collect();
    rates.sort_by(f64::total_cmp);
    let mut p50s: Vec<Duration> = rounds.iter().map(|round| round.p50).collect();
    p50s.sort();
    let mut p99s: Vec<Duration> = rounds.iter().map(|round| round.p99).collect();
    p99s.sort();
    Summary {
        rate: rates.get(rates.len() / 2).copied().unwrap_or_default(),
        p50: quantile(&p50s, 0.5),
        p99: quantile(&p99s, 0.5),
        others: rounds.iter().map(|round| round.others).sum(),
    }
}

/// The median of plain numbers (e.g. hash times in seconds).
pub fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}
