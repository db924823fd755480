//! The binary's command line: no subcommand serves gRPC and delivers mail; `healthcheck` asks
//! the running service whether it serves.

use std::process::ExitCode;

use crate::Config;

/// The whole command line: the service's settings and an optional subcommand.
#[derive(Debug, clap::Parser)]
#[command(
    name = "mail-service",
    version,
    about = "passreset mail service: a durable mail queue on Redis Streams, delivered over SMTP",
    long_about = "Serves gRPC and delivers mail when run without a subcommand. Settings go \
                  before the subcommand or in the environment."
)]
pub struct Cli {
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The service's settings.
    #[command(flatten)]
    pub config: Config,
}

/// What to do instead of serving.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Exit 0 if the service at MAIL_GRPC_ADDR reports SERVING (for container health checks).
    Healthcheck,
}

/// Runs `command` and says how it went as the exit code.
pub async fn run(command: Command, config: &Config) -> ExitCode {
    match command {
        Command::Healthcheck => {
            passreset_telemetry::healthcheck::grpc(
                config.grpc_addr,
                "passreset.mail.v1.MailService",
            )
            .await
        }
    }
}
