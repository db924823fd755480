//! Local ports: a free one to start something on, and waiting until it listens.

use std::{net::SocketAddr, time::Duration};

/// A loopback address with a port free right now.
pub(crate) fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// Waits until something accepts connections at `addr` (what was started there: `what`), for
/// up to 10 s.
pub(crate) async fn wait_until_listening(addr: SocketAddr, what: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("{what} did not listen on {addr} within 10 s")
}
