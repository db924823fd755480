//! `json-directory`: serves `passreset.directory.v1.Directory` over a JSON users file, or adds
//! an account to it.
//!
//! ```text
//! json-directory --file users.json add --id u1 --email ada@example.com --password '...'
//! json-directory --file users.json serve --addr 127.0.0.1:7000 --latency 5ms
//! ```

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context as _;
use json_directory::{JsonDirectory, UsersFile};

#[derive(Debug, clap::Parser)]
#[command(
    name = "json-directory",
    about = "passreset.directory.v1.Directory over a JSON file"
)]
struct Cli {
    /// The users file (created by `add` if missing).
    #[arg(long, env = "JSON_DIRECTORY_FILE", default_value = "users.json")]
    file: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Serve gRPC.
    Serve {
        /// Where to listen.
        #[arg(long, env = "JSON_DIRECTORY_ADDR", default_value = "127.0.0.1:7000")]
        addr: SocketAddr,
        /// How long every answer waits first, to play a remote store (e.g. `5ms`, `50ms`).
        #[arg(long, env = "JSON_DIRECTORY_LATENCY", default_value = "0s", value_parser = humantime_duration)]
        latency: Duration,
    },
    /// Add an account, or replace its password.
    Add {
        /// Its id.
        #[arg(long)]
        id: String,
        /// Its address.
        #[arg(long)]
        email: String,
        /// Its password (hashed with argon2id before it is written).
        #[arg(long)]
        password: String,
        /// Its locale.
        #[arg(long, default_value = "")]
        locale: String,
    },
}

fn humantime_duration(value: &str) -> Result<Duration, String> {
    if value.trim() == "0s" {
        return Ok(Duration::ZERO);
    }
    passreset_service_runtime::parse_duration(value)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = passreset_service_runtime::settings::parse_or_exit();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("json-directory: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Add {
            id,
            email,
            password,
            locale,
        } => {
            let mut users = UsersFile::load(&cli.file)?;
            users.upsert(&id, &email, &locale, &password)?;
            users.save(&cli.file)?;
            Ok(())
        }
        Command::Serve { addr, latency } => {
            let listener = JsonDirectory::bind(addr)
                .await
                .with_context(|| format!("JSON_DIRECTORY_ADDR: cannot listen on {addr}"))?;
            eprintln!("json-directory: serving {} on {addr}", cli.file.display());
            JsonDirectory::new(cli.file, latency)
                .serve(listener, passreset_service_runtime::shutdown_signal())
                .await?;
            Ok(())
        }
    }
}
