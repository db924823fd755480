//! `token-service`: serves gRPC, or with `accounts add|verify|list` manages the directory.

use std::process::ExitCode;

use token_service::{Application, Config, cli::Cli};

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = passreset_telemetry::settings::parse_or_exit();
    if let Some(command) = cli.command {
        return token_service::cli::run(command, &cli.config).await;
    }
    match serve(cli.config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("token-service: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Telemetry, then the server until Ctrl-C or SIGTERM; a failure is one line naming the setting.
async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let _telemetry = passreset_telemetry::init("token-service", config.log_format)?;
    let application = Application::build(config).await?;
    application
        .run_until_stopped(passreset_telemetry::shutdown_signal())
        .await?;
    Ok(())
}
