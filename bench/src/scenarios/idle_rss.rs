//! Idle RSS of each service (goal: < 30 MiB), read before any load (it runs first). Only for
//! services running as their own processes.

use crate::{
    rss::rss_mib,
    stack::Stack,
    table::{Figure, Row},
};

pub async fn run(stack: &Stack) -> anyhow::Result<Vec<Row>> {
    // Let the services finish starting (connections, first metrics scrape) before reading.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    Ok(stack
        .measured_services()
        .into_iter()
        .filter_map(|(name, service)| {
            let mib = rss_mib(service.pid()?)?;
            Some(Row {
                scenario: format!("idle RSS, {name}"),
                measured: Figure::plain(mib, "MiB"),
                floor: None,
                ratio: None,
                goal: "< 30 MiB".into(),
                met: Some(mib < 30.0),
            })
        })
        .collect())
}
