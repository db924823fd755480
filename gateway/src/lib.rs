//! The REST edge of passreset. Each documented API is a surface module that parses its own
//! requests, calls the shared reset flows and answers in its own error shape:
//!
//! - `config`: settings from flags and environment (`GATEWAY_*`);
//! - `startup`: [`Application`], which binds the listener and serves [`router`];
//! - `state`: [`AppState`], and the parts of it handlers take through `FromRef`;
//! - `clients`: one shared gRPC channel per upstream, with a deadline on every call;
//! - `flows`: [`Resets`], the reset flows every surface shares (start, check, complete);
//! - `error`: [`ApiError`], what a flow can fail with, mapped once from `tonic::Status`;
//! - `persona`: KSF Media's persona AccountApi under `/v1`;
//! - `metal`: Equinix Metal's PasswordResetTokensApi under `/metal/v1`;
//! - `api_keys`: the Metal surface's `X-Auth-Token` keys, kept as digests;
//! - `client_ip`: the client's address, through trusted proxies only;
//! - `requester`: `Requester`, who is asking: address, surface, API key,
//!   language, built once per request;
//! - `locale`: the request's `Accept-Language`: the language of our words, and of mail to
//!   addresses without a locale;
//! - `policy`: what is wrong with a new password, as data and in the reader's words;
//! - `pages`: the reset pages the mail's link lands on (`/reset`, `/forgot`);
//! - `openapi`: the OpenAPI document of both surfaces, generated from the code;
//! - `health`: liveness (`/healthz`) and readiness (`/readyz`) for orchestrators;
//! - `shedding`: [`InFlight`], the bound on requests in flight and their timeout.

mod api_keys;
mod client_ip;
mod clients;
mod config;
mod error;
mod flows;
mod health;
mod locale;
mod metal;
mod openapi;
mod pages;
mod persona;
mod policy;
mod requester;
mod shedding;
mod startup;
mod state;

pub use api_keys::ApiKeys;
pub use client_ip::TrustedProxies;
pub use clients::Upstreams;
pub use config::{Cli, Command, Config, ResetUrl};
pub use error::ApiError;
pub use flows::Resets;
pub use policy::PasswordProblem;
pub use shedding::InFlight;
pub use startup::{Application, StartupError, router};
pub use state::AppState;
