//! Which Redis the stack uses: `REDIS_URL` if it answers, else a private `redis-server` started
//! here (and stopped with the stack), else in-memory stores that forget everything on exit.

use std::{process::Stdio, time::Duration};

use anyhow::Context as _;
use passreset_redis::{RedisSettings, RedisUrl};
use tokio::process::{Child, Command};

/// The storage the services run on.
#[derive(Debug)]
pub(crate) enum Storage {
    /// A Redis someone else runs (its URL may hold a password: it formats redacted).
    External(RedisSettings),
    /// A `redis-server` child of this process, killed when this value drops.
    Private {
        /// Where it answers.
        settings: RedisSettings,
        /// Held so that dropping the storage stops the server.
        _server: Child,
    },
    /// No Redis at all: in-memory stores.
    Memory,
}

impl Storage {
    /// Picks the best storage available, saying why it settled for less.
    /// `options` are the other Redis settings (cluster, TLS, password file) for `redis_url`.
    pub(crate) async fn choose(
        redis_url: Option<RedisUrl>,
        options: &RedisSettings,
    ) -> anyhow::Result<Self> {
        if let Some(url) = redis_url.filter(|url| !url.expose().trim().is_empty()) {
            let settings = RedisSettings {
                url: url.clone(),
                ..options.clone()
            };
            if passreset_redis::connect(&settings, passreset_redis::RESPONSE_TIMEOUT)
                .await
                .is_ok()
            {
                return Ok(Self::External(settings));
            }
            tracing::warn!(
                redis_url = %url,
                "REDIS_URL does not answer; trying a private redis-server"
            );
        }
        match start_private_server().await {
            Ok(private) => Ok(private),
            Err(error) => {
                tracing::warn!(%error, "no redis-server could be started");
                tracing::warn!(
                    "!!! RUNNING ON IN-MEMORY STORES: tokens, accounts and queued mail are lost when \
                     the stack stops. Install redis-server or set REDIS_URL for anything but a demo. !!!"
                );
                Ok(Self::Memory)
            }
        }
    }

    /// The Redis settings, or `None` for in-memory stores.
    pub(crate) fn redis(&self) -> Option<&RedisSettings> {
        match self {
            Self::External(settings) | Self::Private { settings, .. } => Some(settings),
            Self::Memory => None,
        }
    }

    /// One line for the banner.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::External(settings) if settings.cluster => {
                format!("redis cluster at {}", settings.url)
            }
            Self::External(settings) => format!("redis at {}", settings.url),
            Self::Private { settings, .. } => {
                format!(
                    "private redis-server at {} (stops with the stack)",
                    settings.url
                )
            }
            Self::Memory => "IN MEMORY (nothing survives a restart)".to_owned(),
        }
    }
}

async fn start_private_server() -> anyhow::Result<Storage> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .context("finding a free port")?
        .port();
    let server = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting redis-server")?;
    let url = format!("redis://127.0.0.1:{port}");
    for _ in 0..50 {
        if answers(&url).await {
            return Ok(Storage::Private {
                settings: RedisSettings::single(&url),
                _server: server,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("redis-server did not answer on port {port}")
}

async fn answers(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let ping = async {
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), ping).await,
        Ok(Ok(_))
    )
}
