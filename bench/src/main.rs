//! `cargo run --release -p bench [-- --quick | --scenarios check-token,mail | --help]`

use std::process::ExitCode;

use clap::Parser as _;

#[tokio::main]
async fn main() -> ExitCode {
    let options = bench::Options::parse().effective();
    if let Some(bench::options::Command::ServeFloor { half }) = options.command {
        return match half.serve().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("bench serve-floor: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    match bench::run(&options, None).await {
        Ok(rows) => {
            bench::table::print(&rows, &options);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}
