//! What a Redis Cluster costs against one Redis (issue 14): check-token and forgot (known
//! addresses, so each answer queues a mail) through services on a 3-master, 3-replica cluster
//! on loopback, beside the main services on the one private Redis, alternating, in one run.
//! No goal: the ratio is recorded.

use std::{sync::Arc, time::Duration};

use passreset_testkit::RedisCluster;

use super::{alternate, check_token, forgot, mail::settle, ratio};
use crate::{
    Options,
    grpc::Admin,
    load::{self, Target},
    stack::Stack,
    stats::Summary,
    table::{Figure, Row},
};

/// A loaded machine must not make the nodes fail each other over mid-measurement.
const NODE_TIMEOUT: Duration = Duration::from_secs(15);

pub async fn run(stack: &Stack, options: &Options) -> anyhow::Result<Vec<Row>> {
    let cluster = RedisCluster::start_with_node_timeout(NODE_TIMEOUT).await;
    let on_cluster = stack.start_services_on(&cluster.test_redis()).await?;
    let (connections, duration) = (options.connections, options.duration);
    let measure = |target: Target, settled: bool| async move {
        if settled {
            settle(stack).await;
        }
        Ok::<Summary, anyhow::Error>(load::run(&target, connections, duration).await.summary())
    };

    let single = check_token::target(stack, "cluster-bench-single").await?;
    let clustered = check_token::target_on(
        on_cluster.tokens.addr,
        on_cluster.gateway.addr,
        "cluster-bench",
    )
    .await?;
    let (check_cluster, check_single) = alternate(
        options.rounds,
        || measure(clustered.clone(), false),
        || measure(single.clone(), false),
    )
    .await?;

    let addresses = |tokens| async move {
        let admin = Admin::connect(tokens).await?;
        anyhow::Ok(Arc::new(
            admin.accounts("cluster-bench", connections).await?,
        ))
    };
    let single = forgot::target(stack.gateway.addr, &addresses(stack.tokens.addr).await?);
    let clustered = forgot::target(
        on_cluster.gateway.addr,
        &addresses(on_cluster.tokens.addr).await?,
    );
    let (forgot_cluster, forgot_single) = alternate(
        options.rounds,
        || measure(clustered.clone(), true),
        || measure(single.clone(), true),
    )
    .await?;
    settle(stack).await;

    Ok(vec![
        row("check-token", check_cluster, check_single),
        row("forgot, known address", forgot_cluster, forgot_single),
    ])
}

fn row(what: &str, cluster: Summary, single: Summary) -> Row {
    Row {
        scenario: format!("{what}, on a 3+3 Redis Cluster"),
        ratio: ratio(cluster.rate, single.rate),
        measured: Figure::load(cluster, "req/s"),
        floor: Some(("the same, one Redis".into(), Figure::load(single, "req/s"))),
        goal: "recorded".into(),
        met: None,
    }
}
