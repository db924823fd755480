//! A real SMTP server on loopback (plain ESMTP, no TLS) that stores every message it accepts.
//! Tests can make it answer transient or permanent failures to see how the sender copes.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader},
    net::{TcpListener, TcpStream},
    sync::Notify,
    task::JoinHandle,
};

/// A message as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub envelope_from: String,
    /// The envelope recipients (`RCPT TO`).
    pub recipients: Vec<String>,
    /// The message as sent after `DATA`, dot-unstuffed, with CRLF line ends.
    pub raw: String,
}

impl ReceivedMail {
    fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .expect("the received message parses as RFC 5322")
    }

    /// The decoded subject.
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    /// The raw value of the first header with this name, if any.
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed()
            .header_raw(name)
            .map(|value| value.trim().to_owned())
    }

    /// The `Message-ID` header, with its angle brackets.
    pub fn message_id(&self) -> Option<String> {
        self.header("Message-ID")
    }

    /// The decoded text/plain part.
    pub fn text_body(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|body| body.into_owned())
            .unwrap_or_default()
    }

    /// The decoded text/html part.
    pub fn html_body(&self) -> String {
        self.parsed()
            .body_html(0)
            .map(|body| body.into_owned())
            .unwrap_or_default()
    }
}

/// What the sink should do instead of accepting, set by the test.
#[derive(Debug, Default)]
struct Faults {
    /// Answer this many transactions with `451` at the end of `DATA`.
    transient_failures_left: u32,
    /// Answer `RCPT TO` for these addresses with the given reply line (e.g. `550 ...`).
    rejected_recipients: HashMap<String, String>,
}

#[derive(Debug, Default)]
struct Shared {
    received: Mutex<Vec<ReceivedMail>>,
    /// Messages accepted so far, kept or not.
    accepted: AtomicUsize,
    /// Count messages without keeping them (benchmarks send hundreds of thousands).
    discard: bool,
    faults: Mutex<Faults>,
    arrived: Notify,
}

/// A running SMTP server; it stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_loop: JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl SmtpSink {
    /// Starts a sink on a free loopback port.
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// Starts a sink on the given loopback port (0 for any). To bring "the mail server" back
    /// on an address a sender knows, hold that port instead ([`Self::start_from`]).
    pub async fn start_on(port: u16) -> Self {
        Self::start_with(port, Shared::default()).await
    }

    /// Starts a sink that only counts what it accepts ([`Self::accepted`]), for benchmarks.
    pub async fn start_counting() -> Self {
        let shared = Shared {
            discard: true,
            ..Shared::default()
        };
        Self::start_with(0, shared).await
    }

    /// Starts a sink on a listener the test already holds: a server that "comes back" on the
    /// same address without the port ever being free for another process to take.
    pub async fn start_from(listener: TcpListener) -> Self {
        Self::serve(listener, Shared::default())
    }

    async fn start_with(port: u16, shared: Shared) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the smtp sink");
        Self::serve(listener, shared)
    }

    fn serve(listener: TcpListener, shared: Shared) -> Self {
        let addr = listener.local_addr().expect("sink address");
        let shared = Arc::new(shared);
        let accept_loop = tokio::spawn(accept(listener, Arc::clone(&shared)));
        Self {
            addr,
            shared,
            accept_loop,
        }
    }

    /// The sink's socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `MAIL_TRANSPORT` value that sends here.
    pub fn url(&self) -> String {
        format!("smtp://{}?tls=none", self.addr)
    }

    /// How many messages were accepted so far (also by a counting sink).
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::Relaxed)
    }

    /// Everything accepted so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.received.lock().expect("sink lock").clone()
    }

    /// Waits until at least `count` messages have arrived and returns them all.
    pub async fn wait_for_messages(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "expected {count} messages within {timeout:?}, got {}",
                    self.messages().len()
                );
            }
        }
    }

    /// Answers the next `count` transactions with `451` (a transient failure).
    pub fn fail_next_transactions(&self, count: u32) {
        self.shared
            .faults
            .lock()
            .expect("sink lock")
            .transient_failures_left = count;
    }

    /// Answers `RCPT TO:<address>` with `code` (e.g. 550, a permanent failure).
    pub fn reject_recipient(&self, address: &str, code: u16) {
        self.reject_recipient_with(address, &format!("{code} recipient refused"));
    }

    /// Answers `RCPT TO:<address>` with this whole reply line, as real servers word it (e.g.
    /// `550 5.1.1 <ada@example.com>: no such user`).
    pub fn reject_recipient_with(&self, address: &str, reply: &str) {
        self.shared
            .faults
            .lock()
            .expect("sink lock")
            .rejected_recipients
            .insert(address.to_owned(), reply.to_owned());
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        // Replies are small writes: without this, delayed ACKs add tens of ms to each one.
        let _ = stream.set_nodelay(true);
        tokio::spawn(session(stream, Arc::clone(&shared)));
    }
}

/// One SMTP session: enough of RFC 5321 for a real client (lettre) to deliver through it.
async fn session(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader);
    writer.write_all(b"220 sink.test ESMTP ready\r\n").await?;

    let mut envelope_from = String::new();
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            "EHLO" => "250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING".into(),
            "HELO" => "250 sink.test".into(),
            "MAIL" => {
                envelope_from = angle_address(&command);
                recipients.clear();
                "250 ok".into()
            }
            "RCPT" => {
                let recipient = angle_address(&command);
                let rejected = shared
                    .faults
                    .lock()
                    .expect("sink lock")
                    .rejected_recipients
                    .get(&recipient)
                    .cloned();
                match rejected {
                    Some(reply) => reply,
                    None => {
                        recipients.push(recipient);
                        "250 ok".into()
                    }
                }
            }
            "DATA" if recipients.is_empty() => "554 no valid recipients".into(),
            "DATA" => {
                writer.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let raw = read_data(&mut lines).await?;
                let fail = {
                    let mut faults = shared.faults.lock().expect("sink lock");
                    let fail = faults.transient_failures_left > 0;
                    faults.transient_failures_left =
                        faults.transient_failures_left.saturating_sub(1);
                    fail
                };
                if fail {
                    "451 try again later".into()
                } else {
                    if !shared.discard {
                        shared
                            .received
                            .lock()
                            .expect("sink lock")
                            .push(ReceivedMail {
                                envelope_from: envelope_from.clone(),
                                recipients: std::mem::take(&mut recipients),
                                raw,
                            });
                    }
                    shared.accepted.fetch_add(1, Ordering::Relaxed);
                    shared.arrived.notify_waiters();
                    "250 queued".into()
                }
            }
            "RSET" => {
                envelope_from.clear();
                recipients.clear();
                "250 ok".into()
            }
            "NOOP" => "250 ok".into(),
            "QUIT" => {
                writer.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => "502 command not implemented".into(),
        };
        writer.write_all(reply.as_bytes()).await?;
        writer.write_all(b"\r\n").await?;
    }
}

/// Reads the message after `DATA` up to the lone `.` line, undoing dot-stuffing.
async fn read_data(
    lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<String> {
    let mut raw = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let content = line.trim_end_matches(['\r', '\n']);
        if content == "." {
            return Ok(raw);
        }
        raw.push_str(content.strip_prefix('.').unwrap_or(content));
        raw.push_str("\r\n");
    }
}

/// `MAIL FROM:<a@b> SIZE=1` -> `a@b`.
fn angle_address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}
