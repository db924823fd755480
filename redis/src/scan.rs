//! SCAN that pages through every key, on one server or on every master of a cluster (where a
//! plain SCAN would go to whichever node the client picks, and its cursor mean nothing on the
//! next).

use redis::{
    Value,
    cluster_async::ClusterConnection,
    cluster_routing::{RoutingInfo, SingleNodeRoutingInfo},
};

use crate::RedisConnection;

/// One page of keys and where the next page starts (empty: there is none).
#[derive(Debug, Default)]
pub struct ScanPage {
    /// Keys matching the pattern (SCAN may return none on a page, and a key more than once).
    pub keys: Vec<String>,
    /// The cursor for the next call; empty when the scan is complete.
    pub next_cursor: String,
}

/// Why a page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The cursor is not one this function returned.
    #[error("the cursor is not valid")]
    Cursor,
    /// Redis failed.
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
}

/// One SCAN step from `cursor` (empty to start) over keys matching `pattern`, about `count`
/// keys. On a cluster the cursor is `<master>:<cursor>`, masters in address order: a topology
/// change during a scan may skip or repeat keys, as a rehash does on one server.
pub async fn scan_page(
    connection: &RedisConnection,
    cursor: &str,
    pattern: &str,
    count: usize,
) -> Result<ScanPage, ScanError> {
    let scan = |at: u64| {
        let mut command = redis::cmd("SCAN");
        command
            .arg(at)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(count);
        command
    };
    match connection {
        RedisConnection::Single(single) => {
            let at = parse_cursor(cursor)?;
            let (next, keys): (u64, Vec<String>) =
                scan(at).query_async(&mut single.clone()).await?;
            Ok(ScanPage {
                keys,
                next_cursor: if next == 0 {
                    String::new()
                } else {
                    next.to_string()
                },
            })
        }
        RedisConnection::Cluster(cluster) => {
            let mut cluster = cluster.clone();
            let (master, at) = match cursor.split_once(':') {
                Some((master, at)) => (
                    master.parse::<usize>().map_err(|_| ScanError::Cursor)?,
                    parse_cursor(at)?,
                ),
                None if cursor.is_empty() => (0, 0),
                None => return Err(ScanError::Cursor),
            };
            let masters = masters(&mut cluster).await?;
            let Some((host, port)) = masters.get(master).cloned() else {
                return Err(ScanError::Cursor);
            };
            let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress { host, port });
            let reply = cluster.route_command(scan(at), routing).await?;
            let (next, keys): (u64, Vec<String>) =
                redis::from_redis_value(reply).map_err(redis::RedisError::from)?;
            let next_cursor = match (next, master + 1 < masters.len()) {
                (0, false) => String::new(),
                (0, true) => format!("{}:0", master + 1),
                (next, _) => format!("{master}:{next}"),
            };
            Ok(ScanPage { keys, next_cursor })
        }
    }
}

fn parse_cursor(text: &str) -> Result<u64, ScanError> {
    match text {
        "" => Ok(0),
        text => text.parse().map_err(|_| ScanError::Cursor),
    }
}

/// The cluster's masters, in address order, from `CLUSTER SLOTS`.
pub(crate) async fn masters(
    cluster: &mut ClusterConnection,
) -> Result<Vec<(String, u16)>, redis::RedisError> {
    let slots: Value = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(cluster)
        .await?;
    let mut masters = Vec::new();
    if let Value::Array(ranges) = slots {
        for range in ranges {
            // [start, end, [ip, port, id, ...], replicas...]
            let Value::Array(fields) = range else {
                continue;
            };
            let Some(Value::Array(master)) = fields.get(2) else {
                continue;
            };
            if let (Some(ip), Some(Value::Int(port))) = (master.first(), master.get(1))
                && let (Ok(ip), Ok(port)) = (
                    redis::from_redis_value_ref::<String>(ip),
                    u16::try_from(*port),
                )
            {
                masters.push((ip, port));
            }
        }
    }
    masters.sort();
    masters.dedup();
    Ok(masters)
}
