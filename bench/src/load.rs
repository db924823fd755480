//! The HTTP load generator: N keep-alive HTTP/1.1 connections, each sending its next request
//! as soon as the previous answer is read, for a fixed time (closed loop, like `wrk`), or at a
//! fixed pace ([`run_paced_until`], open loop); and [`burst`], many requests at once, each on
//! its own connection.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::{net::TcpStream, task::JoinSet};

use crate::stats::Sample;

/// What each request is: a POST of a body (built per connection and sequence number) to a path.
#[derive(Clone)]
pub struct Target {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The request path, e.g. `/v1/account/password/check-token`.
    pub path: &'static str,
    /// The status a request is counted as served with.
    pub expect: StatusCode,
    /// The body of the `n`-th request of connection `c`.
    pub body: Arc<dyn Fn(usize, u64) -> Bytes + Send + Sync>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target(POST http://{}{})", self.addr, self.path)
    }
}

impl Target {
    /// A target that POSTs the same body every time.
    pub fn fixed(addr: SocketAddr, path: &'static str, expect: StatusCode, body: Bytes) -> Self {
        Self {
            addr,
            path,
            expect,
            body: Arc::new(move |_, _| body.clone()),
        }
    }

    fn request(&self, connection: usize, n: u64) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new((self.body)(connection, n)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = http::Uri::from_static(self.path);
        let headers = request.headers_mut();
        headers.insert(header::HOST, http::HeaderValue::from_static("bench.test"));
        headers.insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        request
    }
}

/// Runs `connections` closed-loop connections against `target` for `duration`, counting the
/// answers of the last nine tenths: the first tenth warms up (every connection's first answer
/// takes a whole latency, which a 100 ms floor would otherwise charge to the rate), and the
/// rate is answers in that window / its length.
pub async fn run(target: &Target, connections: usize, duration: Duration) -> Sample {
    run_with(
        target,
        connections,
        duration,
        duration / 10,
        Arc::default(),
        None,
    )
    .await
}

/// `connections` connections for `duration` or until `stop` is set, each sending one request
/// per `interval` (open loop), every answer counted: the latency of a steady load rather than
/// of a saturating one, timed from when each request was due, so an answer that stalls also
/// counts the requests it held up.
pub async fn run_paced_until(
    target: &Target,
    connections: usize,
    interval: Duration,
    duration: Duration,
    stop: Arc<AtomicBool>,
) -> Sample {
    run_with(
        target,
        connections,
        duration,
        Duration::ZERO,
        stop,
        Some(interval),
    )
    .await
}

async fn run_with(
    target: &Target,
    connections: usize,
    duration: Duration,
    warm_up: Duration,
    stop: Arc<AtomicBool>,
    pace: Option<Duration>,
) -> Sample {
    let started = Instant::now();
    let until = Until {
        counted_from: started + warm_up,
        deadline: started + duration,
        stop,
    };
    let mut tasks = JoinSet::new();
    for connection in 0..connections {
        let (target, until) = (target.clone(), until.clone());
        tasks.spawn(async move { one_connection(&target, connection, &until, pace).await });
    }
    let mut total = Sample::default();
    while let Some(Ok(sample)) = tasks.join_next().await {
        total.ok += sample.ok;
        total.others += sample.others;
        total.latencies.extend(sample.latencies);
    }
    total.elapsed = Instant::now()
        .min(until.deadline)
        .saturating_duration_since(until.counted_from);
    total.latencies.sort_unstable();
    total
}

/// Which answers a run counts, and when it ends: at its deadline, or earlier when told to stop.
#[derive(Clone)]
struct Until {
    counted_from: Instant,
    deadline: Instant,
    stop: Arc<AtomicBool>,
}

impl Until {
    fn going(&self) -> bool {
        Instant::now() < self.deadline && !self.stop.load(Ordering::Relaxed)
    }

    /// Whether an answer that came now is counted: after the warm-up, before the deadline.
    fn counts_now(&self) -> bool {
        let now = Instant::now();
        self.counted_from <= now && now <= self.deadline
    }
}

async fn one_connection(
    target: &Target,
    connection: usize,
    until: &Until,
    pace: Option<Duration>,
) -> Sample {
    let mut sample = Sample::default();
    let mut n = 0;
    let mut ticker = pace.map(|interval| {
        let mut ticker = tokio::time::interval(interval);
        // Late requests are sent at once, each timed from when it was due.
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        ticker
    });
    while until.going() {
        let Ok(mut sender) = connect(target.addr).await else {
            sample.others += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        while until.going() {
            n += 1;
            let started = match ticker.as_mut() {
                Some(ticker) => ticker.tick().await.into_std(),
                None => Instant::now(),
            };
            let answer = send(&mut sender, target.request(connection, n)).await;
            let counted = until.counts_now();
            match answer {
                Ok(status) if status == target.expect => {
                    if counted {
                        sample.ok += 1;
                        sample.latencies.push(started.elapsed());
                    }
                }
                Ok(_) => sample.others += u64::from(counted),
                Err(_) => {
                    sample.others += u64::from(counted);
                    break;
                }
            }
        }
    }
    sample
}

/// Sends `count` requests at once, each on its own fresh connection, and returns each one's
/// status (`None` when it failed) and latency.
pub async fn burst(target: &Target, count: usize) -> Vec<(Option<StatusCode>, Duration)> {
    let mut senders = Vec::with_capacity(count);
    for _ in 0..count {
        senders.push(connect(target.addr).await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(count));
    let mut tasks = JoinSet::new();
    for (connection, sender) in senders.into_iter().enumerate() {
        let request = target.request(connection, 0);
        let start = Arc::clone(&start);
        tasks.spawn(async move {
            start.wait().await;
            let started = Instant::now();
            let status = match sender {
                Ok(mut sender) => send(&mut sender, request).await.ok(),
                Err(_) => None,
            };
            (status, started.elapsed())
        });
    }
    tasks.join_all().await
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, LoadError> {
    let stream = tokio::time::timeout(PATIENCE, TcpStream::connect(addr))
        .await
        .map_err(|_| LoadError::Timeout)??;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// The longest the load generator waits for one answer (or one connection): a server that
/// never answers costs the run that request, not the whole bench.
const PATIENCE: Duration = Duration::from_secs(30);

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<StatusCode, LoadError> {
    let exchange = async {
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        response.into_body().collect().await?;
        Ok(status)
    };
    tokio::time::timeout(PATIENCE, exchange)
        .await
        .map_err(|_| LoadError::Timeout)?
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("connect: {0}")]
    Connect(#[from] std::io::Error),
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    #[error("no answer within {PATIENCE:?}")]
    Timeout,
}
