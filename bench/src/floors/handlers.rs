//! Bare axum handlers, on the same Redis as the services: one doing one `GET` (the floor of
//! check-token), one doing one script call, `EVALSHA` (the floor of a limited answer).

use std::net::SocketAddr;

use axum::{Router, extract::State, http::StatusCode, routing::post};
use passreset_redis::RedisConnection;

/// The path of the handler doing one `GET`.
pub const GET_PATH: &str = "/get";
/// The path of the handler doing one `EVALSHA`.
pub const SCRIPT_PATH: &str = "/script";

/// A fixed-window counter: what a rate limit's script does, in one call.
const COUNTER: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
";

#[derive(Clone)]
struct Floor {
    connection: RedisConnection,
    key: String,
    script: redis::Script,
}

/// The running floor server; it stops when dropped.
#[derive(Debug)]
pub struct FloorServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The key its `GET` reads.
    pub value_key: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FloorServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FloorServer {
    /// Serves both handlers on a free loopback port, keys under `prefix`.
    pub async fn start(redis_url: &str, prefix: &str) -> anyhow::Result<Self> {
        let connection = passreset_redis::connect(
            &passreset_redis::RedisSettings::single(redis_url),
            passreset_redis::RESPONSE_TIMEOUT,
        )
        .await?;
        let key = format!("{prefix}floor:value");
        let mut setter = connection.clone();
        redis::cmd("SET")
            .arg(&key)
            .arg("account-id,expires-at,state")
            .query_async::<()>(&mut setter)
            .await?;
        let state = Floor {
            connection,
            key: key.clone(),
            script: redis::Script::new(COUNTER),
        };
        let router = Router::new()
            .route(GET_PATH, post(get))
            .route(SCRIPT_PATH, post(script))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            addr,
            value_key: key,
            task,
        })
    }
}

async fn get(State(floor): State<Floor>, _body: String) -> StatusCode {
    let mut connection = floor.connection.clone();
    match redis::cmd("GET")
        .arg(&floor.key)
        .query_async::<Option<String>>(&mut connection)
        .await
    {
        Ok(Some(_)) => StatusCode::NO_CONTENT,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn script(State(floor): State<Floor>, _body: String) -> StatusCode {
    let mut connection = floor.connection.clone();
    let counted: Result<i64, _> = floor
        .script
        .key(format!("{}:counter", floor.key))
        .arg(60_000)
        .invoke_async(&mut connection)
        .await;
    match counted {
        Ok(_) => StatusCode::TOO_MANY_REQUESTS,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}
