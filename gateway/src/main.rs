//! `gateway`: serves the REST APIs, or with `healthcheck` asks the running gateway whether it
//! is alive.

use std::process::ExitCode;

/// mimalloc rather than glibc malloc: faster on the request path, and it hands freed memory
/// back to the system, where glibc's per-thread arenas kept each argon2id hash's 19 MiB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use gateway::{Application, Cli, Command, Config};

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = passreset_service_runtime::settings::parse_or_exit();
    if let Some(Command::Healthcheck) = cli.command {
        return passreset_service_runtime::healthcheck::http(cli.config.http_addr, "/healthz")
            .await;
    }
    match serve(cli.config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gateway: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Telemetry, then the server until Ctrl-C or SIGTERM; a failure is one line naming the setting.
async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let _telemetry = passreset_telemetry::init("gateway", config.log_format)?;
    let application = Application::build(config).await?;
    tracing::info!(addr = %application.local_addr(), "gateway listening");
    application
        .run_until_stopped(passreset_service_runtime::shutdown_signal())
        .await?;
    Ok(())
}
