//! The bench still runs: one tiny round of every scenario, the services in this process (so
//! `cargo test` needs no release binaries). It asserts only that each scenario produced
//! numbers, never how fast anything was.

use std::pin::Pin;

use bench::stack::Kind;
use clap::Parser as _;
use tokio::task::JoinHandle;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tiny_round_of_every_scenario_produces_numbers() {
    let options = bench::Options::parse_from([
        "bench",
        "--rounds",
        "1",
        "--duration",
        "200ms",
        "--connections",
        "2",
        "--floor-connections",
        "4",
        "--many-tokens",
        "2000",
        "--mails",
        "20",
        "--resets",
        "4",
    ]);
    let rows = bench::run(&options, Some(in_process))
        .await
        .expect("the bench runs");
    let scenarios: Vec<&str> = rows.iter().map(|row| row.scenario.as_str()).collect();
    for expected in [
        "check-token via",
        "live tokens",
        "a 429",
        "mail dispatch",
        "resets, 4",
        "p99 during",
        "check-token, on a 3+3",
        "forgot, known address, on a 3+3",
        "forgot, known",
        "floor on",
    ] {
        assert!(
            scenarios.iter().any(|scenario| scenario.contains(expected)),
            "no row for {expected}: {scenarios:?}"
        );
    }
    for row in &rows {
        assert!(row.measured.value > 0.0, "{row:?}");
        if let Some((_, floor)) = &row.floor {
            assert!(floor.value > 0.0, "{row:?}");
        }
    }
}

/// Runs a service's library entry point as its binary does, on this test's runtime.
fn in_process(
    kind: Kind,
    args: Vec<String>,
) -> Pin<Box<dyn Future<Output = anyhow::Result<JoinHandle<()>>> + Send>> {
    Box::pin(async move {
        let argv = std::iter::once(kind.binary().to_owned()).chain(args);
        let forever = std::future::pending::<()>();
        Ok(match kind {
            Kind::Tokens => {
                let app =
                    token_service::Application::build(token_service::Config::try_parse_from(argv)?)
                        .await?;
                tokio::spawn(async move {
                    let _ = app.run_until_stopped(forever).await;
                })
            }
            Kind::Mail => {
                let app =
                    mail_service::Application::build(mail_service::Config::try_parse_from(argv)?)
                        .await?;
                tokio::spawn(async move {
                    let _ = app.run_until_stopped(forever).await;
                })
            }
            Kind::Gateway => {
                let app =
                    gateway::Application::build(gateway::Config::try_parse_from(argv)?).await?;
                tokio::spawn(async move {
                    let _ = app.run_until_stopped(forever).await;
                })
            }
        })
    })
}
