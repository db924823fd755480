//! TLS and mutual TLS for passreset's gRPC, with rustls (ring) for both servers and clients.
//!
//! - [`settings`]: the PEM paths a service is given (`TOKEN_GRPC_TLS_CERT`, ...) and the start
//!   checks on them (a certificate without its key stops the start, naming both variables);
//! - `pem`: reading those files into rustls types, never echoing what they hold;
//! - [`server`]: a server's TLS, re-read when the files change or on SIGHUP, and the stream of
//!   handshaken connections tonic serves from (tonic's own TLS is fixed at bind time);
//! - `verify`: the client-certificate check (the client CA, or the server's own certificate,
//!   so the `healthcheck` subcommand passes mutual TLS) and the pinned check the probe makes;
//! - [`client`]: the TLS of a client's upstream channels (`https://` URLs), re-read as a
//!   server's is, and the health probe's channel;
//! - `watch`: when files are read again and whether they changed.

pub mod client;
mod pem;
pub mod server;
pub mod settings;
mod verify;
mod watch;

pub use client::{ClientTls, UpstreamUrlError, probe_channel};
pub use server::ServerTls;
pub use settings::{ClientTlsSettings, ServerTlsSettings, TlsError, TlsVariables};

/// The ALPN protocol gRPC runs on.
const ALPN_H2: &[u8] = b"h2";

/// The one crypto provider passreset uses (lettre's rustls uses ring too).
fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
