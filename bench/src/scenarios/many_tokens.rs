//! check-token throughput with many live tokens (1M by default) beside with 1k. Redis keeps
//! one keyspace, so the two cannot alternate: 1k rounds first, then the same rounds after the
//! fill, then the filler is deleted. Goal: >= 0.95.

use std::time::Instant;

use super::{check_token, ratio};
use crate::{
    Options, load,
    stack::Stack,
    stats,
    table::{Figure, Row},
};

/// Records written per pipeline.
const BATCH: usize = 10_000;

pub async fn run(stack: &Stack, options: &Options) -> anyhow::Result<Vec<Row>> {
    let check = check_token::target(stack, "many").await?;
    let mut connection = passreset_redis::connect(
        &passreset_redis::RedisSettings::single(&stack.redis.url),
        passreset_redis::RESPONSE_TIMEOUT,
    )
    .await?;
    let (connections, duration) = (options.connections, options.duration);
    let measure = async || {
        let mut rounds = Vec::new();
        for _ in 0..options.rounds.max(1) {
            rounds.push(load::run(&check, connections, duration).await.summary());
        }
        stats::median(&rounds)
    };
    let few = 1000.min(options.many_tokens);
    fill(&mut connection, &stack.redis.prefix, 0..few).await?;
    let with_few = measure().await;
    let started = Instant::now();
    fill(
        &mut connection,
        &stack.redis.prefix,
        few..options.many_tokens,
    )
    .await?;
    eprintln!(
        "bench: {} live tokens written in {:?}",
        options.many_tokens,
        started.elapsed()
    );
    let with_many = measure().await;
    remove(&mut connection, &stack.redis.prefix, 0..options.many_tokens).await?;
    let ratio = ratio(with_many.rate, with_few.rate);
    Ok(vec![Row {
        scenario: format!("check-token with {} live tokens", options.many_tokens),
        measured: Figure::load(with_many, "req/s"),
        floor: Some((
            format!("the same with {few}"),
            Figure::load(with_few, "req/s"),
        )),
        ratio,
        goal: ">= 0.95".into(),
        met: ratio.map(|ratio| ratio >= 0.95),
    }])
}

/// The key of the `n`-th filler token, shaped as the token service's (`token:{<digest>}`).
fn key(prefix: &str, n: usize) -> String {
    format!("{prefix}token:{{{n:064x}}}")
}

/// Writes live token records as the token service does (a hash that expires in an hour).
async fn fill(
    connection: &mut passreset_redis::RedisConnection,
    prefix: &str,
    range: std::ops::Range<usize>,
) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let expires = (now.as_secs() + 3600).to_string();
    let forget_at = now.as_millis() as i64 + 3_600_000;
    let indices: Vec<usize> = range.collect();
    for batch in indices.chunks(BATCH) {
        let mut pipe = redis::pipe();
        for &n in batch {
            let key = key(prefix, n);
            pipe.hset_multiple(
                &key,
                &[
                    ("account_id", format!("filler-{n}").as_str()),
                    ("email", format!("filler-{n}@bench.test").as_str()),
                    ("locale", ""),
                    ("issued_at", &now.as_secs().to_string()),
                    ("expires_at", &expires),
                    ("state", "valid"),
                ],
            )
            .ignore()
            .pexpire_at(&key, forget_at)
            .ignore();
        }
        pipe.query_async::<()>(connection).await?;
    }
    Ok(())
}

async fn remove(
    connection: &mut passreset_redis::RedisConnection,
    prefix: &str,
    range: std::ops::Range<usize>,
) -> anyhow::Result<()> {
    let indices: Vec<usize> = range.collect();
    for batch in indices.chunks(BATCH) {
        let keys: Vec<String> = batch.iter().map(|&n| key(prefix, n)).collect();
        redis::cmd("UNLINK")
            .arg(keys)
            .query_async::<()>(connection)
            .await?;
    }
    Ok(())
}
