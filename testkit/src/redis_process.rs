//! A `redis-server` the test owns, for tests of what happens when Redis goes away (it can be
//! stopped and started again on the same port), of a Redis that wants a password or an ACL
//! user, or of one that speaks only TLS.

use std::{path::PathBuf, process::Stdio, time::Duration};

use passreset_redis::RedisSettings;
use tokio::process::{Child, Command};

use crate::{TestRedis, TestTls};

/// A private `redis-server` on a free loopback port, killed when dropped.
#[derive(Debug)]
pub struct RedisProcess {
    port: u16,
    /// Who clients must log in as: `default` with `--requirepass`, or an ACL user (the
    /// `default` user then switched off).
    login: Option<(String, String)>,
    /// TLS only (no plain port), with this material.
    tls: Option<Tls>,
    child: Option<Child>,
}

#[derive(Debug)]
struct Tls {
    ca: PathBuf,
    server: (PathBuf, PathBuf),
    client: (PathBuf, PathBuf),
    /// `--tls-auth-clients yes`: a client without a certificate signed by the CA is refused.
    verify_clients: bool,
}

impl RedisProcess {
    /// Starts one and waits until it answers.
    pub async fn start() -> Self {
        Self::start_as(None, None).await
    }

    /// Starts one that refuses clients without `password`, and waits until it answers.
    pub async fn start_with_password(password: &str) -> Self {
        Self::start_as(Some(("default".to_owned(), password.to_owned())), None).await
    }

    /// Starts one whose only user is the ACL user `user` with `password`.
    pub async fn start_with_user(user: &str, password: &str) -> Self {
        Self::start_as(Some((user.to_owned(), password.to_owned())), None).await
    }

    /// Starts one that speaks only TLS, with the server certificate of `tls`; with
    /// `verify_clients`, it also wants the client certificate of `tls`.
    pub async fn start_tls(tls: &TestTls, verify_clients: bool) -> Self {
        let tls = Tls {
            ca: tls.ca(),
            server: tls.server(),
            client: tls.client(),
            verify_clients,
        };
        Self::start_as(None, Some(tls)).await
    }

    async fn start_as(login: Option<(String, String)>, tls: Option<Tls>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let mut process = Self {
            port,
            login,
            tls,
            child: None,
        };
        process.restart().await;
        process
    }

    /// Where it answers, with the user and password when it wants them.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        match &self.login {
            Some((user, password)) => {
                format!("{scheme}://{user}:{password}@127.0.0.1:{}", self.port)
            }
            None => format!("{scheme}://127.0.0.1:{}", self.port),
        }
    }

    /// The settings a service takes to reach it: the URL, and for TLS the test CA and the
    /// client certificate.
    pub fn settings(&self) -> RedisSettings {
        let mut settings = RedisSettings::single(&self.url());
        if let Some(tls) = &self.tls {
            settings.tls_ca = Some(tls.ca.clone());
            settings.tls_cert = Some(tls.client.0.clone());
            settings.tls_key = Some(tls.client.1.clone());
        }
        settings
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
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"]);
        let port = self.port.to_string();
        match &self.tls {
            None => command.args(["--port", &port]),
            Some(tls) => command
                .args(["--port", "0", "--tls-port", &port])
                .arg("--tls-cert-file")
                .arg(&tls.server.0)
                .arg("--tls-key-file")
                .arg(&tls.server.1)
                .arg("--tls-ca-cert-file")
                .arg(&tls.ca)
                .args([
                    "--tls-auth-clients",
                    if tls.verify_clients { "yes" } else { "no" },
                ]),
        };
        match &self.login {
            Some((user, password)) if user == "default" => {
                command.args(["--requirepass", password]);
            }
            Some((user, password)) => {
                command
                    .args(["--user", "default", "off"])
                    .args(["--user", user, "on", &format!(">{password}")])
                    .args(["~*", "&*", "+@all"]);
            }
            None => {}
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is on PATH");
        self.child = Some(child);
        let settings = self.settings();
        let mut last_error = None;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            match passreset_redis::connect(&settings, passreset_redis::RESPONSE_TIMEOUT).await {
                Ok(_) => return,
                Err(error) => last_error = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "redis-server on port {} did not start: {last_error:?}",
            self.port
        );
    }
}
