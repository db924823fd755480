//! Issue 11 item 5: resets arrive at once (200 by default). Resets per second beside what the
//! cores allow (cores / one argon2id hash time; goal >= 0.80), and beside what the cores hash
//! when all of them hash at once (recorded: the hashes share the caches), check-token p99 before and
//! during (goal < 10 ms), and the token service's RSS before and at its peak (memory flat:
//! bounded by TOKEN_HASH_CONCURRENCY x 19 MiB).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use http::StatusCode;

use super::{check_token, ratio};
use crate::{
    Options, floors,
    grpc::Admin,
    load::{self, Target},
    rss,
    stack::Stack,
    stats::{self, median_of},
    table::{Figure, Row},
};

/// persona's reset path.
const RESET_PATH: &str = "/v1/account/password/reset";
/// Connections checking tokens while the resets run, on a thread of their own.
const CHECKERS: usize = 4;
/// Each checker's pace: 4 x 200 = 800 checks/s, a steady load beside the burst. Saturating
/// checkers (closed loop) would take every cycle the hashes leave and measure queueing, not
/// what a burst of resets does to a check.
const CHECK_INTERVAL: Duration = Duration::from_millis(5);
/// What one argon2id hash holds.
const HASH_MIB: f64 = 19.0;

/// One round's figures.
struct Round {
    resets_per_second: f64,
    refused: u64,
    p99_before: Duration,
    p99_during: Duration,
    rss_before: f64,
    rss_peak: f64,
}

pub async fn run(stack: &Stack, options: &Options) -> anyhow::Result<Vec<Row>> {
    let admin = Admin::connect(stack.tokens.addr).await?;
    let addresses = admin.accounts("reset", options.resets).await?;
    let check = check_token::target(stack, "reset-check").await?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let (mut hash_times, mut parallel_rates) = (Vec::new(), Vec::new());
    let mut rounds = Vec::new();
    for round in 0..options.rounds.max(1) {
        hash_times.push(floors::argon2id_hash_time(5).await?.as_secs_f64());
        parallel_rates.push(floors::argon2id_parallel_rate(cores, 5).await?);
        rounds.push(one_round(stack, &admin, &addresses, &check, round, options).await?);
    }
    let hash_time = median_of(hash_times);
    let alone_bound = cores as f64 / hash_time;
    let parallel_bound = median_of(parallel_rates);
    let rate = median_of(rounds.iter().map(|r| r.resets_per_second).collect());
    let refused: u64 = rounds.iter().map(|r| r.refused).sum();
    let ms = |pick: fn(&Round) -> Duration| {
        median_of(rounds.iter().map(|r| pick(r).as_secs_f64() * 1e3).collect())
    };
    let (p99_before, p99_during) = (ms(|r| r.p99_before), ms(|r| r.p99_during));
    let mib = |pick: fn(&Round) -> f64| median_of(rounds.iter().map(pick).collect());
    let (rss_before, rss_peak) = (mib(|r| r.rss_before), mib(|r| r.rss_peak));
    let rss_bound = rss_before + cores as f64 * HASH_MIB;
    let mut resets = Figure::plain(rate, "resets/s");
    resets.others = refused;
    let alone_ratio = ratio(rate, alone_bound);
    let parallel_ratio = ratio(rate, parallel_bound);
    let mut rows = vec![
        Row {
            scenario: format!("resets, {} at once", options.resets),
            measured: resets.clone(),
            floor: Some((
                format!(
                    "{cores} cores / one argon2id hash alone ({:.1} ms)",
                    hash_time * 1e3
                ),
                Figure::plain(alone_bound, "hashes/s"),
            )),
            ratio: alone_ratio,
            goal: ">= 0.80".into(),
            met: alone_ratio.map(|ratio| ratio >= 0.80),
        },
        Row {
            scenario: format!("resets, {} at once", options.resets),
            measured: resets,
            floor: Some((
                format!("{cores} threads hashing at once"),
                Figure::plain(parallel_bound, "hashes/s"),
            )),
            ratio: parallel_ratio,
            goal: "recorded".into(),
            met: None,
        },
        Row {
            scenario: "check-token p99 during the resets".into(),
            measured: Figure::plain(p99_during, "ms"),
            floor: Some((
                "check-token p99 before".into(),
                Figure::plain(p99_before, "ms"),
            )),
            ratio: ratio(p99_during, p99_before),
            goal: "< 10 ms".into(),
            met: Some(p99_during < 10.0),
        },
    ];
    if stack.tokens.pid().is_some() {
        rows.push(Row {
            scenario: "token-service RSS, peak during the resets".into(),
            measured: Figure::plain(rss_peak, "MiB"),
            floor: Some(("before".into(), Figure::plain(rss_before, "MiB"))),
            ratio: None,
            goal: format!("<= before + {cores} x {HASH_MIB} MiB (TOKEN_HASH_CONCURRENCY)"),
            met: Some(rss_peak <= rss_bound),
        });
    }
    Ok(rows)
}

async fn one_round(
    stack: &Stack,
    admin: &Admin,
    addresses: &[String],
    check: &Target,
    round: usize,
    options: &Options,
) -> anyhow::Result<Round> {
    let mut bodies = Vec::with_capacity(addresses.len());
    for (n, email) in addresses.iter().enumerate() {
        let token = admin.token(email).await?;
        let password = format!("bench round {round} correct horse battery {n} staple");
        bodies.push(Bytes::from(
            serde_json::json!({ "token": token, "password": password, "confirmPassword": password })
                .to_string(),
        ));
    }
    let bodies = Arc::new(bodies);
    let resets = Target {
        addr: stack.gateway.addr,
        path: RESET_PATH,
        expect: StatusCode::NO_CONTENT,
        body: Arc::new(move |connection, _| bodies[connection % bodies.len()].clone()),
    };
    let pid = stack.tokens.pid();
    let rss_before = pid.and_then(rss::rss_mib).unwrap_or_default();
    let before = check_apart(check, options.duration, Arc::default())?.await?;

    let stop = Arc::new(AtomicBool::new(false));
    let checking = check_apart(check, Duration::from_secs(300), Arc::clone(&stop))?;
    let burst = async {
        let answers = load::burst(&resets, addresses.len()).await;
        stop.store(true, Ordering::Relaxed);
        answers
    };
    let (answers, rss_peak) = match pid {
        Some(pid) => rss::peak_while(pid, burst).await,
        None => (burst.await, 0.0),
    };
    let during = checking.await?;
    let ok = answers
        .iter()
        .filter(|(status, _)| *status == Some(StatusCode::NO_CONTENT))
        .count();
    let slowest = answers
        .iter()
        .map(|(_, latency)| *latency)
        .max()
        .unwrap_or_default();
    Ok(Round {
        resets_per_second: stats::Sample {
            ok: ok as u64,
            elapsed: slowest,
            ..stats::Sample::default()
        }
        .rate(),
        refused: (answers.len() - ok) as u64,
        p99_before: before.quantile(0.99),
        p99_during: during.quantile(0.99),
        rss_before,
        rss_peak,
    })
}

/// The paced checkers, on a thread and runtime of their own until `duration` passes or `stop`
/// is set: the burst's client tasks on the bench's runtime must not delay reading the checks'
/// answers (in production the two are other people's machines).
fn check_apart(
    check: &Target,
    duration: Duration,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<impl Future<Output = anyhow::Result<stats::Sample>>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (answer, answered) = tokio::sync::oneshot::channel();
    let check = check.clone();
    std::thread::Builder::new()
        .name("checkers".into())
        .spawn(move || {
            let sample = runtime.block_on(load::run_paced_until(
                &check,
                CHECKERS,
                CHECK_INTERVAL,
                duration,
                stop,
            ));
            let _ = answer.send(sample);
        })?;
    Ok(async move {
        answered
            .await
            .map_err(|_| anyhow::anyhow!("the checkers' thread ended without a result"))
    })
}
