//! `mail-service`: serves gRPC and delivers the queued mail, or runs a chore (`healthcheck`).

use std::process::ExitCode;

/// mimalloc rather than glibc malloc: faster on the request path, and it hands freed memory
/// back to the system, where glibc's per-thread arenas kept each argon2id hash's 19 MiB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use mail_service::{Application, Config, cli::Cli};

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = passreset_service_runtime::settings::parse_or_exit();
    if let Some(command) = cli.command {
        return mail_service::cli::run(command, &cli.config).await;
    }
    match serve(cli.config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mail-service: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Telemetry, then the server until Ctrl-C or SIGTERM; a failure is one line naming the setting.
async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let _telemetry = passreset_telemetry::init("mail-service", config.log_format)?;
    let application = Application::build(config).await?;
    application
        .run_until_stopped(passreset_service_runtime::shutdown_signal())
        .await?;
    Ok(())
}
