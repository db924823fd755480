//! A 429: forgot for an address over its limit (the token service's defaults, 5/1h per
//! address), beside a bare axum handler doing one Redis script call. Goal: >= 0.50.

use bytes::Bytes;
use http::StatusCode;

use super::{alternate, ratio};
use crate::{
    Options,
    floors::SCRIPT_PATH,
    load::{self, Target},
    stack::Stack,
    table::{Figure, Row},
};

use super::forgot::FORGOT_PATH;

pub async fn run(stack: &Stack, options: &Options) -> anyhow::Result<Vec<Row>> {
    let body = Bytes::from_static(br#"{"email":"limited@bench.test"}"#);
    let limited = Target::fixed(
        stack.gateway_limited.addr,
        FORGOT_PATH,
        StatusCode::TOO_MANY_REQUESTS,
        body,
    );
    // Spend the address's budget (and more) so every answer from here on is a 429.
    load::run(&limited, 1, std::time::Duration::from_millis(200)).await;
    let floor = Target::fixed(
        stack.floors.addr,
        SCRIPT_PATH,
        StatusCode::TOO_MANY_REQUESTS,
        Bytes::new(),
    );
    let (connections, duration) = (options.connections, options.duration);
    let (ours, floor) = alternate(
        options.rounds,
        || async { Ok(load::run(&limited, connections, duration).await.summary()) },
        || async { Ok(load::run(&floor, connections, duration).await.summary()) },
    )
    .await?;
    let ratio = ratio(ours.rate, floor.rate);
    Ok(vec![Row {
        scenario: "a 429 (forgot over its limit)".into(),
        measured: Figure::load(ours, "req/s"),
        floor: Some((
            "axum handler, one EVALSHA".into(),
            Figure::load(floor, "req/s"),
        )),
        ratio,
        goal: ">= 0.50".into(),
        met: ratio.map(|ratio| ratio >= 0.50),
    }])
}
