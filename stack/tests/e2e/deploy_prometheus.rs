//! The alert rules (`deploy/prometheus/`) and the dashboard (`deploy/grafana/`): promtool's
//! checks and unit tests, then Debian's real `prometheus` scraping a running passreset, so the
//! series the rules and the dashboard name are known to exist and the dead-letter alert fires.

use std::{collections::BTreeSet, path::Path, process::Stdio, time::Duration};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::{
    helpers::{TestApp, spawn_app_with, token_in},
    python::deploy_dir,
};

const JOBS: [&str; 3] = ["gateway", "token-service", "mail-service"];

async fn promtool(args: &[&str]) -> String {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(deploy_dir().join("prometheus"))
        .stdin(Stdio::null())
        .output()
        .await
        .expect("promtool starts: install Debian's prometheus package, as .ci/run does");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?}:\n{report}");
    report
}

#[tokio::test]
async fn the_alert_rules_pass_promtool_check_and_their_unit_tests() {
    let checked = promtool(&["check", "rules", "passreset.rules.yml"]).await;
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = promtool(&["test", "rules", "passreset.rules.test.yml"]).await;
    assert!(tested.contains("SUCCESS"), "{tested}");
}

/// Debian's `prometheus` on a free port, scraping the app's three `/metrics` every second
/// and evaluating the repository's rules as often; stopped when dropped.
struct Prometheus {
    url: String,
    _process: Child,
    /// Dropped after the process is killed.
    data: DataDir,
}

/// Prometheus's config and storage under the target dir, removed when dropped.
struct DataDir(std::path::PathBuf);

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Prometheus {
    async fn start(app: &TestApp) -> Self {
        let data = DataDir(
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("prometheus-{}", uuid::Uuid::new_v4())),
        );
        std::fs::create_dir_all(&data.0).unwrap();
        let target = |url: &str| {
            url.trim_start_matches("http://")
                .trim_end_matches("/metrics")
                .to_owned()
        };
        let jobs = [
            ("gateway", target(&app.gateway_metrics_url)),
            ("token-service", target(&app.token_metrics_url)),
            ("mail-service", target(&app.mail_metrics_url)),
        ];
        let scrape_configs: String = jobs
            .iter()
            .map(|(job, target)| {
                format!("  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n")
            })
            .collect();
        let rules = deploy_dir().join("prometheus/passreset.rules.yml");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {}\nscrape_configs:\n{scrape_configs}",
            rules.canonicalize().unwrap().display()
        );
        let config_file = data.0.join("prometheus.yml");
        std::fs::write(&config_file, config).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new("prometheus")
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                data.0.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("prometheus starts: install Debian's prometheus package, as .ci/run does");
        let prometheus = Self {
            url: format!("http://127.0.0.1:{port}"),
            _process: process,
            data,
        };
        // Every target scraped once: from here on, each counter's rise is seen.
        prometheus
            .until("prometheus scrapes the three services", async |p| {
                let up = p.query("up == 1").await;
                up.as_array().is_some_and(|up| up.len() == JOBS.len())
            })
            .await;
        prometheus
    }

    /// One call of the HTTP API; its `data`.
    async fn api(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let answer: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/{path}", self.url))
            .query(query)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["status"], "success", "{path} {query:?}: {answer}");
        answer["data"].clone()
    }

    async fn query(&self, promql: &str) -> Value {
        let Ok(answer) = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", promql)])
            .send()
            .await
        else {
            return Value::Null;
        };
        answer.json::<Value>().await.unwrap_or_default()["data"]["result"].clone()
    }

    /// Polls `check` every 200 ms, for at most a minute (scrapes and rules run every second).
    async fn until(&self, what: &str, mut check: impl AsyncFnMut(&Self) -> bool) {
        for _ in 0..300 {
            if check(self).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "{what} never happened (prometheus data in {})",
            self.data.0.display()
        );
    }
}

/// A reset from request to redemption, a rate-limited request, a dead-lettered mail and a
/// readiness check: something in every series the rules and the dashboard read.
async fn drive(app: &TestApp) {
    app.smtp.reject_recipient("dead@example.com", 550);
    app.create_account("ada@example.com", "the old password 1")
        .await;
    assert_eq!(
        app.forgot("ada@example.com").await.status(),
        StatusCode::NO_CONTENT
    );
    let token = token_in(&app.mail_number(1).await);
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );
    let new = "a brand new passphrase 7";
    assert_eq!(
        app.reset(&token, new, new).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.forgot("ada@example.com").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.create_account("dead@example.com", "the old password 1")
        .await;
    assert_eq!(
        app.forgot("dead@example.com").await.status(),
        StatusCode::NO_CONTENT
    );
    let ready = app
        .http
        .get(format!("{}/readyz", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// The metric names a PromQL expression reads: identifiers outside label matchers, ranges,
/// strings and label lists (`by (...)`, `on (...)`) that are neither a function, an
/// aggregation nor a keyword.
fn metric_names(expr: &str) -> BTreeSet<String> {
    const NOT_METRICS: [&str; 21] = [
        "and",
        "or",
        "unless",
        "offset",
        "bool",
        "inf",
        "nan",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
    ];
    const LABEL_LISTS: [&str; 6] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let chars: Vec<char> = expr.chars().collect();
    // The index just past the `close` that ends the group `at` is in, stepping over strings.
    let skip = |mut at: usize, close: char| {
        while at < chars.len() && chars[at] != close {
            if chars[at] == '"' || chars[at] == '\'' {
                let quote = chars[at];
                at += 1;
                while at < chars.len() && chars[at] != quote {
                    at += if chars[at] == '\\' { 2 } else { 1 };
                }
            }
            at += 1;
        }
        at + 1
    };
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            i = skip(i + 1, c);
        } else if c == '{' {
            i = skip(i + 1, '}');
        } else if c == '[' {
            i = skip(i + 1, ']');
        } else if c.is_ascii_digit() || c == '.' {
            while i < chars.len() && (is_word(chars[i]) || chars[i] == '.') {
                i += 1;
            }
        } else if is_word(c) {
            let start = i;
            while i < chars.len() && is_word(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let rest = chars[i..].iter().position(|c| !c.is_whitespace());
            let next = rest.map(|at| chars[i + at]);
            if LABEL_LISTS.contains(&word.as_str()) {
                if let (Some('('), Some(at)) = (next, rest) {
                    i = skip(i + at + 1, ')');
                }
            } else if next != Some('(') && !NOT_METRICS.contains(&word.as_str()) {
                names.insert(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

#[test]
fn metric_names_are_told_apart_from_functions_labels_and_durations() {
    let names = metric_names(
        r#"sum by (route) (rate(http_requests_total{status=~"5..", x="a{b}"}[5m] offset 1h))
           / on (route) max(mail_queue_depth) > 0.05 and up"#,
    );
    assert_eq!(
        names,
        BTreeSet::from(["http_requests_total", "mail_queue_depth", "up"].map(str::to_owned))
    );
}

/// Every query of the dashboard, with Grafana's variables at their defaults.
fn dashboard_queries() -> Vec<String> {
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(deploy_dir().join("grafana/passreset.json")).unwrap(),
    )
    .expect("the dashboard is JSON");
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("every target has a query");
            queries.push(
                expr.replace("$gateway_job", "gateway")
                    .replace("$token_job", "token-service")
                    .replace("$mail_job", "mail-service")
                    .replace("$__rate_interval", "1m")
                    .replace("$__range", "5m"),
            );
        }
    }
    queries
}

/// Whether some series is `name` with every label as given (`*`: any value).
fn has_series(series: &[Value], name: &str, labels: &[(&str, &str)]) -> bool {
    series.iter().any(|s| {
        s["__name__"] == name
            && labels.iter().all(|(label, value)| {
                s[*label]
                    .as_str()
                    .is_some_and(|found| *value == "*" || found == *value)
            })
    })
}

#[tokio::test]
async fn a_real_prometheus_sees_every_series_the_rules_and_dashboard_read_and_fires_on_a_dead_mail()
{
    let app = spawn_app_with(&["--limit-per-address", "1/1h"]).await;
    let prometheus = Prometheus::start(&app).await;
    drive(&app).await;

    prometheus
        .until("PassresetMailDeadLettered fires", async |p| {
            let alerts = p.api("alerts", &[]).await;
            alerts["alerts"].as_array().unwrap().iter().any(|alert| {
                alert["labels"]["alertname"] == "PassresetMailDeadLettered"
                    && alert["state"] == "firing"
            })
        })
        .await;
    // Scraped after the flow's last steps, so every series below has its labels.
    for last in [
        r#"tokens_total{event="redeemed"} >= 1"#,
        r#"mail_sent_total >= 2"#,
        r#"http_requests_total{route="/readyz"} >= 1"#,
    ] {
        prometheus
            .until(last, async |p| {
                p.query(last)
                    .await
                    .as_array()
                    .is_some_and(|r| !r.is_empty())
            })
            .await;
    }

    let series = prometheus
        .api(
            "series",
            &[("match[]", r#"{job=~"gateway|token-service|mail-service"}"#)],
        )
        .await;
    let series = series.as_array().unwrap();
    let forgot = "/v1/account/password/forgot";
    let mut expected: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "http_requests_total",
            vec![
                ("job", "gateway"),
                ("method", "POST"),
                ("route", forgot),
                ("status", "204"),
            ],
        ),
        (
            "http_requests_total",
            vec![("route", forgot), ("status", "429")],
        ),
        (
            "http_requests_total",
            vec![("method", "GET"), ("route", "/readyz"), ("status", "200")],
        ),
        (
            "http_request_duration_seconds_bucket",
            vec![
                ("method", "POST"),
                ("route", "/v1/account/password/reset"),
                ("le", "*"),
            ],
        ),
        (
            "grpc_server_calls_total",
            vec![
                ("job", "token-service"),
                ("method", "passreset.token.v1.TokenService/IssueToken"),
                ("code", "OK"),
            ],
        ),
        (
            "grpc_server_calls_total",
            vec![
                ("job", "mail-service"),
                ("method", "passreset.mail.v1.MailService/Enqueue"),
                ("code", "OK"),
            ],
        ),
        (
            "grpc_server_call_duration_seconds_bucket",
            vec![
                ("method", "passreset.token.v1.TokenService/Redeem"),
                ("le", "*"),
            ],
        ),
        (
            "mail_send_duration_seconds_bucket",
            vec![("job", "mail-service"), ("le", "*")],
        ),
    ];
    for event in ["requested", "issued", "checked", "redeemed", "rate_limited"] {
        expected.push((
            "tokens_total",
            vec![("job", "token-service"), ("event", event)],
        ));
    }
    for name in [
        "mail_queued_total",
        "mail_sent_total",
        "mail_retried_total",
        "mail_dead_total",
        "mail_suppressed_total",
        "mail_queue_depth",
        "mail_queue_oldest_age_seconds",
    ] {
        expected.push((name, vec![("job", "mail-service")]));
    }
    for job in JOBS {
        expected.push(("up", vec![("job", job)]));
    }
    for (name, labels) in &expected {
        assert!(
            has_series(series, name, labels),
            "no {name} with {labels:?} among {} series",
            series.len()
        );
    }

    // Every name the rules and the dashboard read is one the services export.
    let exported: BTreeSet<String> = serde_json::from_value(
        prometheus
            .api(
                "label/__name__/values",
                &[("match[]", r#"{job=~"gateway|token-service|mail-service"}"#)],
            )
            .await,
    )
    .unwrap();
    let groups = prometheus.api("rules", &[]).await;
    let rules: Vec<&Value> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    assert!(rules.len() >= 8, "{groups}");
    let mut read = Vec::new();
    for rule in rules {
        assert_eq!(rule["health"], "ok", "{rule}");
        read.push(rule["query"].as_str().unwrap().to_owned());
    }
    let dashboard = dashboard_queries();
    assert!(dashboard.len() >= 10);
    for query in &dashboard {
        // Valid PromQL, answered by this Prometheus.
        prometheus.api("query", &[("query", query)]).await;
    }
    read.extend(dashboard);
    for query in &read {
        for name in metric_names(query) {
            assert!(
                exported.contains(&name),
                "{name} (in {query}) is not exported: {exported:?}"
            );
        }
    }
    app.stop().await;
}
