//! The binary's command line: no subcommand serves gRPC; `accounts add|verify|list` manages the
//! built-in directory directly in Redis (`REDIS_URL`, `REDIS_KEY_PREFIX`), through the same
//! store code the service uses; `healthcheck` asks the running service whether it serves.
//!
//! Exit codes: 0 success (`verify`: the password matches), 1 `verify` did not match, 2 error.

use std::{io::BufRead as _, process::ExitCode};

use anyhow::Context as _;
use secrecy::SecretString;

use crate::{
    Config, Stores,
    accounts::{
        Directory, NormalizedEmail,
        password::{HashMetrics, HashPool},
    },
};

/// Accounts fetched per page by `accounts list`.
const LIST_PAGE_SIZE: usize = 500;

/// The whole command line: the service's settings and an optional subcommand.
#[derive(Debug, clap::Parser)]
#[command(
    name = "token-service",
    version,
    about = "passreset token service: reset tokens and the account directory over gRPC",
    long_about = "Serves gRPC when run without a subcommand. Settings go before the subcommand \
                  or in the environment."
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
    /// Manage the built-in account directory (directly in Redis).
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Exit 0 if the service at TOKEN_GRPC_ADDR reports SERVING (for container health checks);
    /// over TLS when TOKEN_GRPC_TLS_CERT is set.
    Healthcheck,
}

/// Account directory chores.
#[derive(Debug, clap::Subcommand)]
pub enum AccountsCommand {
    /// Create an account or replace its password (and locale); prints the account id.
    Add {
        /// The address (normalised before it is stored).
        #[arg(long)]
        email: String,
        /// The password.
        #[command(flatten)]
        password: PasswordSource,
        /// Preferred locale (BCP 47, e.g. `sv`); unset keeps the current one.
        #[arg(long)]
        locale: Option<String>,
    },
    /// Check a password: prints `valid` (exit 0) or `invalid` (exit 1).
    Verify {
        /// The address.
        #[arg(long)]
        email: String,
        /// The password to check.
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List every account, one per line: id, email, locale (tab-separated).
    List,
}

/// Where a password comes from: the command line, or (kept out of shell history and the
/// process list) standard input.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct PasswordSource {
    /// The password (visible to other users in the process list: prefer --password-stdin).
    #[arg(long, value_parser = secret)]
    password: Option<SecretString>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordSource {
    fn read(self) -> anyhow::Result<SecretString> {
        if let Some(password) = self.password {
            return Ok(password);
        }
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        Ok(SecretString::from(password))
    }
}

fn secret(value: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(value))
}

/// Runs `command` and says how the process should exit; errors go to stderr (exit 2).
pub async fn run(command: Command, config: &Config) -> ExitCode {
    let command = match command {
        Command::Healthcheck => return healthcheck(config).await,
        Command::Accounts(command) => command,
    };
    match execute(command, config).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("token-service: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Asks the service whether it serves, over TLS when it serves TLS (its own TLS settings).
async fn healthcheck(config: &Config) -> ExitCode {
    passreset_service_runtime::healthcheck::grpc_service(
        config.grpc_addr,
        passreset_proto::token::v1::token_service_server::SERVICE_NAME,
        config.grpc_tls(),
    )
    .await
}

async fn execute(command: AccountsCommand, config: &Config) -> anyhow::Result<ExitCode> {
    if !config.directory.is_built_in() {
        anyhow::bail!(
            "TOKEN_DIRECTORY: the accounts are in {}: manage them there",
            config.directory
        );
    }
    let stores = Stores::connect_redis(&config.redis, &config.redis_key_prefix).await?;
    // The same policy as the service's: an account added here meets what a reset would.
    let directory = Directory::new(
        stores.account_store(),
        HashPool::new(config.hash_limits(), HashMetrics::default())
            .context("starting the password hashing threads")?,
        config.password_policy(),
    );
    match command {
        AccountsCommand::Add {
            email,
            password,
            locale,
        } => {
            let email = NormalizedEmail::parse(&email)?;
            let password = password.read()?;
            let locale = locale.as_deref().filter(|locale| !locale.is_empty());
            let record = directory.upsert(&email, password, locale).await?;
            println!("{}", record.id);
            Ok(ExitCode::SUCCESS)
        }
        AccountsCommand::Verify { email, password } => {
            let password = password.read()?;
            if directory.verify(&email, password).await?.is_some() {
                println!("valid");
                Ok(ExitCode::SUCCESS)
            } else {
                println!("invalid");
                Ok(ExitCode::from(1))
            }
        }
        AccountsCommand::List => {
            let mut cursor = String::new();
            loop {
                let page = directory.list(&cursor, LIST_PAGE_SIZE).await?;
                for account in page.accounts {
                    println!("{}\t{}\t{}", account.id, account.email, account.locale);
                }
                if page.next_cursor.is_empty() {
                    return Ok(ExitCode::SUCCESS);
                }
                cursor = page.next_cursor;
            }
        }
    }
}
