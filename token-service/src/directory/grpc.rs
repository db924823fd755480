//! `TOKEN_DIRECTORY=grpc://host:port`: the platform's `passreset.directory.v1.Directory`
//! service. Each call has the `TOKEN_DIRECTORY_TIMEOUT` deadline (sent as `grpc-timeout` and
//! enforced here) and carries the W3C trace context of the request.

use std::time::Duration;

use async_trait::async_trait;
use passreset_grpc_security::ClientTls;
use passreset_proto::directory::v1::{
    LookupAccountRequest, SetPasswordRequest, directory_client::DirectoryClient,
};
use secrecy::{ExposeSecret as _, SecretString};
use tonic::{
    Code, Request, Status,
    service::interceptor::InterceptedService,
    transport::{Channel, Endpoint},
};

use super::external::{ExternalAccount, ExternalDirectory, ExternalError};

/// The interceptor, as the `fn` pointer the client type names.
type Traced = fn(Request<()>) -> Result<Request<()>, Status>;
const TRACED: Traced = passreset_telemetry::propagation::inject_into_metadata;

/// Longest status message of the platform's kept (for the user, or the logs).
const MAX_MESSAGE_LENGTH: usize = 200;

/// A client of the platform's directory service.
#[derive(Clone, Debug)]
pub(crate) struct GrpcDirectory {
    client: DirectoryClient<InterceptedService<Channel, Traced>>,
    timeout: Duration,
}

impl GrpcDirectory {
    /// A client of `url` (`http://host:port`, or `https://host:port` over `tls`), connecting
    /// on first use.
    pub(crate) fn new(url: &str, timeout: Duration, tls: &ClientTls) -> Result<Self, String> {
        let channel = tls
            .connect_lazy(url, |endpoint: Endpoint| {
                endpoint
                    .connect_timeout(timeout)
                    .tcp_nodelay(true)
                    .http2_keep_alive_interval(Duration::from_secs(30))
                    .keep_alive_while_idle(true)
            })
            .map_err(|error| error.to_string())?;
        Ok(Self {
            client: DirectoryClient::with_interceptor(channel, TRACED),
            timeout,
        })
    }

    fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.set_timeout(self.timeout);
        request
    }

    /// Runs `call` within the deadline, whatever the server does with `grpc-timeout`.
    async fn within<T>(
        &self,
        call: impl Future<Output = Result<tonic::Response<T>, Status>>,
    ) -> Result<T, Status> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(answer) => answer.map(tonic::Response::into_inner),
            Err(_) => Err(Status::deadline_exceeded("no answer within the deadline")),
        }
    }
}

/// The platform's own words, without control characters and not too long.
fn clipped(message: &str) -> String {
    message
        .chars()
        .filter(|character| !character.is_control())
        .take(MAX_MESSAGE_LENGTH)
        .collect()
}

fn unavailable(operation: &str, status: &Status) -> ExternalError {
    ExternalError::Unavailable(format!(
        "{operation}: {:?}: {}",
        status.code(),
        clipped(status.message())
    ))
}

#[async_trait]
impl ExternalDirectory for GrpcDirectory {
    async fn lookup(&self, email: &str) -> Result<Option<ExternalAccount>, ExternalError> {
        let mut client = self.client.clone();
        let request = self.request(LookupAccountRequest {
            email: email.to_owned(),
        });
        match self.within(client.lookup_account(request)).await {
            Ok(answer) => {
                let account = answer.account.ok_or_else(|| {
                    ExternalError::Unavailable("LookupAccount: an answer without an account".into())
                })?;
                Ok(Some(ExternalAccount {
                    id: account.id,
                    email: account.email,
                    locale: account.locale,
                }))
            }
            Err(status) if status.code() == Code::NotFound => Ok(None),
            Err(status) => Err(unavailable("LookupAccount", &status)),
        }
    }

    async fn set_password(
        &self,
        account_id: &str,
        password: &SecretString,
        idempotency_key: &str,
    ) -> Result<(), ExternalError> {
        let mut client = self.client.clone();
        let request = self.request(SetPasswordRequest {
            account_id: account_id.to_owned(),
            password: password.expose_secret().to_owned(),
            idempotency_key: idempotency_key.to_owned(),
        });
        match self.within(client.set_password(request)).await {
            Ok(_) => Ok(()),
            Err(status) => Err(match status.code() {
                Code::NotFound => ExternalError::NotFound,
                Code::InvalidArgument => ExternalError::Refused(clipped(status.message())),
                _ => unavailable("SetPassword", &status),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use json_directory::{JsonDirectory, UsersFile};
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
    use tracing::Instrument as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// A client TLS with no files: `http://` directories only.
    fn plaintext() -> ClientTls {
        ClientTls::load(&passreset_grpc_security::ClientTlsSettings::default()).unwrap()
    }

    #[tokio::test]
    async fn each_call_carries_the_requests_trace_context_and_a_deadline() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("users.json");
        let mut users = UsersFile::default();
        users
            .upsert("u-1", "ada@example.com", "", "old password 1")
            .unwrap();
        users.save(&path).unwrap();
        let directory = JsonDirectory::new(path, Duration::ZERO);
        let faults = directory.faults();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(directory.serve(listener, std::future::pending()));

        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let _default = tracing::subscriber::set_default(subscriber);
        let client = GrpcDirectory::new(&url, Duration::from_secs(2), &plaintext()).unwrap();
        let found = client
            .lookup(" ADA@example.com")
            .instrument(tracing::info_span!("forgot"))
            .await
            .unwrap();
        assert_eq!(found.map(|account| account.id).as_deref(), Some("u-1"));
        assert!(
            faults.last_traceparent().starts_with("00-"),
            "{}",
            faults.last_traceparent()
        );
        assert_eq!(faults.calls_without_deadline(), 0);
    }
}
