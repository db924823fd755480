//! A Redis Cluster the test owns: three masters and three replicas on free loopback ports, made
//! from `redis-server --cluster-enabled yes` and `redis-cli --cluster create`, as redis-rs's
//! own cluster tests do. Each node runs under a shell that stops it when our end of its stdin
//! closes (the cluster dropped, or the test process gone however it went), or kills it with the
//! signal written there (a master "crashing" mid-test).

mod node;

use std::{process::Stdio, time::Duration};

use tokio::sync::OnceCell;

use crate::TestRedis;
use node::{Node, free_ports, is_master, node_command, node_info, wait_until};

/// Nodes: three masters, each with one replica.
const NODES: usize = 6;

/// A running cluster, stopped when dropped.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<Node>,
    /// Holds `nodes-<port>.conf` of every node; removed when dropped.
    dir: tempfile::TempDir,
}

impl RedisCluster {
    /// One cluster for the whole test process, started on first use: contract tests share it,
    /// each under its own key prefix ([`RedisCluster::test_redis`]).
    pub async fn shared() -> &'static RedisCluster {
        static SHARED: OnceCell<RedisCluster> = OnceCell::const_new();
        SHARED
            .get_or_init(|| async {
                // A slow CI box must not mistake a busy node for a dead one.
                Self::start_with_node_timeout(Duration::from_secs(15)).await
            })
            .await
    }

    /// A cluster of the test's own (for tests that fail nodes over or kill them), whose nodes
    /// give up on a silent peer after `node_timeout`.
    pub async fn start_with_node_timeout(node_timeout: Duration) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let ports = free_ports(2 * NODES);
        let (ports, bus_ports) = ports.split_at(NODES);
        let nodes = ports
            .iter()
            .zip(bus_ports)
            .map(|(&port, &bus_port)| Node::start(dir.path(), port, bus_port, node_timeout))
            .collect::<Vec<_>>();
        let cluster = Self { nodes, dir };
        for node in &cluster.nodes {
            wait_until("node answers", || async {
                node_info(node.port, "PING").await.is_some()
            })
            .await;
        }
        let created = tokio::process::Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(
                cluster
                    .nodes
                    .iter()
                    .map(|node| format!("127.0.0.1:{}", node.port)),
            )
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .await
            .expect("redis-cli is on PATH");
        assert!(
            created.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        cluster.wait_until_healthy().await;
        cluster
    }

    /// The seed nodes, as `REDIS_URL` takes them with `REDIS_CLUSTER=true`.
    pub fn seeds(&self) -> String {
        self.nodes
            .iter()
            .map(|node| format!("redis://127.0.0.1:{}", node.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// This cluster with a fresh key prefix.
    pub fn test_redis(&self) -> TestRedis {
        TestRedis::cluster(&self.seeds())
    }

    /// The ports of the nodes that are masters now.
    pub async fn masters(&self) -> Vec<u16> {
        self.ports_where(|info| info.contains("role:master")).await
    }

    /// The ports of the nodes that are replicas now.
    pub async fn replicas(&self) -> Vec<u16> {
        self.ports_where(|info| info.contains("role:slave")).await
    }

    async fn ports_where(&self, wanted: impl Fn(&str) -> bool) -> Vec<u16> {
        let mut ports = Vec::new();
        for node in &self.nodes {
            if let Some(info) = node_info(node.port, "INFO").await
                && wanted(&info)
            {
                ports.push(node.port);
            }
        }
        ports
    }

    /// The port of the master serving `key`'s slot now.
    pub async fn master_of(&self, key: &str) -> u16 {
        let port = self.live_port();
        let slot = node_command(port, &["CLUSTER", "KEYSLOT", key])
            .await
            .and_then(|slot| slot.parse::<u16>().ok())
            .expect("CLUSTER KEYSLOT answers");
        let nodes = node_info(port, "CLUSTER NODES")
            .await
            .expect("CLUSTER NODES");
        // `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges...>`
        for line in nodes.lines() {
            let fields = line.split(' ').collect::<Vec<_>>();
            if fields.len() < 9 || !fields[2].contains("master") || fields[2].contains("fail") {
                continue;
            }
            let serves = fields[8..].iter().any(|range| match range.split_once('-') {
                Some((low, high)) => {
                    low.parse::<u16>().is_ok_and(|low| low <= slot)
                        && high.parse::<u16>().is_ok_and(|high| slot <= high)
                }
                None => range.parse::<u16>() == Ok(slot),
            });
            if serves {
                let address = fields[1].split('@').next().unwrap_or_default();
                let port = address
                    .rsplit(':')
                    .next()
                    .and_then(|port| port.parse().ok());
                return port.expect("a node address");
            }
        }
        panic!("no master serves slot {slot}");
    }

    /// The replica of the master at `port`.
    pub async fn replica_of(&self, master: u16) -> u16 {
        for node in self.nodes.iter().filter(|node| node.stdin.is_some()) {
            if let Some(info) = node_info(node.port, "INFO").await
                && info.contains("role:slave")
                && info.contains(&format!("master_port:{master}"))
            {
                return node.port;
            }
        }
        panic!("the master at {master} has no replica");
    }

    /// `CLUSTER FAILOVER` on the replica at `port`: it and its master swap roles, without loss.
    /// Returns once the replica is master and its old master has caught up as its replica, so
    /// the slot can survive losing the new master.
    pub async fn fail_over_to(&self, port: u16) {
        // A manual failover the master does not answer in time is abandoned: ask again.
        wait_until("the replica is master", || async {
            if is_master(port).await {
                return true;
            }
            let answer = node_command(port, &["CLUSTER", "FAILOVER"]).await;
            assert_eq!(answer.as_deref(), Some("OK"), "CLUSTER FAILOVER on {port}");
            for _ in 0..50 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if is_master(port).await {
                    return true;
                }
            }
            false
        })
        .await;
        wait_until("the old master follows it", || async {
            for node in &self.nodes {
                if let Some(info) = node_info(node.port, "INFO").await
                    && info.contains(&format!("master_port:{port}"))
                    && info.contains("master_link_status:up")
                {
                    return true;
                }
            }
            false
        })
        .await;
    }

    fn live_port(&self) -> u16 {
        self.nodes
            .iter()
            .find(|node| node.stdin.is_some())
            .expect("a live node")
            .port
    }

    /// SIGKILLs the node at `port`, as a crash would.
    pub async fn kill(&mut self, port: u16) {
        let node = self
            .nodes
            .iter_mut()
            .find(|node| node.port == port)
            .expect("a node of this cluster");
        node.signal("KILL");
        wait_until("the node is gone", || async {
            node_info(port, "PING").await.is_none()
        })
        .await;
    }

    /// Waits until every live node says `cluster_state:ok` and every slot is served, and every
    /// live replica is in sync with its master.
    pub async fn wait_until_healthy(&self) {
        for node in &self.nodes {
            if node.stdin.is_none() {
                continue;
            }
            wait_until("cluster_state:ok", || async {
                node_info(node.port, "CLUSTER INFO")
                    .await
                    .is_some_and(|info| {
                        info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384")
                    })
            })
            .await;
            wait_until("the replica is in sync", || async {
                node_info(node.port, "INFO").await.is_some_and(|info| {
                    info.contains("role:master") || info.contains("master_link_status:up")
                })
            })
            .await;
        }
    }

    /// Where the node files live (for a test that wants to read a node's log or config).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}
