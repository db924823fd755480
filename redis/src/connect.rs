//! Opening a [`RedisConnection`] from [`RedisSettings`]: TLS material and the password file
//! are read here, the connection is checked with a PING, and every failure names the setting.

use std::{path::Path, time::Duration};

use redis::{
    ClientTlsConfig, IntoConnectionInfo as _, TlsCertificates,
    aio::{ConnectionManager, ConnectionManagerConfig},
    cluster::ClusterClientBuilder,
    cluster_routing::{RoutingInfo, SingleNodeRoutingInfo},
};

use crate::{RedisConnection, RedisSettings};

/// How long startup waits for Redis before giving up with a clear error.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one command may take before it fails (and the caller answers "unavailable").
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a cluster call is retried (redirects and reconnections included).
const CLUSTER_RETRIES: u32 = 3;

/// Why no connection could be made. Each message names the setting at fault, and none shows a
/// password.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL does not parse as a Redis URL.
    #[error("REDIS_URL: {url} is not a valid redis url: {reason}")]
    Url {
        /// The URL, password hidden.
        url: String,
        /// What the Redis client said.
        reason: redis::RedisError,
    },
    /// A file named by a setting could not be read.
    #[error("{variable}: cannot read {path}: {reason}")]
    File {
        /// The setting, e.g. `REDIS_TLS_CA`.
        variable: &'static str,
        /// The file it names.
        path: String,
        /// Why it could not be read.
        reason: std::io::Error,
    },
    /// TLS material was given for a URL that does not use TLS, or does not parse.
    #[error("REDIS_URL: {url}: {reason}")]
    Tls {
        /// The URL, password hidden.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Redis refused the connection, the credentials or the PING.
    #[error("REDIS_URL: redis at {url} does not answer: {reason}")]
    Unreachable {
        /// The URL, password hidden.
        url: String,
        /// What the Redis client said.
        reason: redis::RedisError,
    },
    /// Redis did not answer in time.
    #[error("REDIS_URL: redis at {url} did not answer within {seconds}s")]
    Timeout {
        /// The URL, password hidden.
        url: String,
        /// How long we waited.
        seconds: u64,
    },
}

/// Connects to the Redis of `settings` and checks that it answers PING (every master, on a
/// cluster). Commands time out after `response_timeout` (use [`RESPONSE_TIMEOUT`] unless the
/// connection runs blocking reads: then longer than the longest block).
pub async fn connect(
    settings: &RedisSettings,
    response_timeout: Duration,
) -> Result<RedisConnection, ConnectError> {
    let shown = settings.url.to_string();
    let password = match &settings.password_file {
        Some(path) => Some(read_password(path).await?),
        None => None,
    };
    let certificates = certificates(settings).await?;
    if settings
        .url
        .seeds()
        .any(|seed| seed.starts_with("rediss://"))
    {
        // rustls picks a crypto provider by crate features, which any crate in the build can
        // add to: name ours. An error only says one is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    if certificates.is_some()
        && settings
            .url
            .seeds()
            .any(|seed| !seed.starts_with("rediss://"))
    {
        return Err(ConnectError::Tls {
            url: shown,
            reason: "REDIS_TLS_CA, REDIS_TLS_CERT and REDIS_TLS_KEY need a rediss:// url".into(),
        });
    }
    let url_error = |reason| ConnectError::Url {
        url: shown.clone(),
        reason,
    };
    let connect = async {
        let mut connection = if settings.cluster {
            let seeds = settings
                .url
                .seeds()
                .map(|seed| seed.into_connection_info())
                .collect::<Result<Vec<_>, _>>()
                .map_err(url_error)?;
            // Few, short retries: enough to follow MOVED/ASK and a refreshed slot map, but a
            // master that is gone fails the call within a second or two (the caller answers
            // UNAVAILABLE) instead of retrying until the gateway's deadline passes.
            let mut builder = ClusterClientBuilder::new(seeds)
                .connection_timeout(CONNECT_TIMEOUT)
                .response_timeout(response_timeout)
                .retries(CLUSTER_RETRIES)
                .min_retry_wait(50)
                .max_retry_wait(500);
            if let Some(password) = &password {
                builder = builder.password(password);
            }
            if let Some(certificates) = certificates {
                builder = builder.certs(certificates);
            }
            let client = builder.build().map_err(url_error)?;
            RedisConnection::Cluster(client.get_async_connection().await.map_err(refused)?)
        } else {
            let mut info = settings
                .url
                .expose()
                .into_connection_info()
                .map_err(url_error)?;
            if let Some(password) = &password {
                let redis = info.redis_settings().clone().set_password(password);
                info = info.set_redis_settings(redis);
            }
            let client = match certificates {
                Some(certificates) => redis::Client::build_with_tls(info, certificates),
                None => redis::Client::open(info),
            }
            .map_err(url_error)?;
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(CONNECT_TIMEOUT))
                .set_response_timeout(Some(response_timeout))
                .set_number_of_retries(2);
            RedisConnection::Single(
                ConnectionManager::new_with_config(client, config)
                    .await
                    .map_err(refused)?,
            )
        };
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map_err(refused)?;
        Ok::<_, Failure>(connection)
    };
    let outcome = tokio::time::timeout(CONNECT_TIMEOUT, connect).await;
    match outcome {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(Failure::Refused(reason))) => Err(ConnectError::Unreachable { url: shown, reason }),
        Ok(Err(Failure::Settled(error))) => Err(error),
        Err(_) => Err(ConnectError::Timeout {
            url: shown,
            seconds: CONNECT_TIMEOUT.as_secs(),
        }),
    }
}

/// Inside [`connect`]: a Redis that said no, or an error already worded.
enum Failure {
    Refused(redis::RedisError),
    Settled(ConnectError),
}

impl From<ConnectError> for Failure {
    fn from(error: ConnectError) -> Self {
        Self::Settled(error)
    }
}

fn refused(reason: redis::RedisError) -> Failure {
    Failure::Refused(reason)
}

/// Whether Redis answers a PING within a second: the server, or on a cluster every master by
/// its address (a PING routed "to all masters" answers from the reachable ones only) while the
/// cluster says every slot is served. What a health check reports.
pub async fn answers(connection: &RedisConnection) -> bool {
    let check = async {
        match connection.clone() {
            RedisConnection::Single(mut single) => {
                redis::cmd("PING")
                    .query_async::<String>(&mut single)
                    .await?;
                Ok::<_, redis::RedisError>(true)
            }
            RedisConnection::Cluster(mut cluster) => {
                for (host, port) in crate::scan::masters(&mut cluster).await? {
                    let routing =
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress { host, port });
                    cluster.route_command(redis::cmd("PING"), routing).await?;
                }
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query_async(&mut cluster)
                    .await?;
                Ok(info.contains("cluster_state:ok"))
            }
        }
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), check).await,
        Ok(Ok(true))
    )
}

async fn read_password(path: &Path) -> Result<String, ConnectError> {
    let text = read("REDIS_PASSWORD_FILE", path).await?;
    let text = String::from_utf8(text).map_err(|_| ConnectError::File {
        variable: "REDIS_PASSWORD_FILE",
        path: path.display().to_string(),
        reason: std::io::Error::new(std::io::ErrorKind::InvalidData, "not utf-8 text"),
    })?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

/// The TLS material the settings name, or `None` when they name none (a `rediss://` URL then
/// trusts the system's roots).
async fn certificates(settings: &RedisSettings) -> Result<Option<TlsCertificates>, ConnectError> {
    let root_cert = match &settings.tls_ca {
        Some(path) => Some(read("REDIS_TLS_CA", path).await?),
        None => None,
    };
    let client_tls = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => Some(ClientTlsConfig {
            client_cert: read("REDIS_TLS_CERT", cert).await?,
            client_key: read("REDIS_TLS_KEY", key).await?,
        }),
        // clap requires both or neither.
        _ => None,
    };
    if root_cert.is_none() && client_tls.is_none() {
        return Ok(None);
    }
    Ok(Some(TlsCertificates {
        client_tls,
        root_cert,
    }))
}

async fn read(variable: &'static str, path: &Path) -> Result<Vec<u8>, ConnectError> {
    tokio::fs::read(path)
        .await
        .map_err(|reason| ConnectError::File {
            variable,
            path: path.display().to_string(),
            reason,
        })
}
