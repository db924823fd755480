//! [`listen`]: a TCP listener with room for a burst of connections.
//!
//! `TcpListener::bind` (tokio, via mio, as the standard library) asks the kernel for a backlog
//! of 128 connections that completed the handshake but were not accepted yet. When more
//! clients connect at once (a load balancer reconnecting, a fleet of callers restarting), the
//! kernel drops the rest of the handshakes and those clients retry after a second or more: in
//! the bench, one round of 512 and 1024 connections opening at once counted 504 listen
//! overflows. A backlog of 1024 (the kernel caps it at `net.core.somaxconn`) takes such a burst.

use std::{io, net::SocketAddr};

use tokio::net::{TcpListener, TcpSocket};

/// Connections that may wait for `accept` (before the kernel's own cap).
pub const BACKLOG: u32 = 1024;

/// Binds `addr` (port 0 picks a free one) with [`BACKLOG`], reusing the address as `bind`
/// does, so a restarted service need not wait for its predecessor's connections to time out.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_listener_accepts_on_the_port_it_picked() {
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let connect = tokio::net::TcpStream::connect(addr);
        let (accepted, connected) = tokio::join!(listener.accept(), connect);
        assert_eq!(
            accepted.unwrap().1,
            connected.unwrap().local_addr().unwrap()
        );
    }

    #[test]
    fn the_kernel_holds_the_backlog_asked_for() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        let _entered = runtime.enter();
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = listener.local_addr().unwrap().port();
        // For a listening socket, `ss` reports its backlog in the Send-Q column.
        let listed = std::process::Command::new("ss")
            .args(["-Hltn", &format!("sport = :{port}")])
            .output()
            .expect("ss (iproute2) lists sockets");
        let listed = String::from_utf8_lossy(&listed.stdout);
        let backlog: u32 = listed
            .split_whitespace()
            .nth(2)
            .and_then(|column| column.parse().ok())
            .unwrap_or_else(|| panic!("no backlog in {listed:?}"));
        let cap: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(backlog, BACKLOG.min(cap), "{listed}");
    }
}
