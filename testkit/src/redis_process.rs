//! A `redis-server` the test owns, for tests of what happens when Redis goes away: it can be
//! stopped and started again on the same port.

use std::{process::Stdio, time::Duration};

use tokio::process::{Child, Command};

use crate::TestRedis;

/// A private `redis-server` on a free loopback port, killed when dropped.
#[derive(Debug)]
pub struct RedisProcess {
    port: u16,
    child: Option<Child>,
}

impl RedisProcess {
    /// Starts one and waits until it answers.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let mut process = Self { port, child: None };
        process.restart().await;
        process
    }

    /// This server with a fresh key prefix.
    pub fn test_redis(&self) -> TestRedis {
        TestRedis {
            url: format!("redis://127.0.0.1:{}", self.port),
            prefix: format!("test:{}:", uuid::Uuid::new_v4().simple()),
        }
    }

    /// Kills the server (its data is gone: it keeps nothing on disk).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts the server (again) on the same port and waits until it answers.
    pub async fn restart(&mut self) {
        self.stop().await;
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is on PATH");
        self.child = Some(child);
        let url = format!("redis://127.0.0.1:{}", self.port);
        for _ in 0..100 {
            if crate::redis_server::answers(&url).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server on port {} did not start", self.port);
    }
}
