//! The test parts themselves work: a real SMTP conversation, and Redis prefixes that isolate.
#![allow(
    clippy::unwrap_used,
    reason = "a failed step must fail the test loudly"
)]

use std::time::Duration;

use passreset_testkit::{SmtpSink, test_redis};
use redis::AsyncCommands as _;
use tokio::{
    io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader},
    net::TcpStream,
};

/// Sends `commands` one by one (a message body as one command ending in `.`) and returns the
/// first line of each reply, the greeting first.
async fn converse(sink: &SmtpSink, commands: &[&str]) -> Vec<String> {
    let stream = TcpStream::connect(sink.addr()).await.unwrap();
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut replies = Vec::new();
    let read_reply = async |reader: &mut BufReader<_>| {
        let mut first = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            if first.is_empty() {
                first = line.trim_end().to_owned();
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return first;
            }
        }
    };
    replies.push(read_reply(&mut reader).await);
    for command in commands {
        writer.write_all(command.as_bytes()).await.unwrap();
        writer.write_all(b"\r\n").await.unwrap();
        replies.push(read_reply(&mut reader).await);
    }
    replies
}

#[tokio::test]
async fn the_smtp_sink_keeps_a_message_sent_by_a_real_conversation() {
    let sink = SmtpSink::start().await;
    let replies = converse(
        &sink,
        &[
            "EHLO test",
            "MAIL FROM:<a@example.com>",
            "RCPT TO:<b@example.com>",
            "DATA",
            "Subject: hello\r\nContent-Type: text/plain\r\n\r\n..dotted line\r\n.",
            "QUIT",
        ],
    )
    .await;
    let codes: Vec<_> = replies.iter().map(|reply| &reply[..3]).collect();
    assert_eq!(codes, ["220", "250", "250", "250", "354", "250", "221"]);

    let mails = sink.wait_for_messages(1, Duration::from_secs(5)).await;
    assert_eq!(mails[0].envelope_from, "a@example.com");
    assert_eq!(mails[0].recipients, ["b@example.com"]);
    assert_eq!(mails[0].subject(), "hello");
    assert_eq!(mails[0].text_body().trim_end(), ".dotted line");
}

#[tokio::test]
async fn the_smtp_sink_answers_the_failures_a_test_asks_for() {
    let sink = SmtpSink::start().await;
    sink.fail_next_transactions(1);
    sink.reject_recipient("gone@example.com", 550);
    let replies = converse(
        &sink,
        &[
            "EHLO test",
            "MAIL FROM:<a@example.com>",
            "RCPT TO:<gone@example.com>",
            "RCPT TO:<b@example.com>",
            "DATA",
            "Subject: one\r\n\r\nbody\r\n.",
            "QUIT",
        ],
    )
    .await;
    assert!(replies[3].starts_with("550"), "{replies:?}");
    assert!(replies[6].starts_with("451"), "{replies:?}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn each_test_redis_prefix_sees_only_its_own_keys() {
    let first = test_redis().await;
    let second = test_redis().await;
    assert_ne!(first.prefix, second.prefix);
    let mut connection = first.connection().await;
    let _: () = connection
        .set(format!("{}greeting", first.prefix), "hello")
        .await
        .unwrap();

    assert_eq!(first.keys().await, [format!("{}greeting", first.prefix)]);
    assert!(first.dump().await.contains("hello"));
    assert!(second.keys().await.is_empty());
}
