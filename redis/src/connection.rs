//! One connection type for every store, whether Redis is one server or a cluster.

use redis::{
    Cmd, Pipeline, RedisFuture, Value,
    aio::{ConnectionLike, ConnectionManager},
    cluster_async::ClusterConnection,
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
