//! The bench still runs: one tiny round of every scenario, services in this process. It
//! asserts only that each scenario produced numbers, never how fast anything was.

use clap::Parser as _;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tiny_round_of_every_scenario_produces_numbers() {
    let options = bench::Options::parse_from([
        "bench",
        "--in-process",
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
    let rows = bench::run(&options).await.expect("the bench runs");
    let scenarios: Vec<&str> = rows.iter().map(|row| row.scenario.as_str()).collect();
    for expected in [
        "check-token via",
        "live tokens",
        "a 429",
        "mail dispatch",
        "resets, 4",
        "p99 during",
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
