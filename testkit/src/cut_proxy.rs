//! A TCP proxy a test puts between a service and Redis and cuts at the right moment: after
//! the first command that carries a given pattern (after its reply, or instead of it), every
//! connection through it is closed and new ones are dropped at once, until the test heals it.
//! So a test can let one write land and make every step after it fail, as a Redis blip would.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream, tcp::OwnedReadHalf, tcp::OwnedWriteHalf},
    sync::watch,
};

/// What the proxy does now.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Mode {
    /// Forwards everything.
    Open,
    /// Forwards everything, and cuts after a command carrying the pattern: after its reply, or
    /// (`swallow`) instead of it.
    Armed { pattern: Vec<u8>, swallow: bool },
    /// Closes every connection.
    Cut,
}

/// A proxy to one upstream address; stops when dropped.
#[derive(Debug)]
pub struct CutProxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    accept: tokio::task::JoinHandle<()>,
}

impl CutProxy {
    /// A proxy on a free loopback port, forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy port binds");
        let addr = listener.local_addr().expect("proxy has an address");
        let (mode, _) = watch::channel(Mode::Open);
        let modes = mode.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *modes.borrow() == Mode::Cut {
                    drop(client);
                    continue;
                }
                let modes = modes.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        relay(client, server, modes).await;
                    }
                });
            }
        });
        Self { addr, mode, accept }
    }

    /// A proxy to the Redis of `redis_url` (`redis://host:port`), and the URL to reach it
    /// through the proxy.
    pub async fn for_redis(redis_url: &str) -> (Self, String) {
        let authority = redis_url
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .rsplit('@')
            .next()
            .expect("redis url has an authority")
            .to_owned();
        let upstream = tokio::net::lookup_host(authority.as_str())
            .await
            .expect("redis host resolves")
            .next()
            .expect("redis host has an address");
        let proxy = Self::start(upstream).await;
        let url = format!("redis://{}", proxy.addr);
        (proxy, url)
    }

    /// Where the proxy listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts every connection right after the reply to the next command whose bytes contain
    /// `pattern` (that command itself reaches the server).
    pub fn cut_after_reply_to(&self, pattern: &[u8]) {
        self.mode.send_replace(Mode::Armed {
            pattern: pattern.to_vec(),
            swallow: false,
        });
    }

    /// Cuts every connection once the next command whose bytes contain `pattern` has reached
    /// the server and had time to run there, without passing its reply on: the client cannot
    /// tell whether it ran.
    pub fn cut_instead_of_reply_to(&self, pattern: &[u8]) {
        self.mode.send_replace(Mode::Armed {
            pattern: pattern.to_vec(),
            swallow: true,
        });
    }

    /// Whether the proxy is cut now.
    pub fn is_cut(&self) -> bool {
        *self.mode.borrow() == Mode::Cut
    }

    /// Waits until the proxy has cut, at most `timeout`; whether it did.
    pub async fn wait_until_cut(&self, timeout: Duration) -> bool {
        let mut modes = self.mode.subscribe();
        tokio::time::timeout(timeout, modes.wait_for(|mode| *mode == Mode::Cut))
            .await
            .is_ok()
    }

    /// Forwards everything again.
    pub fn heal(&self) {
        self.mode.send_replace(Mode::Open);
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.mode.send_replace(Mode::Cut);
        self.accept.abort();
    }
}

/// What one connection saw of the armed pattern.
#[derive(Debug, Default)]
struct Trigger {
    /// The command carrying it went to the server.
    sent: AtomicBool,
    /// Its reply (and every later one) is to be dropped.
    swallow: AtomicBool,
}

/// How long a swallowed command is given to run on the server before the cut.
const RUN_BEFORE_CUT: Duration = Duration::from_millis(300);

/// Copies both ways until either side closes or the proxy cuts.
async fn relay(client: TcpStream, server: TcpStream, modes: watch::Sender<Mode>) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // Set once this connection forwarded the armed pattern: its next reply triggers the cut.
    let triggered = Arc::new(Trigger::default());
    let upstream = pump_requests(client_read, server_write, &modes, &triggered);
    let downstream = pump_replies(server_read, client_write, &modes, &triggered);
    let mut cut = modes.subscribe();
    tokio::select! {
        () = upstream => {}
        () = downstream => {}
        _ = cut.wait_for(|mode| *mode == Mode::Cut) => {}
    }
}

async fn pump_requests(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    modes: &watch::Sender<Mode>,
    triggered: &Trigger,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let Ok(read) = from.read(&mut buffer).await else {
            return;
        };
        let Some(chunk) = buffer.get(..read).filter(|chunk| !chunk.is_empty()) else {
            return;
        };
        let swallow = match &*modes.borrow() {
            Mode::Cut => return,
            Mode::Armed { pattern, swallow } if contains(chunk, pattern) => {
                triggered.swallow.store(*swallow, Ordering::SeqCst);
                triggered.sent.store(true, Ordering::SeqCst);
                *swallow
            }
            Mode::Armed { .. } | Mode::Open => false,
        };
        if to.write_all(chunk).await.is_err() {
            return;
        }
        if swallow {
            tokio::time::sleep(RUN_BEFORE_CUT).await;
            modes.send_replace(Mode::Cut);
            return;
        }
    }
}

async fn pump_replies(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    modes: &watch::Sender<Mode>,
    triggered: &Trigger,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let Ok(read) = from.read(&mut buffer).await else {
            return;
        };
        let Some(chunk) = buffer.get(..read).filter(|chunk| !chunk.is_empty()) else {
            return;
        };
        if *modes.borrow() == Mode::Cut {
            return;
        }
        if triggered.swallow.load(Ordering::SeqCst) {
            continue;
        }
        if to.write_all(chunk).await.is_err() {
            return;
        }
        if triggered.sent.load(Ordering::SeqCst) {
            let _ = to.flush().await;
            modes.send_replace(Mode::Cut);
            return;
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}
