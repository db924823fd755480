//! passreset's mail service: a durable mail queue on Redis Streams, served over gRPC and
//! delivered by background workers with lettre.
//!
//! Layout:
//! - [`config`]: settings (flags with environment fallbacks); [`cli`]: the subcommands;
//! - [`access`]: the permission and who may call which method (`MAIL_GRPC_CALLERS`);
//! - [`startup`]: [`Application`] (`build`, `local_addr`, `run_until_stopped`), what `main`,
//!   `stack` and the tests start;
//! - `grpc.rs`: `MailService` (`Enqueue`, `GetStatus`), checking requests;
//! - [`queue`]: the durable queue contract, on Redis or (for `stack` only) in memory;
//! - `worker.rs`: the workers that compose, send and settle each mail, with retries;
//! - `templates/`: the built-in templates (English, Swedish, Finnish), their overrides from
//!   `MAIL_TEMPLATES_DIR`, the language a locale asks for, and MIME composition;
//! - [`transport`]: SMTP or an outbox directory, and failure classification;
//! - `smtp_pool.rs`, `smtp_tls.rs`: SMTP connections opened by us with `TCP_NODELAY` (lettre's
//!   pool does not set it) and reused; TLS from the first byte over them;
//! - `mail.rs`: a queued mail and its id;
//! - `revoke.rs`: revoking the token of a reset mail that died;
//! - `consumer_group.rs`: creating the consumer groups the queue and the notices read in;
//! - `notices.rs`: the `password_changed` notices, read from the token service's events;
//! - `metrics.rs`: what the dispatcher counts for `/metrics`;
//! - [`error`]: the one error type and its mapping to `tonic::Status`.
//!
//! Reset links never reach logs, error messages or `Debug` output, and leave Redis once the
//! mail is delivered.

pub mod access;
pub mod cli;
pub mod config;
mod consumer_group;
pub mod error;
mod grpc;
mod mail;
mod metrics;
mod notices;
pub mod queue;
mod revoke;
mod smtp_pool;
mod smtp_tls;
pub mod startup;
mod templates;
pub mod transport;
mod worker;

pub use config::Config;
pub use error::Error;
pub use passreset_service_runtime::grpc::ServeError;
pub use queue::Queue;
pub use startup::{Application, StartupError};
