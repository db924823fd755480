use clap::Parser as _;
use gateway::{Application, Config};
use passreset_telemetry::shutdown_signal;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::parse();
    let _telemetry = passreset_telemetry::init("gateway", config.log_format)?;
    let application = Application::build(config).await?;
    tracing::info!(addr = %application.local_addr(), "gateway listening");
    application.run_until_stopped(shutdown_signal()).await?;
    Ok(())
}
