//! What every passreset binary sets up the same way:
//!
//! - [`init`]: logs to stdout (`text` for people, `json` for machines) filtered by `RUST_LOG`,
//!   and, only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, spans exported over OTLP;
//! - [`shutdown_signal`]: the future that ends a server on Ctrl-C or SIGTERM;
//! - [`parse_duration`]: `30m`-style durations for clap;
//! - [`metrics`]: Prometheus metrics per service, served on a port of their own;
//! - [`grpc`]: reflection and the serve error both gRPC services share;
//! - [`grpc_server`]: the serving skeleton of both gRPC services (bind, layers, health,
//!   reflection, TLS);
//! - [`healthcheck`]: the `healthcheck` subcommand's probes, for container health checks;
//! - [`propagation`]: W3C trace context through gRPC calls and the mail queue;
//! - [`settings`]: parsing settings so a bad value is one line naming its variable.

pub mod grpc;
pub mod grpc_server;
pub mod healthcheck;
pub mod metrics;
pub mod propagation;
pub mod settings;

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event, for a terminal.
    #[default]
    Text,
    /// One JSON object per line, for a log pipeline.
    Json,
}

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// `RUST_LOG` does not parse as a filter.
    #[error("RUST_LOG is not a valid filter: {0}")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    /// The OTLP exporter could not be built from the `OTEL_*` variables.
    #[error("OTEL_EXPORTER_OTLP_ENDPOINT: cannot build the otlp exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// A global subscriber was already installed (telemetry initialised twice).
    #[error("telemetry is already initialised: {0}")]
    AlreadyInitialised(#[from] tracing_subscriber::util::TryInitError),
}

/// Keeps span export alive; dropping it flushes what is still buffered.
#[derive(Debug)]
#[must_use = "dropping the guard stops span export"]
pub struct TelemetryGuard {
    /// `None` when no OTLP endpoint is configured.
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "span export did not flush cleanly");
        }
    }
}

/// Installs the global subscriber for `service_name` (the default `service.name` of its spans).
pub fn init(
    service_name: &'static str,
    format: LogFormat,
) -> Result<TelemetryGuard, TelemetryError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(directives)?,
        _ => EnvFilter::new("info"),
    };
    let fmt_layer = match format {
        // Colours only for a person at a terminal, never in files or log collectors.
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_target(true)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
    };

    let provider = otlp_endpoint_configured()
        .then(|| tracer_provider(service_name))
        .transpose()?;
    let otel_layer = provider
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer(service_name)));
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer)
        .with(otel_layer)
        .try_init()?;
    Ok(TelemetryGuard { provider })
}

fn otlp_endpoint_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()))
}

/// An OTLP/gRPC exporter configured by the standard `OTEL_*` variables; `OTEL_SERVICE_NAME`
/// overrides the binary's own name.
fn tracer_provider(service_name: &'static str) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()?;
    let service_name = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| service_name.to_owned());
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service_name).build())
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    Ok(provider)
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM: what a terminal or a container runtime sends.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for sigterm");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal received");
}

/// One shutdown signal shared by the several servers of a service (its API, its metrics, its
/// workers): each [`Shutdown::wait`] resolves once the signal has.
#[derive(Debug, Clone)]
pub struct Shutdown(tokio::sync::watch::Receiver<bool>);

impl Shutdown {
    /// Watches `signal` (e.g. [`shutdown_signal`], or a test's own trigger).
    pub fn new(signal: impl std::future::Future<Output = ()> + Send + 'static) -> Self {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            signal.await;
            let _ = stop.send(true);
        });
        Self(stopped)
    }

    /// Resolves once the signal has (also if it can no longer come).
    pub fn wait(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut stopped = self.0.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    }
}

/// Parses `30m`, `1h 30m`, `45s` for clap's `value_parser`.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(value.trim()).map_err(|error| error.to_string())?;
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_human_units() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration(" 45s "), Ok(Duration::from_secs(45)));
    }

    #[test]
    fn zero_and_garbage_durations_are_refused() {
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
    }
}
