//! The three release-shaped binaries as separate processes, configured only through their
//! documented environment variables, as a platform runs them: one forgot request is one trace
//! across all three (received by an OTLP collector on loopback), each `healthcheck` subcommand
//! passes, and SIGTERM stops each with exit code 0. A binary of its own: it needs the
//! workspace's binaries built (`cargo test --workspace` builds them before any test runs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step must fail the test loudly"
)]

use std::{
    collections::{BTreeSet, HashMap},
    net::SocketAddr,
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::any_value::Value,
};
use passreset_proto::token::v1::{
    UpsertAccountRequest, account_directory_client::AccountDirectoryClient,
};
use passreset_testkit::{SmtpSink, test_redis};
use tokio::process::{Child, Command};
use tokio_stream::wrappers::TcpListenerStream;

/// (service.name, trace id, span name) of every span received.
type Received = Arc<Mutex<Vec<(String, Vec<u8>, String)>>>;

/// An OTLP/gRPC trace collector that keeps what it is sent.
#[derive(Clone, Default)]
struct Collector(Received);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = self.0.lock().unwrap();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|resource| &resource.attributes)
                .find(|attribute| attribute.key == "service.name")
                .and_then(
                    |attribute| match attribute.value.as_ref()?.value.as_ref()? {
                        Value::StringValue(name) => Some(name.clone()),
                        _ => None,
                    },
                )
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    received.push((service.clone(), span.trace_id, span.name));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

async fn start_collector() -> (SocketAddr, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let collector = Collector::default();
    let received = collector.0.clone();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    (addr, received)
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn binary(name: &str) -> PathBuf {
    passreset_testkit::workspace_binary(name)
}

fn spawn(name: &str, env: &HashMap<&str, String>) -> Child {
    Command::new(binary(name))
        .envs(env)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// SIGTERM, then the exit code, which must come within 10 s.
async fn terminate(mut child: Child) -> Option<i32> {
    let pid = child.id().unwrap().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(sent.success());
    tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits within 10 s of SIGTERM")
        .unwrap()
        .code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_forgot_request_is_one_trace_across_all_three_and_sigterm_exits_0() {
    let redis = test_redis().await;
    let smtp = SmtpSink::start().await;
    let (collector, received) = start_collector().await;
    let (token_port, mail_port, http_port) = (free_port(), free_port(), free_port());

    let common = HashMap::from([
        ("REDIS_URL", redis.url.clone()),
        ("REDIS_KEY_PREFIX", redis.prefix.clone()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}")),
        // Export within a fraction of a second rather than every 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ("LOG_FORMAT", "json".to_owned()),
        ("TOKEN_GRPC_ADDR", format!("127.0.0.1:{token_port}")),
        ("TOKEN_METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ("MAIL_GRPC_ADDR", format!("127.0.0.1:{mail_port}")),
        ("MAIL_METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ("MAIL_TRANSPORT", smtp.url()),
        ("GATEWAY_HTTP_ADDR", format!("127.0.0.1:{http_port}")),
        ("GATEWAY_METRICS_ADDR", "127.0.0.1:0".to_owned()),
        (
            "GATEWAY_TOKEN_SERVICE_URL",
            format!("http://127.0.0.1:{token_port}"),
        ),
        (
            "GATEWAY_MAIL_SERVICE_URL",
            format!("http://127.0.0.1:{mail_port}"),
        ),
        (
            "GATEWAY_RESET_URL",
            "https://reset.example.test/reset?token={token}".to_owned(),
        ),
    ]);
    let tokens = spawn("token-service", &common);
    let mail = spawn("mail-service", &common);
    let gateway = spawn("gateway", &common);

    let base = format!("http://127.0.0.1:{http_port}");
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(response) = http.get(format!("{base}/readyz")).send().await
            && response.status().is_success()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the gateway never became ready");

    AccountDirectoryClient::connect(format!("http://127.0.0.1:{token_port}"))
        .await
        .unwrap()
        .upsert_account(UpsertAccountRequest {
            email: "ada@example.com".to_owned(),
            password: "the old password 1".to_owned(),
            locale: String::new(),
        })
        .await
        .unwrap();
    let forgot = http
        .post(format!("{base}/v1/account/password/forgot"))
        .header("content-type", "application/json")
        .body(r#"{"email":"ada@example.com"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forgot.status(), reqwest::StatusCode::NO_CONTENT);
    smtp.wait_for_messages(1, Duration::from_secs(20)).await;

    // The container health checks pass while everything runs.
    for name in ["token-service", "mail-service", "gateway"] {
        let status = Command::new(binary(name))
            .arg("healthcheck")
            .envs(&common)
            .status()
            .await
            .unwrap();
        assert!(status.success(), "{name} healthcheck: {status}");
    }

    // SIGTERM flushes what each process has not exported yet.
    for child in [gateway, mail, tokens] {
        assert_eq!(terminate(child).await, Some(0), "exit code after SIGTERM");
    }

    let received = received.lock().unwrap().clone();
    let forgot_trace = received
        .iter()
        .find(|(service, _, name)| service == "token-service" && name == "IssueToken")
        .map(|(_, trace, _)| trace.clone())
        .unwrap_or_else(|| panic!("no IssueToken span among {received:?}"));
    let services: BTreeSet<&str> = received
        .iter()
        .filter(|(_, trace, _)| *trace == forgot_trace)
        .map(|(service, _, _)| service.as_str())
        .collect();
    assert_eq!(
        services,
        BTreeSet::from(["gateway", "mail-service", "token-service"]),
        "services in the forgot request's trace; all spans: {received:?}"
    );
    let delivered_in_trace = received.iter().any(|(service, trace, name)| {
        service == "mail-service" && *trace == forgot_trace && name == "deliver mail"
    });
    assert!(
        delivered_in_trace,
        "the send is not part of the request's trace: {received:?}"
    );
}

#[tokio::test]
async fn a_bad_setting_stops_each_binary_with_one_line_naming_its_variable() {
    for (name, variable, value) in [
        ("token-service", "TOKEN_LIMIT_PER_IP", "lots"),
        ("mail-service", "MAIL_TRANSPORT", "ftp://example.com"),
        (
            "gateway",
            "GATEWAY_RESET_URL",
            "https://example.com/no-placeholder",
        ),
    ] {
        let output = Command::new(binary(name))
            .env(variable, value)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(stderr.contains(variable), "{name}: {stderr}");
    }
}
