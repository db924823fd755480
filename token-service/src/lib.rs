//! passreset's token service: single-use password reset tokens and the built-in account
//! directory, served over gRPC and kept in Redis.
//!
//! Layout:
//! - [`access`]: the permissions and who may call which method (`TOKEN_GRPC_CALLERS`);
//! - [`config`]: settings (flags with environment fallbacks);
//! - [`startup`]: [`Application`] (`build`, `local_addr`, `run_until_stopped`), what `main`,
//!   `stack` and the tests start;
//! - [`stores`]: [`Stores`], Redis or (for `stack` only) memory;
//! - `grpc/`: `TokenService` and `AccountDirectory`, translating and auditing;
//! - `reset/`: the issue / check / redeem flows, and the settling of interrupted ones;
//! - `verify.rs`: `VerifyPassword` under its own rate limits;
//! - `tokens/`: token shape and digest (`codec`), the store contract and its Redis and memory
//!   implementations;
//! - `events.rs`: `password_changed` events on the Redis Stream `{prefix}events`;
//! - `metrics.rs`: `tokens_total{event}`, `password_verifications_total{outcome}` and the
//!   argon2 work, for `/metrics`;
//! - `limits/`: the rate limits (GCRA), in Redis or memory;
//! - `accounts/`: addresses, the password policy, argon2id hashing, the directory and its
//!   stores;
//! - `directory/`: where the accounts live (`TOKEN_DIRECTORY`): the built-in directory, or the
//!   platform's own behind a small contract (its gRPC service), with the guards of its resets;
//! - [`error`]: the one error type and its mapping to `tonic::Status`;
//! - [`cli`]: the binary's command line (`accounts add|verify|list`).
//!
//! Tokens and passwords never reach logs, error messages or `Debug` output; Redis holds only
//! token digests and argon2id password hashes.

pub mod access;
mod accounts;
pub mod cli;
mod clock;
pub mod config;
mod directory;
pub mod error;
mod events;
mod grpc;
mod limits;
mod metrics;
mod reset;
pub mod startup;
pub mod stores;
mod tokens;
mod verify;

pub use accounts::policy::{PolicyRefusal, PolicyViolation};
pub use config::Config;
pub use directory::{setting::DirectorySetting, sql::HashFormat};
pub use error::Error;
pub use limits::RateSetting;
pub use passreset_service_runtime::grpc::ServeError;
pub use passreset_telemetry::LogFormat;
pub use startup::{Application, StartupError};
pub use stores::Stores;
