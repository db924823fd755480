//! One connection type for every store, whether Redis is one server or a cluster.

use std::time::Duration;

use redis::{
    Cmd, Pipeline, RedisFuture, RedisResult, Value,
    aio::{ConnectionLike, ConnectionManager},
    cluster_async::ClusterConnection,
    cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr},
};

/// A multiplexed connection that heals itself: to one server (a [`ConnectionManager`], which
/// reconnects after Redis restarts) or to a Redis Cluster (a [`ClusterConnection`], which
/// follows MOVED/ASK and topology changes). Cheap to clone; clones share the connection.
///
/// It implements [`ConnectionLike`], so `query_async`, `Script::invoke_async` and
/// `AsyncCommands` work on it unchanged.
#[derive(Clone)]
pub enum RedisConnection {
    /// One Redis server.
    Single(ConnectionManager),
    /// A Redis Cluster: each command goes to the node serving its key's slot.
    Cluster(ClusterConnection),
}

impl RedisConnection {
    /// Whether this talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }

    /// Redis `WAIT`: blocks until `replicas` replicas of the server (on a cluster: of the master
    /// serving `key`'s slot) hold every write this connection sent it, or until `timeout`;
    /// returns how many do. Meanwhile no other command on this connection is served, so give
    /// it a connection of its own.
    pub async fn wait_for_replicas(
        &mut self,
        key: &str,
        replicas: u32,
        timeout: Duration,
    ) -> RedisResult<u32> {
        let mut wait = redis::cmd("WAIT");
        wait.arg(replicas)
            .arg(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        match self {
            Self::Single(connection) => wait.query_async(connection).await,
            Self::Cluster(connection) => {
                // The client would send a keyless WAIT to every master; only the one that took
                // the write knows whether it is replicated.
                let master = Route::with_key(key, SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(master));
                Ok(redis::from_redis_value(
                    connection.route_command(wait, routing).await?,
                )?)
            }
        }
    }
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Single(_) => "RedisConnection::Single",
            Self::Cluster(_) => "RedisConnection::Cluster",
        })
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}
