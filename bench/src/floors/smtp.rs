//! A raw SMTP sender with `TCP_NODELAY`: the floor of mail dispatch. Plain SMTP as lettre
//! speaks it (one command, one reply; no pipelining), one transaction after the other on each
//! of `connections` connections.

use std::{net::SocketAddr, time::Duration};

use tokio::{
    io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader},
    net::{
        TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    task::JoinSet,
};

/// A message about the size of a passreset mail (text and HTML parts, ~4 KiB).
fn message(n: usize) -> String {
    let mut body = format!(
        "From: passreset <no-reply@localhost>\r\nTo: user{n}@example.com\r\n\
         Subject: Reset your password\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n"
    );
    while body.len() < 4096 {
        body.push_str("Someone asked to reset the password of this account. If it was you,\r\n");
    }
    body
}

/// Sends `mails` messages over `connections` connections; returns how long it took.
pub async fn send_raw(
    sink: SocketAddr,
    connections: usize,
    mails: usize,
) -> anyhow::Result<Duration> {
    let started = std::time::Instant::now();
    let mut senders = JoinSet::new();
    for connection in 0..connections {
        let share: Vec<usize> = (connection..mails).step_by(connections).collect();
        senders.spawn(async move { send_over_one_connection(sink, share).await });
    }
    for sent in senders.join_all().await {
        sent?;
    }
    Ok(started.elapsed())
}

async fn send_over_one_connection(sink: SocketAddr, numbers: Vec<usize>) -> anyhow::Result<()> {
    let stream = TcpStream::connect(sink).await?;
    stream.set_nodelay(true)?;
    let (reader, writer) = stream.into_split();
    let mut session = Session {
        writer,
        replies: BufReader::new(reader),
        line: String::new(),
    };
    session.command("").await?;
    session.command("EHLO bench.test\r\n").await?;
    for n in numbers {
        session
            .command("MAIL FROM:<no-reply@localhost>\r\n")
            .await?;
        session
            .command(&format!("RCPT TO:<user{n}@example.com>\r\n"))
            .await?;
        session.command("DATA\r\n").await?;
        session.command(&format!("{}\r\n.\r\n", message(n))).await?;
    }
    session.command("QUIT\r\n").await
}

struct Session {
    writer: OwnedWriteHalf,
    replies: BufReader<OwnedReadHalf>,
    line: String,
}

impl Session {
    /// Sends `text` (nothing for the greeting) and reads the whole reply.
    async fn command(&mut self, text: &str) -> anyhow::Result<()> {
        if !text.is_empty() {
            self.writer.write_all(text.as_bytes()).await?;
        }
        // A reply ends with the line whose fourth character is a space (`250 ok`).
        loop {
            self.line.clear();
            if self.replies.read_line(&mut self.line).await? == 0 {
                anyhow::bail!("the sink closed the connection");
            }
            if self.line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
        if !matches!(self.line.as_bytes().first(), Some(b'2' | b'3')) {
            anyhow::bail!("the sink refused: {}", self.line.trim_end());
        }
        Ok(())
    }
}
