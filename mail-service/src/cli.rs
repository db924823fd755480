//! The binary's command line: no subcommand serves gRPC and delivers mail; `healthcheck` asks
//! the running service whether it serves; `dead list|retry ID` shows and revives dead-lettered
//! mail, directly in Redis (`REDIS_URL`, `REDIS_KEY_PREFIX`).
//!
//! Exit codes: 0 success, 1 the thing asked for cannot be done (see the message), 2 error.

use std::process::ExitCode;

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{Config, Queue, queue::Revival};

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
    /// Exit 0 if the service at MAIL_GRPC_ADDR reports SERVING (for container health checks);
    /// over TLS when MAIL_GRPC_TLS_CERT is set.
    Healthcheck,
    /// The dead-letter stream: mail that could never be delivered.
    #[command(subcommand)]
    Dead(DeadCommand),
}

/// Dead-letter chores.
#[derive(Debug, clap::Subcommand)]
pub enum DeadCommand {
    /// One line per dead mail, newest last: id, kind, when, why (never recipient or content).
    List {
        /// At most this many, the newest.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Puts a dead mail back into the queue. Reset mails cannot be: their link was destroyed
    /// when they died, and the user must ask for a new one.
    Retry {
        /// The message id, as `list` shows it.
        id: String,
    },
}

/// Runs `command` and says how it went as the exit code.
/// Asks the service whether it serves, over TLS when it serves TLS (its own TLS settings).
async fn healthcheck(config: &Config) -> ExitCode {
    passreset_service_runtime::healthcheck::grpc_service(
        config.grpc_addr,
        passreset_proto::mail::v1::mail_service_server::SERVICE_NAME,
        config.grpc_tls(),
    )
    .await
}

pub async fn run(command: Command, config: &Config) -> ExitCode {
    match command {
        Command::Healthcheck => healthcheck(config).await,
        Command::Dead(command) => match dead(command, config).await {
            Ok(code) => code,
            Err(error) => {
                eprintln!("mail-service: {error}");
                ExitCode::from(2)
            }
        },
    }
}

async fn dead(
    command: DeadCommand,
    config: &Config,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let queue = Queue::connect_redis(&config.redis, &config.redis_key_prefix).await?;
    match command {
        DeadCommand::List { limit } => {
            for letter in queue.dead_letters(limit).await? {
                let when = OffsetDateTime::from_unix_timestamp_nanos(
                    i128::from(letter.failed_at_ms) * 1_000_000,
                )
                .ok()
                .and_then(|when| when.format(&Rfc3339).ok())
                .unwrap_or_default();
                let retry = if letter.retryable {
                    ""
                } else {
                    " (not retryable)"
                };
                println!(
                    "{}\t{}\t{when}\t{}{retry}",
                    letter.id, letter.kind, letter.reason
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DeadCommand::Retry { id } => match queue.revive(&id).await? {
            Revival::Requeued => {
                println!("requeued {id}");
                Ok(ExitCode::SUCCESS)
            }
            Revival::NotRetryable => {
                eprintln!(
                    "{id} is a reset mail: its link was destroyed when it died, so it cannot be \
                     sent again; the user must ask for a new link"
                );
                Ok(ExitCode::FAILURE)
            }
            Revival::Unknown => {
                eprintln!("no dead mail has the id {id}");
                Ok(ExitCode::FAILURE)
            }
        },
    }
}
