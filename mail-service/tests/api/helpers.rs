//! `spawn_app()`: a mail service on free ports with a typed client.

use clap::Parser as _;
use passreset_proto::mail::v1::{
    EnqueueRequest, GetStatusRequest, MessageStatus, PasswordChanged, PasswordReset,
    enqueue_request::Kind, mail_service_client::MailServiceClient, message_status::State,
};
use passreset_testkit::TestRedis;
use tokio::task::JoinHandle;
use tonic::{Status, transport::Channel};

/// A running mail service.
pub struct TestApp {
    pub client: MailServiceClient<Channel>,
    pub redis: TestRedis,
    stop: tokio::sync::oneshot::Sender<()>,
    server: JoinHandle<()>,
}

/// A free port, released for the code under test to bind.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The settings of a service on `redis` and free ports, sending through `transport`, retrying
/// after 200ms (so tests that need retries stay fast), with extra flags.
pub fn config(redis: &TestRedis, transport: &str, flags: &[&str]) -> mail_service::Config {
    mail_service::Config::try_parse_from(
        [
            "mail-service",
            "--redis-url",
            &redis.url,
            "--redis-key-prefix",
            &redis.prefix,
            "--grpc-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
            "--transport",
            transport,
            "--retry-base",
            "200ms",
        ]
        .into_iter()
        .chain(flags.iter().copied()),
    )
    .expect("mail-service config")
}

/// Starts the service on `redis`, sending through `transport`, with extra flags.
pub async fn spawn_app(redis: TestRedis, transport: &str, flags: &[&str]) -> TestApp {
    let config = config(&redis, transport, flags);
    let application = mail_service::Application::build(config)
        .await
        .expect("mail-service starts");
    let addr = application.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        application
            .run_until_stopped(async {
                let _ = stopped.await;
            })
            .await
            .expect("mail-service runs");
    });
    let client = MailServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("mail-service answers");
    TestApp {
        client,
        redis,
        stop,
        server,
    }
}

/// A reset mail to `to` with a link holding `token`.
pub fn reset_mail(to: &str, token: &str) -> EnqueueRequest {
    EnqueueRequest {
        to: to.to_owned(),
        locale: String::new(),
        idempotency_key: String::new(),
        kind: Some(Kind::PasswordReset(PasswordReset {
            link: format!("https://reset.example.test/reset?token={token}"),
            expires_at_unix: 1_795_442_700,
            ttl_seconds: 1800,
            token: token.to_owned(),
        })),
    }
}

/// A reset mail to `to` in `locale`.
pub fn localised_reset_mail(to: &str, token: &str, locale: &str) -> EnqueueRequest {
    EnqueueRequest {
        locale: locale.to_owned(),
        ..reset_mail(to, token)
    }
}

/// A "password changed" notice to `to`.
pub fn changed_mail(to: &str) -> EnqueueRequest {
    EnqueueRequest {
        to: to.to_owned(),
        locale: String::new(),
        idempotency_key: String::new(),
        kind: Some(Kind::PasswordChanged(PasswordChanged {
            changed_at_unix: 1_795_442_700,
        })),
    }
}

impl TestApp {
    pub async fn enqueue(&self, request: EnqueueRequest) -> Result<String, Status> {
        self.client
            .clone()
            .enqueue(request)
            .await
            .map(|response| response.into_inner().message_id)
    }

    pub async fn status(&self, id: &str) -> MessageStatus {
        self.client
            .clone()
            .get_status(GetStatusRequest {
                message_id: id.to_owned(),
            })
            .await
            .expect("status answers")
            .into_inner()
    }

    /// The status once it reaches `state` (polling for up to 10 s), or the last one seen.
    pub async fn status_once(&self, id: &str, state: State) -> MessageStatus {
        let mut status = self.status(id).await;
        for _ in 0..100 {
            if status.state() == state {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            status = self.status(id).await;
        }
        status
    }

    /// Queues a password-changed notice to each of `user0@example.com` .. `user<count-1>@`;
    /// their ids, in that order.
    pub async fn enqueue_notices(&self, count: u32) -> Vec<String> {
        let mut ids = Vec::new();
        for n in 0..count {
            let to = format!("user{n}@example.com");
            ids.push(
                self.enqueue(changed_mail(&to))
                    .await
                    .expect("notice queued"),
            );
        }
        ids
    }

    /// Those of `ids` whose mail has not reached `state` (each polled as by `status_once`).
    pub async fn not_yet(&self, ids: &[String], state: State) -> Vec<String> {
        let mut behind = Vec::new();
        for id in ids {
            if self.status_once(id, state).await.state() != state {
                behind.push(id.clone());
            }
        }
        behind
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.expect("mail-service stopped cleanly");
    }
}

/// Waits (up to `timeout`) until a mail to `to` has arrived, and returns it.
pub async fn wait_for_mail_to(
    sink: &passreset_testkit::SmtpSink,
    to: &str,
    timeout: std::time::Duration,
) -> passreset_testkit::ReceivedMail {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let arrived = sink
            .messages()
            .into_iter()
            .find(|mail| mail.recipients.iter().any(|recipient| recipient == to));
        if let Some(mail) = arrived {
            return mail;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no mail to {to} within {timeout:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
