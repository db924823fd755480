//! check-token through the gateway (gateway -> token service -> Redis) beside a bare axum
//! handler doing one Redis GET. Goal: >= 0.50. Recorded in the same rounds: the bare hop
//! (axum -> tonic -> one Redis GET, in two processes), what the architecture's extra process
//! and gRPC call cost before passreset does anything in them.

use std::net::SocketAddr;

use bytes::Bytes;
use http::StatusCode;

use super::{ratio, rotate};
use crate::{
    Options,
    floors::{GET_PATH, HOP_PATH},
    grpc::Admin,
    load::{self, Target},
    stack::Stack,
    table::{Figure, Row},
};

/// persona's check-token path.
pub const CHECK_TOKEN_PATH: &str = "/v1/account/password/check-token";

/// A check-token load target for a fresh token on `stack`'s floor-off gateway.
pub async fn target(stack: &Stack, name: &str) -> anyhow::Result<Target> {
    target_on(stack.tokens.addr, stack.gateway.addr, name).await
}

/// A check-token load target for a fresh token of the token service at `tokens`, through the
/// gateway at `gateway`.
pub async fn target_on(
    tokens: SocketAddr,
    gateway: SocketAddr,
    name: &str,
) -> anyhow::Result<Target> {
    let admin = Admin::connect(tokens).await?;
    let email = admin.accounts(name, 1).await?.remove(0);
    let token = admin.token(&email).await?;
    Ok(Target::fixed(
        gateway,
        CHECK_TOKEN_PATH,
        StatusCode::NO_CONTENT,
        Bytes::from(serde_json::Value::from(token).to_string()),
    ))
}

pub async fn run(stack: &Stack, options: &Options) -> anyhow::Result<Vec<Row>> {
    let gateway = target(stack, "check").await?;
    let floor = Target::fixed(
        stack.floors.addr,
        GET_PATH,
        StatusCode::NO_CONTENT,
        Bytes::new(),
    );
    let hop = Target::fixed(
        stack.hop.addr,
        HOP_PATH,
        StatusCode::NO_CONTENT,
        Bytes::new(),
    );
    let (connections, duration) = (options.connections, options.duration);
    let runs = [&gateway, &floor, &hop];
    let [ours, floor, hop] = rotate(options.rounds, |which| async move {
        Ok(load::run(runs[which], connections, duration)
            .await
            .summary())
    })
    .await?;
    let ratio = ratio(ours.rate, floor.rate);
    let hop_ratio = super::ratio(hop.rate, floor.rate);
    Ok(vec![
        Row {
            scenario: "check-token via the gateway".into(),
            measured: Figure::load(ours, "req/s"),
            floor: Some((
                "axum handler, one Redis GET".into(),
                Figure::load(floor, "req/s"),
            )),
            ratio,
            goal: ">= 0.50".into(),
            met: ratio.map(|ratio| ratio >= 0.50),
        },
        Row {
            scenario: "bare hop: axum -> tonic -> one Redis GET, two processes".into(),
            measured: Figure::load(hop, "req/s"),
            floor: Some((
                "axum handler, one Redis GET".into(),
                Figure::load(floor, "req/s"),
            )),
            ratio: hop_ratio,
            goal: "recorded".into(),
            met: None,
        },
    ])
}
