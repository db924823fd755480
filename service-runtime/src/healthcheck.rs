//! The `healthcheck` subcommand every binary has, for container health checks in images that
//! carry no curl or grpcurl: it asks the running service on this host whether it is healthy
//! and turns the answer into an exit code.

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use passreset_grpc_security::{ServerTlsSettings, TlsError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How often a service re-checks what its health depends on.
const REPORT_INTERVAL: Duration = Duration::from_secs(2);

/// Keeps `services` SERVING on `reporter` while `probe` says the service's dependencies answer,
/// NOT_SERVING otherwise, until `stop` resolves.
pub async fn keep_reporting<P, F>(
    reporter: tonic_health::server::HealthReporter,
    services: &[&str],
    probe: P,
    stop: impl std::future::Future<Output = ()>,
) where
    P: Fn() -> F,
    F: std::future::Future<Output = bool>,
{
    tokio::pin!(stop);
    let mut was_serving = None;
    loop {
        let serving = probe().await;
        if was_serving != Some(serving) {
            let status = if serving {
                tonic_health::ServingStatus::Serving
            } else {
                tracing::warn!("a dependency does not answer: reporting not serving");
                tonic_health::ServingStatus::NotServing
            };
            for service in services {
                reporter.set_service_status(*service, status).await;
            }
            was_serving = Some(serving);
        }
        tokio::select! {
            () = tokio::time::sleep(REPORT_INTERVAL) => {}
            () = &mut stop => return,
        }
    }
}

/// How long a probe may take before it counts as a failure.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The address to probe for a service listening on `listen`: a wildcard listen address is
/// reached on loopback.
fn probe_addr(listen: SocketAddr) -> SocketAddr {
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => [127, 0, 0, 1].into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    addr
}

/// Exit 0 if the plaintext gRPC server at `listen` reports `service` SERVING, else 1 with one
/// line why.
pub async fn grpc(listen: SocketAddr, service: &str) -> ExitCode {
    grpc_via(listen, service, |addr| async move {
        tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|error| format!("bad address {addr}: {error}"))?
            .connect()
            .await
            .map_err(|error| format!("cannot connect to {addr}: {error}"))
    })
    .await
}

/// The `healthcheck` of a gRPC service: [`grpc`] when it serves plaintext, over TLS with its own
/// TLS settings when it serves TLS, and unhealthy when those settings cannot be used.
pub async fn grpc_service(
    listen: SocketAddr,
    service: &str,
    tls: Result<Option<ServerTlsSettings>, TlsError>,
) -> ExitCode {
    match tls {
        Err(error) => {
            eprintln!("unhealthy: {error}");
            ExitCode::FAILURE
        }
        Ok(None) => grpc(listen, service).await,
        Ok(Some(tls)) => {
            grpc_via(listen, service, |addr| async move {
                passreset_grpc_security::tls::probe_channel(addr, &tls).await
            })
            .await
        }
    }
}

/// As [`grpc`], over the channel `connect` opens to the address to probe (a TLS one, for a
/// service that serves TLS).
pub async fn grpc_via<C, F>(listen: SocketAddr, service: &str, connect: C) -> ExitCode
where
    C: FnOnce(SocketAddr) -> F,
    F: std::future::Future<Output = Result<tonic::transport::Channel, String>>,
{
    let addr = probe_addr(listen);
    let probe = async {
        let channel = connect(addr).await?;
        let mut client = HealthClient::new(channel);
        let status = client
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .map_err(|status| format!("health check failed: {}", status.message()))?
            .into_inner()
            .status;
        if status == ServingStatus::Serving as i32 {
            Ok(())
        } else {
            Err(format!("{service} is not serving"))
        }
    };
    report(tokio::time::timeout(PROBE_TIMEOUT, probe).await)
}

/// Exit 0 if `GET path` on the HTTP server at `listen` answers 200, else 1 with one line why.
pub async fn http(listen: SocketAddr, path: &str) -> ExitCode {
    let addr = probe_addr(listen);
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|error| format!("cannot connect to {addr}: {error}"))?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|error| format!("cannot send the probe: {error}"))?;
        let mut head = [0u8; 12];
        stream
            .read_exact(&mut head)
            .await
            .map_err(|error| format!("no answer: {error}"))?;
        match &head[9..12] {
            b"200" => Ok(()),
            status => Err(format!(
                "{path} answered {}",
                String::from_utf8_lossy(status)
            )),
        }
    };
    report(tokio::time::timeout(PROBE_TIMEOUT, probe).await)
}

fn report(outcome: Result<Result<(), String>, tokio::time::error::Elapsed>) -> ExitCode {
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(reason)) => {
            eprintln!("unhealthy: {reason}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("unhealthy: no answer within {}s", PROBE_TIMEOUT.as_secs());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_listen_address_is_probed_on_loopback() {
        assert_eq!(
            probe_addr("0.0.0.0:8080".parse().unwrap()),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(
            probe_addr("[::]:8080".parse().unwrap()),
            "[::1]:8080".parse().unwrap()
        );
        assert_eq!(
            probe_addr("10.0.0.5:8080".parse().unwrap()),
            "10.0.0.5:8080".parse().unwrap()
        );
    }

    #[tokio::test]
    async fn nothing_listening_is_unhealthy() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        assert_eq!(http(addr, "/healthz").await, ExitCode::FAILURE);
        assert_eq!(grpc(addr, "x").await, ExitCode::FAILURE);
    }
}
