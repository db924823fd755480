//! What every passreset binary runs the same way, apart from what it reports (that is
//! `passreset-telemetry`):
//!
//! - [`shutdown`]: [`shutdown_signal`], the future that ends a server on Ctrl-C or SIGTERM, and
//!   [`Shutdown`], that one signal shared by a service's several servers;
//! - [`settings`]: parsing settings so a bad value is one line naming its variable, and
//!   [`parse_duration`], `30m`-style durations for clap;
//! - [`healthcheck`]: the `healthcheck` subcommand's probes, for container health checks, and
//!   the loop that keeps a gRPC health service up to date;
//! - [`grpc`]: reflection, the in-flight limit and the serve error both gRPC services share;
//! - [`grpc_server`]: the serving skeleton of both gRPC services (bind, layers, health,
//!   reflection, TLS);
//! - [`listener`]: [`listen`], a TCP listener with room for a burst of connections.

pub mod grpc;
pub mod grpc_server;
pub mod healthcheck;
pub mod listener;
pub mod settings;
pub mod shutdown;

pub use listener::listen;
pub use settings::parse_duration;
pub use shutdown::{Shutdown, shutdown_signal};
