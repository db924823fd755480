//! A reference implementation of `passreset.directory.v1.Directory` over a JSON file: what a
//! platform's user service does when passreset runs with `TOKEN_DIRECTORY=grpc://host:port`.
//!
//! - `store.rs`: the users file (argon2id hashes, applied idempotency keys), written atomically;
//! - this file: the gRPC service: lookup by address (case-insensitive), SetPassword honouring
//!   idempotency keys, an optional answer latency (`--latency`), and [`Faults`] that tests use
//!   to make it fail the way real user stores do.

pub mod store;

use std::{
    collections::VecDeque,
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use passreset_proto::directory::v1::{
    Account, LookupAccountRequest, LookupAccountResponse, SetPasswordRequest, SetPasswordResponse,
    directory_server::{Directory, DirectoryServer},
};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

pub use store::{User, UsersFile};

/// Longest password accepted (the hash of megabytes would be a denial of service).
const MAX_PASSWORD_LENGTH: usize = 1024;

/// One failure a test asks of the next SetPassword.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer UNAVAILABLE without changing anything.
    Unavailable,
    /// Set the password, then answer only after this long (past the caller's deadline).
    AnswerLate(Duration),
    /// Refuse the password with INVALID_ARGUMENT and these words.
    Refuse(String),
}

/// What tests make the directory do, and what they read back.
#[derive(Debug, Default)]
pub struct Faults {
    /// Failures of the next SetPassword calls, in order.
    set_password: Mutex<VecDeque<Fault>>,
    /// While set, every LookupAccount hangs (until the caller gives up).
    hang_lookups: AtomicBool,
    /// Passwords actually written.
    passwords_written: AtomicUsize,
    /// Calls that arrived without a `grpc-timeout` deadline.
    calls_without_deadline: AtomicUsize,
    /// The `traceparent` of the last call, empty when it had none.
    last_traceparent: Mutex<String>,
}

impl Faults {
    /// Makes the next SetPassword fail with `fault`.
    pub fn fail_next_set_password(&self, fault: Fault) {
        if let Ok(mut queue) = self.set_password.lock() {
            queue.push_back(fault);
        }
    }

    /// Makes every LookupAccount hang, or not.
    pub fn hang_lookups(&self, hang: bool) {
        self.hang_lookups.store(hang, Ordering::SeqCst);
    }

    /// How many passwords were written since the start (an idempotent retry writes none).
    pub fn passwords_written(&self) -> usize {
        self.passwords_written.load(Ordering::SeqCst)
    }

    /// How many calls came without a deadline.
    pub fn calls_without_deadline(&self) -> usize {
        self.calls_without_deadline.load(Ordering::SeqCst)
    }

    /// The W3C trace context the last call carried, empty when none.
    pub fn last_traceparent(&self) -> String {
        self.last_traceparent
            .lock()
            .map(|traceparent| traceparent.clone())
            .unwrap_or_default()
    }

    fn next_set_password(&self) -> Option<Fault> {
        self.set_password.lock().ok()?.pop_front()
    }
}

/// The directory service over one users file.
#[derive(Clone, Debug)]
pub struct JsonDirectory {
    file: Arc<PathBuf>,
    /// Serialises read-modify-write of the file.
    writing: Arc<tokio::sync::Mutex<()>>,
    latency: Duration,
    faults: Arc<Faults>,
}

impl JsonDirectory {
    /// A directory over `file`, answering after `latency`.
    pub fn new(file: PathBuf, latency: Duration) -> Self {
        Self {
            file: Arc::new(file),
            writing: Arc::default(),
            latency,
            faults: Arc::default(),
        }
    }

    /// The test hooks.
    pub fn faults(&self) -> Arc<Faults> {
        Arc::clone(&self.faults)
    }

    /// Serves on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), tonic::transport::Error> {
        tonic::transport::Server::builder()
            .add_service(DirectoryServer::new(self))
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                shutdown,
            )
            .await
    }

    /// Binds `addr`, for the binary.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
        TcpListener::bind(addr).await
    }

    async fn answer_after_latency<T>(&self, request: &Request<T>) {
        if request.metadata().get("grpc-timeout").is_none() {
            self.faults
                .calls_without_deadline
                .fetch_add(1, Ordering::SeqCst);
        }
        let traceparent = request
            .metadata()
            .get("traceparent")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if let Ok(mut last) = self.faults.last_traceparent.lock() {
            *last = traceparent;
        }
        tokio::time::sleep(self.latency).await;
    }

    fn load(&self) -> Result<UsersFile, Status> {
        UsersFile::load(&self.file).map_err(|error| {
            tracing::error!(%error, "users file");
            Status::unavailable("the user store is unavailable")
        })
    }
}

#[tonic::async_trait]
impl Directory for JsonDirectory {
    async fn lookup_account(
        &self,
        request: Request<LookupAccountRequest>,
    ) -> Result<Response<LookupAccountResponse>, Status> {
        self.answer_after_latency(&request).await;
        if self.faults.hang_lookups.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        let users = self.load()?;
        let user = users
            .by_email(&request.get_ref().email)
            .ok_or_else(|| Status::not_found("no account has this address"))?;
        Ok(Response::new(LookupAccountResponse {
            account: Some(Account {
                id: user.id.clone(),
                email: user.email.clone(),
                locale: user.locale.clone(),
            }),
        }))
    }

    async fn set_password(
        &self,
        request: Request<SetPasswordRequest>,
    ) -> Result<Response<SetPasswordResponse>, Status> {
        self.answer_after_latency(&request).await;
        let fault = self.faults.next_set_password();
        match &fault {
            Some(Fault::Unavailable) => return Err(Status::unavailable("the user store is busy")),
            Some(Fault::Refuse(words)) => return Err(Status::invalid_argument(words.clone())),
            Some(Fault::AnswerLate(_)) | None => {}
        }
        let request = request.into_inner();
        if request.idempotency_key.is_empty() {
            return Err(Status::invalid_argument("an idempotency key is required"));
        }
        if request.password.is_empty() || request.password.chars().count() > MAX_PASSWORD_LENGTH {
            return Err(Status::invalid_argument(
                "the password must have 1 to 1024 characters",
            ));
        }
        {
            let _writing = self.writing.lock().await;
            let mut users = self.load()?;
            // A key seen before: this is a retry of a reset already applied.
            if !users.applied_keys.contains_key(&request.idempotency_key) {
                let user = users
                    .users
                    .iter_mut()
                    .find(|user| user.id == request.account_id)
                    .ok_or_else(|| Status::not_found("no such account"))?;
                user.password_hash = store::hash(&request.password)
                    .map_err(|error| Status::internal(error.to_string()))?;
                users
                    .applied_keys
                    .insert(request.idempotency_key, store::now_seconds());
                users.save(&self.file).map_err(|error| {
                    tracing::error!(%error, "users file");
                    Status::unavailable("the user store is unavailable")
                })?;
                self.faults.passwords_written.fetch_add(1, Ordering::SeqCst);
            }
        }
        if let Some(Fault::AnswerLate(delay)) = fault {
            tokio::time::sleep(delay).await;
        }
        Ok(Response::new(SetPasswordResponse {}))
    }
}
