//! Which Redis the stack uses: `REDIS_URL` if it answers, else a private `redis-server` started
//! here (and stopped with the stack), else in-memory stores that forget everything on exit.

use std::{process::Stdio, time::Duration};

use anyhow::Context as _;
use passreset_redis::RedisUrl;
use tokio::process::{Child, Command};

/// The storage the services run on.
#[derive(Debug)]
pub(crate) enum Storage {
    /// A Redis someone else runs (its URL may hold a password: it formats redacted).
    External(RedisUrl),
    /// A `redis-server` child of this process, killed when this value drops.
    Private {
        /// Where it answers.
        url: RedisUrl,
        /// Held so that dropping the storage stops the server.
        _server: Child,
    },
    /// No Redis at all: in-memory stores.
    Memory,
}

impl Storage {
    /// Picks the best storage available, saying why it settled for less.
    pub(crate) async fn choose(redis_url: Option<RedisUrl>) -> anyhow::Result<Self> {
        if let Some(url) = redis_url.filter(|url| !url.expose().trim().is_empty()) {
            if answers(url.expose()).await {
                return Ok(Self::External(url));
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

    /// The Redis URL, or `None` for in-memory stores.
    pub(crate) fn redis_url(&self) -> Option<&RedisUrl> {
        match self {
            Self::External(url) | Self::Private { url, .. } => Some(url),
            Self::Memory => None,
        }
    }

    /// One line for the banner.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::External(url) => format!("redis at {url}"),
            Self::Private { url, .. } => {
                format!("private redis-server at {url} (stops with the stack)")
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
                url: RedisUrl::from(url.as_str()),
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
