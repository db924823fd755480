//! How passreset's gRPC is secured (who may call, and over what), in one place for both servers
//! and their clients.
//!
//! - [`callers`]: the caller list (`TOKEN_GRPC_CALLERS`, `MAIL_GRPC_CALLERS`): names,
//!   permissions and bearer-secret digests, compared in constant time;
//! - [`authorize`]: the tower layer that lets a call through by its gRPC path
//!   (`/package.Service/Method`), default deny, and the start rule (no callers on a
//!   non-loopback address refuses to start);
//! - [`client`]: a client's own secret (`GATEWAY_TOKEN_SERVICE_SECRET`, ...) and the
//!   interceptor that sends it as `authorization: Bearer ...`;
//! - [`tls`]: TLS and mutual TLS (rustls, ring) for both servers and their clients, with
//!   certificates re-read when their files change;
//! - `src/bin/passreset-secrets.rs`: prints a fresh set of secrets as `.env` lines.

pub mod authorize;
pub mod callers;
pub mod client;
mod setting;
pub mod tls;

pub use authorize::{Access, AnonymousRefused, Authorize, CallerName, Policy};
pub use callers::{Callers, CallersError};
pub use client::{ClientSecret, Outgoing};
pub use setting::{CallersParser, SecretParser};
pub use tls::{ClientTls, ClientTlsSettings, ServerTls, ServerTlsSettings, TlsError, TlsVariables};
