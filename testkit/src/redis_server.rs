//! A Redis for tests: `REDIS_URL` when set, otherwise one private `redis-server` per test
//! process, stopped when the process exits.

use std::{
    io::Write as _,
    process::{Child, ChildStdin, Command, Stdio},
    sync::{Mutex, OnceLock},
    time::Duration,
};

use redis::AsyncCommands as _;
use tokio::sync::OnceCell;

/// One test's view of Redis: the server and the key prefix that is this test's alone.
#[derive(Debug, Clone)]
pub struct TestRedis {
    /// Where the server answers, e.g. `redis://127.0.0.1:6379`.
    pub url: String,
    /// `test:<uuid>:`: every key the code under test writes must start with it.
    pub prefix: String,
    /// Whether `url` lists the seed nodes of a Redis Cluster.
    pub cluster: bool,
}

/// Returns the test Redis with a prefix no other test uses.
pub async fn test_redis() -> TestRedis {
    static URL: OnceCell<String> = OnceCell::const_new();
    let url = URL.get_or_init(server_url).await.clone();
    TestRedis::single(&url)
}

fn fresh_prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

impl TestRedis {
    /// The single Redis at `url`, with a fresh key prefix.
    pub fn single(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            prefix: fresh_prefix(),
            cluster: false,
        }
    }

    /// The Redis Cluster reached through `seeds` (comma-separated), with a fresh key prefix.
    pub fn cluster(seeds: &str) -> Self {
        Self {
            cluster: true,
            ..Self::single(seeds)
        }
    }

    /// The settings a service takes to reach this Redis.
    pub fn settings(&self) -> passreset_redis::RedisSettings {
        if self.cluster {
            passreset_redis::RedisSettings::cluster(&self.url)
        } else {
            passreset_redis::RedisSettings::single(&self.url)
        }
    }

    /// A multiplexed connection, as the services use (to the cluster, for a cluster).
    pub async fn connection(&self) -> passreset_redis::RedisConnection {
        passreset_redis::connect(&self.settings(), passreset_redis::RESPONSE_TIMEOUT)
            .await
            .expect("test redis answers")
    }

    /// Every key under this test's prefix, sorted (from every master, on a cluster).
    pub async fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for url in self.masters().await {
            let client = redis::Client::open(url.as_str()).expect("node url parses");
            let mut connection = client
                .get_multiplexed_async_connection()
                .await
                .expect("node answers");
            let mut iter: redis::AsyncIter<String> = connection
                .scan_match(format!("{}*", self.prefix))
                .await
                .expect("scan works");
            while let Some(key) = iter.next_item().await {
                keys.push(key.expect("key is text"));
            }
        }
        keys.sort();
        keys
    }

    /// The URL of each server holding keys: the one, or each master of the cluster.
    async fn masters(&self) -> Vec<String> {
        if !self.cluster {
            return vec![self.url.clone()];
        }
        let nodes: String = redis::cmd("CLUSTER")
            .arg("NODES")
            .query_async(&mut self.connection().await)
            .await
            .expect("cluster nodes works");
        // `<id> <ip:port@bus> <flags> ...`, one line per node.
        nodes
            .lines()
            .filter_map(|line| {
                let mut fields = line.split(' ');
                let address = fields.nth(1)?;
                let flags = fields.next()?;
                (flags.contains("master") && !flags.contains("fail")).then(|| {
                    let address = address.split('@').next().unwrap_or(address);
                    format!("redis://{address}")
                })
            })
            .collect()
    }

    /// Every key under this test's prefix with its value, as text: what a dump of Redis would
    /// reveal, for tests that look for secrets in it.
    pub async fn dump(&self) -> String {
        let mut connection = self.connection().await;
        let mut out = String::new();
        for key in self.keys().await {
            let kind: String = redis::cmd("TYPE")
                .arg(&key)
                .query_async(&mut connection)
                .await
                .expect("type works");
            let mut read = match kind.as_str() {
                "string" => redis::cmd("GET"),
                "hash" => redis::cmd("HGETALL"),
                "set" => redis::cmd("SMEMBERS"),
                "zset" => redis::cmd("ZRANGE"),
                "list" => redis::cmd("LRANGE"),
                "stream" => redis::cmd("XRANGE"),
                _ => continue,
            };
            read.arg(&key);
            match kind.as_str() {
                "zset" => read.arg(0).arg(-1).arg("WITHSCORES"),
                "list" => read.arg(0).arg(-1),
                "stream" => read.arg("-").arg("+"),
                _ => &mut read,
            };
            let value: redis::Value = read.query_async(&mut connection).await.expect("read works");
            out.push_str(&format!("{key} ({kind}): {}\n", render(&value)));
        }
        out
    }
}

fn render(value: &redis::Value) -> String {
    match value {
        redis::Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        redis::Value::SimpleString(text) => text.clone(),
        redis::Value::Int(number) => number.to_string(),
        redis::Value::Array(items) | redis::Value::Set(items) => {
            items.iter().map(render).collect::<Vec<_>>().join(" ")
        }
        redis::Value::Map(pairs) => pairs
            .iter()
            .map(|(key, value)| format!("{}={}", render(key), render(value)))
            .collect::<Vec<_>>()
            .join(" "),
        other => format!("{other:?}"),
    }
}

async fn server_url() -> String {
    if let Ok(url) = std::env::var("REDIS_URL")
        && !url.trim().is_empty()
    {
        assert!(answers(&url).await, "REDIS_URL={url} does not answer PING");
        return url;
    }
    let url = start_private_server();
    for _ in 0..100 {
        if answers(&url).await {
            return url;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the private redis-server at {url} did not start");
}

pub(crate) async fn answers(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let Ok(Ok(mut connection)) = tokio::time::timeout(
        Duration::from_secs(2),
        client.get_multiplexed_async_connection(),
    )
    .await
    else {
        return false;
    };
    redis::cmd("PING")
        .query_async::<String>(&mut connection)
        .await
        .is_ok()
}

/// Starts `redis-server` on a free port under a shell that stops it when our end of its stdin
/// closes, which happens when this process exits however it exits.
fn start_private_server() -> String {
    static KEEPALIVE: OnceLock<Mutex<(Child, ChildStdin)>> = OnceLock::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let script = format!(
        "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no \
         --loglevel warning & server=$!; read _; kill $server"
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server is on PATH (or set REDIS_URL)");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.flush().expect("stdin open");
    KEEPALIVE.get_or_init(|| Mutex::new((child, stdin)));
    format!("redis://127.0.0.1:{port}")
}
