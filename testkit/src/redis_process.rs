//! A `redis-server` the test owns, for tests of what happens when Redis goes away (it can be
//! stopped and started again on the same port) or of a Redis that wants a password.

use std::{process::Stdio, time::Duration};

use tokio::process::{Child, Command};

use crate::TestRedis;

/// A private `redis-server` on a free loopback port, killed when dropped.
#[derive(Debug)]
pub struct RedisProcess {
    port: u16,
    /// `--requirepass`, when the server wants one (the `default` user's password).
    password: Option<String>,
    child: Option<Child>,
}

impl RedisProcess {
    /// Starts one and waits until it answers.
    pub async fn start() -> Self {
        Self::start_as(None).await
    }

    /// Starts one that refuses clients without `password`, and waits until it answers.
    pub async fn start_with_password(password: &str) -> Self {
        Self::start_as(Some(password.to_owned())).await
    }

    async fn start_as(password: Option<String>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let mut process = Self {
            port,
            password,
            child: None,
        };
        process.restart().await;
        process
    }

    /// Where it answers, with the password when it wants one.
    pub fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("redis://default:{password}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// This server with a fresh key prefix.
    pub fn test_redis(&self) -> TestRedis {
        TestRedis::single(&self.url())
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
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"]);
        if let Some(password) = &self.password {
            command.args(["--requirepass", password]);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is on PATH");
        self.child = Some(child);
        let url = self.url();
        for _ in 0..100 {
            if crate::redis_server::answers(&url).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server on port {} did not start", self.port);
    }
}
