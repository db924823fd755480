//! Mail dispatch (gRPC Enqueue -> Redis Stream -> workers -> SMTP) beside a raw SMTP sender
//! with `TCP_NODELAY` at the same concurrency to the same sink. Goal: >= 0.80 and >= 1,000
//! mails/s.

use std::time::{Duration, Instant};

use passreset_proto::mail::v1::{
    EnqueueRequest, PasswordReset, enqueue_request::Kind, mail_service_client::MailServiceClient,
};
use tonic::transport::Channel;

use super::{alternate, ratio};
use crate::{
    Options, floors,
    stack::Stack,
    stats::Summary,
    table::{Figure, Row},
};

/// The mail service's default `MAIL_WORKERS`: its concurrent SMTP sends.
const WORKERS: usize = 4;

pub async fn run(stack: &Stack, options: &Options) -> anyhow::Result<Vec<Row>> {
    let channel = Channel::from_shared(format!("http://{}", stack.mail.addr))?
        .connect()
        .await?;
    let mails = options.mails;
    let (ours, floor) = alternate(
        options.rounds,
        || dispatch(stack, &channel, mails),
        || async {
            settle(stack).await;
            let elapsed = floors::send_raw(stack.sink.addr(), WORKERS, mails).await?;
            Ok(per_second(mails, elapsed))
        },
    )
    .await?;
    let ratio = ratio(ours.rate, floor.rate);
    Ok(vec![Row {
        scenario: format!("mail dispatch, {WORKERS} workers"),
        measured: Figure::plain(ours.rate, "mails/s"),
        floor: Some((
            format!("raw SMTP with TCP_NODELAY, {WORKERS} connections"),
            Figure::plain(floor.rate, "mails/s"),
        )),
        ratio,
        goal: ">= 0.80 and >= 1,000 mails/s".into(),
        met: ratio.map(|ratio| ratio >= 0.80 && ours.rate >= 1000.0),
    }])
}

/// Queues `mails` reset mails and times until the sink has them all.
async fn dispatch(stack: &Stack, channel: &Channel, mails: usize) -> anyhow::Result<Summary> {
    settle(stack).await;
    let before = stack.sink.accepted();
    let started = Instant::now();
    let mut enqueues = tokio::task::JoinSet::new();
    for lane in 0..WORKERS {
        let mut client = MailServiceClient::new(channel.clone());
        enqueues.spawn(async move {
            for n in (lane..mails).step_by(WORKERS) {
                client
                    .enqueue(EnqueueRequest {
                        to: format!("user{n}@bench.test"),
                        locale: String::new(),
                        idempotency_key: String::new(),
                        kind: Some(Kind::PasswordReset(PasswordReset {
                            link: format!("https://reset.bench.test/reset?token=prt_bench{n}"),
                            expires_at_unix: 4_102_444_800,
                            ttl_seconds: 1800,
                            token: String::new(),
                        })),
                    })
                    .await?;
            }
            Ok::<_, tonic::Status>(())
        });
    }
    for queued in enqueues.join_all().await {
        queued?;
    }
    let deadline = started + Duration::from_secs(300);
    while stack.sink.accepted() < before + mails {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the mails did not arrive within 300 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(per_second(mails, started.elapsed()))
}

fn per_second(mails: usize, elapsed: Duration) -> Summary {
    Summary {
        rate: mails as f64 / elapsed.as_secs_f64(),
        ..Summary::default()
    }
}

/// Waits until no mail has arrived for 300 ms (what earlier scenarios queued is delivered).
pub async fn settle(stack: &Stack) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = stack.sink.accepted();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = stack.sink.accepted();
        if now == seen {
            return;
        }
        seen = now;
    }
}
