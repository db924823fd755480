//! forgot for known addresses: with the response-time floor off (goal: >= 5,000 req/s, p99 <
//! 20 ms), and with the floor on at 512 connections beside that floor-off rate (goal: >= 0.8:
//! the floor must not cost capacity). Recorded beside it: that floor-on rate against the
//! ceiling Little's law puts on it (512 connections / 100 ms), and the floor-on rate at 1024
//! connections against the floor-off rate. Rate limits are off; every answer queues a mail, and each round starts
//! once the previous round's mails are delivered (the dispatch of a round's own mails still
//! shares the cores with it, as it would in production).

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use http::StatusCode;

use super::{mail::settle, ratio, rotate};
use crate::{
    Options,
    grpc::Admin,
    load::{self, Target},
    stack::{FORGOT_FLOOR, Stack},
    table::{Figure, Row},
};

/// persona's forgot path.
pub const FORGOT_PATH: &str = "/v1/account/password/forgot";

/// forgot at `addr` for `addresses`, spread over the connections.
pub(super) fn target(addr: std::net::SocketAddr, addresses: &Arc<Vec<String>>) -> Target {
    let addresses = Arc::clone(addresses);
    Target {
        addr,
        path: FORGOT_PATH,
        expect: StatusCode::NO_CONTENT,
        body: Arc::new(move |connection, n| {
            let email = &addresses[(connection * 31 + n as usize) % addresses.len()];
            Bytes::from(serde_json::json!({ "email": email }).to_string())
        }),
    }
}

pub async fn run(stack: &Stack, options: &Options) -> anyhow::Result<Vec<Row>> {
    let admin = Admin::connect(stack.tokens.addr).await?;
    let count = options.connections.max(options.floor_connections);
    let addresses = Arc::new(admin.accounts("known", count).await?);
    let off = target(stack.gateway.addr, &addresses);
    let on = target(stack.gateway_floor.addr, &addresses);
    let (connections, many, duration) = (
        options.connections,
        options.floor_connections,
        options.duration,
    );

    // Each round measures the three, starting with a different one: floor off at the usual
    // connections (the floor-off rate), floor on at `many`, and floor on at twice `many`.
    let runs = [(&off, connections), (&on, many), (&on, 2 * many)];
    let [known, floor_on, floor_on_twice] = rotate(options.rounds, |which| {
        let (target, connections) = runs[which];
        async move {
            settle(stack).await;
            Ok(load::run(target, connections, duration).await.summary())
        }
    })
    .await?;
    let known_met = known.rate >= 5000.0 && known.p99 < Duration::from_millis(20);
    let floor_ratio = ratio(floor_on.rate, known.rate);
    // A connection waits out the floor before it asks again: Little's law caps the floor-on
    // rate at connections / floor, whatever the server does.
    let ceiling = many as f64 / FORGOT_FLOOR.as_secs_f64();
    let floor_off_rate = || {
        Some((
            format!("the floor-off rate ({connections} connections)"),
            Figure::load(known, "req/s"),
        ))
    };
    Ok(vec![
        Row {
            scenario: format!("forgot, known address, floor off, {connections} connections"),
            measured: Figure::load(known, "req/s"),
            floor: None,
            ratio: None,
            goal: ">= 5,000 req/s, p99 < 20 ms".into(),
            met: Some(known_met),
        },
        Row {
            scenario: format!("forgot, floor on (100 ms), {many} connections"),
            measured: Figure::load(floor_on, "req/s"),
            floor: floor_off_rate(),
            ratio: floor_ratio,
            goal: ">= 0.80".into(),
            met: floor_ratio.map(|ratio| ratio >= 0.80),
        },
        Row {
            scenario: format!("forgot, floor on (100 ms), {many} connections"),
            measured: Figure::load(floor_on, "req/s"),
            floor: Some((
                format!("{many} connections / 100 ms"),
                Figure::plain(ceiling, "req/s"),
            )),
            ratio: ratio(floor_on.rate, ceiling),
            goal: "recorded".into(),
            met: None,
        },
        Row {
            scenario: format!("forgot, floor on (100 ms), {} connections", 2 * many),
            measured: Figure::load(floor_on_twice, "req/s"),
            floor: floor_off_rate(),
            ratio: ratio(floor_on_twice.rate, known.rate),
            goal: "recorded".into(),
            met: None,
        },
    ])
}
