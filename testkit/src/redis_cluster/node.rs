//! One node of the test's cluster: a `redis-server` under a shell that stops it when our end of
//! its stdin closes, or sends it the signal written there; and the few calls the cluster makes
//! to single nodes (a command's answer as text, free ports, polling until a condition holds).

use std::{
    io::Write as _,
    process::{Child, ChildStdin, Command, Stdio},
    time::Duration,
};

#[derive(Debug)]
pub(super) struct Node {
    pub(super) port: u16,
    /// The wrapping shell; dropping `stdin` stops the node.
    shell: Child,
    pub(super) stdin: Option<ChildStdin>,
}

impl Node {
    pub(super) fn start(
        dir: &std::path::Path,
        port: u16,
        bus_port: u16,
        node_timeout: Duration,
    ) -> Self {
        let dir = dir.display();
        let script = format!(
            "redis-server --port {port} --cluster-port {bus_port} --bind 127.0.0.1 \
             --cluster-enabled yes --cluster-config-file {dir}/nodes-{port}.conf \
             --cluster-node-timeout {timeout} --dir {dir} --save '' --appendonly no \
             --loglevel warning & server=$!; read signal; kill -${{signal:-TERM}} $server; \
             wait $server; rm -f {dir}/nodes-{port}.conf; rmdir {dir} 2>/dev/null",
            timeout = node_timeout.as_millis(),
        );
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            // The shell's "Killed" when a test crashes a node.
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is on PATH");
        let stdin = shell.stdin.take();
        Self { port, shell, stdin }
    }

    /// Writes `signal` to the shell, which sends it to the node.
    pub(super) fn signal(&mut self, signal: &str) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "{signal}");
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.signal("TERM");
        let _ = self.shell.wait();
    }
}

pub(super) async fn is_master(port: u16) -> bool {
    node_info(port, "INFO")
        .await
        .is_some_and(|info| info.contains("role:master"))
}

/// `count` distinct free loopback ports (all held while choosing, so none repeats).
pub(super) fn free_ports(count: usize) -> Vec<u16> {
    let listeners = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect::<Vec<_>>();
    listeners
        .iter()
        .map(|listener| listener.local_addr().expect("its address").port())
        .collect()
}

/// The node's answer to `command` (`INFO`, `CLUSTER INFO`, `PING`) as text, `None` when it does
/// not answer.
pub(super) async fn node_info(port: u16, command: &str) -> Option<String> {
    let words = command.split(' ').collect::<Vec<_>>();
    node_command(port, &words).await
}

pub(super) async fn node_command(port: u16, words: &[&str]) -> Option<String> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
    let talk = async {
        let mut connection = client.get_multiplexed_async_connection().await.ok()?;
        let mut command = redis::cmd(words[0]);
        command.arg(&words[1..]);
        command
            .query_async::<redis::Value>(&mut connection)
            .await
            .ok()
    };
    match tokio::time::timeout(Duration::from_secs(2), talk).await {
        Ok(Some(redis::Value::BulkString(bytes))) => Some(String::from_utf8_lossy(&bytes).into()),
        Ok(Some(redis::Value::VerbatimString { text, .. })) => Some(text),
        Ok(Some(redis::Value::SimpleString(text))) => Some(text),
        Ok(Some(redis::Value::Okay)) => Some("OK".to_owned()),
        Ok(Some(redis::Value::Int(number))) => Some(number.to_string()),
        _ => None,
    }
}

/// Polls `condition` every 100 ms for up to a minute, then fails the test naming `what`.
pub(super) async fn wait_until<F, Fut>(what: &str, condition: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..600 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("redis cluster: gave up waiting until {what}");
}
