//! forgot for known addresses: with the response-time floor off (goal: >= 5,000 req/s, p99 <
//! 20 ms), and with the floor on beside off at 512 connections (goal: >= 0.8: the floor must
//! not cost capacity). Rate limits are off; every answer queues a mail, and each round starts
//! once the previous round's mails are delivered (the dispatch of a round's own mails still
//! shares the cores with it, as it would in production).

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use http::StatusCode;

use super::{alternate, mail::settle, ratio};
use crate::{
    Options,
    grpc::Admin,
    load::{self, Target},
    stack::Stack,
    stats,
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
    let (connections, duration) = (options.connections, options.duration);

    let mut rounds = Vec::new();
    for _ in 0..options.rounds.max(1) {
        settle(stack).await;
        rounds.push(load::run(&off, connections, duration).await.summary());
    }
    let known = stats::median(&rounds);
    let known_met = known.rate >= 5000.0 && known.p99 < Duration::from_millis(20);

    let many = options.floor_connections;
    let (floor_on, floor_off) = alternate(
        options.rounds,
        || async {
            settle(stack).await;
            Ok(load::run(&on, many, duration).await.summary())
        },
        || async {
            settle(stack).await;
            Ok(load::run(&off, many, duration).await.summary())
        },
    )
    .await?;
    let floor_ratio = ratio(floor_on.rate, floor_off.rate);
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
            floor: Some((
                "the same, floor off".into(),
                Figure::load(floor_off, "req/s"),
            )),
            ratio: floor_ratio,
            goal: ">= 0.80".into(),
            met: floor_ratio.map(|ratio| ratio >= 0.80),
        },
    ])
}
