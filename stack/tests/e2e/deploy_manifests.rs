//! The Kubernetes manifests (`deploy/kubernetes/`): rendered by the real `kubectl kustomize`,
//! validated against the Kubernetes schemas offline (kubernetes-validate), then read object by
//! object for what the issue asks of every workload.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::Stdio,
};

use serde_json::Value;
use tokio::process::Command;

use crate::python::{Venv, deploy_dir, python};

/// The passreset services: each is a Deployment, a Service and a binary of that name.
const SERVICES: [&str; 3] = ["gateway", "token-service", "mail-service"];

/// Variables that hold a secret (or will): never a literal `value` in a manifest.
const SECRET_VARIABLES: [&str; 12] = [
    "REDIS_URL",
    "TOKEN_SECRET",
    "GATEWAY_API_KEYS",
    "MAIL_TRANSPORT",
    "TOKEN_GRPC_CALLERS",
    "MAIL_GRPC_CALLERS",
    "GATEWAY_TOKEN_SERVICE_SECRET",
    "GATEWAY_MAIL_SERVICE_SECRET",
    "MAIL_TOKEN_SERVICE_SECRET",
    "REDIS_PASSWORD",
    "SMTP_PASSWORD",
    "SMTP_USERNAME",
];

/// The folders under `deploy/kubernetes/` that render.
const OVERLAYS: [&str; 3] = ["base", "dev", "managed-redis"];

/// `kubectl kustomize` of one folder under `deploy/kubernetes/`, as YAML.
async fn render(overlay: &str) -> String {
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_owned());
    let output = Command::new(&kubectl)
        .arg("kustomize")
        .arg(deploy_dir().join("kubernetes").join(overlay))
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|error| {
            panic!("{kubectl} does not start ({error}): install kubectl, as .ci/run does")
        });
    assert!(
        output.status.success(),
        "kubectl kustomize {overlay} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The rendered objects of one overlay, read by PyYAML (the one YAML reader the checks need).
async fn objects(overlay: &str) -> Vec<Value> {
    let yaml = render(overlay).await;
    let mut child = Command::new(python(Venv::Deploy).await)
        .args([
            "-c",
            "import json, sys, yaml; json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stdin, yaml.as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    assert!(output.status.success());
    serde_json::from_slice::<Vec<Value>>(&output.stdout)
        .unwrap()
        .into_iter()
        .filter(|object| !object.is_null())
        .collect()
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap()
}

fn app_label(labels: &Value) -> Option<&str> {
    labels["app.kubernetes.io/name"].as_str()
}

#[tokio::test]
async fn the_base_and_every_overlay_render_and_validate_against_the_kubernetes_schemas() {
    let validate = python(Venv::Deploy)
        .await
        .parent()
        .unwrap()
        .join("kubernetes-validate");
    for overlay in OVERLAYS {
        let rendered = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("deploy-{overlay}-{}.yaml", uuid::Uuid::new_v4()));
        std::fs::write(&rendered, render(overlay).await).unwrap();
        let output = Command::new(&validate)
            .arg("--strict")
            .arg(&rendered)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && !report.contains("ERROR"),
            "{overlay}: {report}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let _ = std::fs::remove_file(rendered);
    }
}

#[tokio::test]
async fn every_workload_runs_non_root_read_only_without_privileges_with_probes_and_limits() {
    for overlay in OVERLAYS {
        let objects = objects(overlay).await;
        let deployments = of_kind(&objects, "Deployment");
        let names: BTreeSet<&str> = deployments.iter().map(|d| name(d)).collect();
        for service in SERVICES {
            assert!(
                names.contains(service),
                "{overlay}: no {service} in {names:?}"
            );
        }
        for deployment in deployments {
            let at = format!("{overlay}/{}", name(deployment));
            let pod = &deployment["spec"]["template"]["spec"];
            let security = &pod["securityContext"];
            assert_eq!(security["runAsNonRoot"], true, "{at}");
            assert_eq!(security["runAsUser"], 10001, "{at}");
            assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault", "{at}");
            assert_eq!(pod["automountServiceAccountToken"], false, "{at}");
            for container in pod["containers"].as_array().unwrap() {
                let security = &container["securityContext"];
                assert_eq!(security["allowPrivilegeEscalation"], false, "{at}");
                assert_eq!(security["readOnlyRootFilesystem"], true, "{at}");
                assert_eq!(
                    security["capabilities"]["drop"],
                    serde_json::json!(["ALL"]),
                    "{at}"
                );
                assert_ne!(security["privileged"], true, "{at}");
                for probe in ["readinessProbe", "livenessProbe"] {
                    assert!(container[probe].is_object(), "{at}: no {probe}");
                }
                for (bound, resource) in [
                    ("requests", "cpu"),
                    ("requests", "memory"),
                    ("limits", "cpu"),
                    ("limits", "memory"),
                ] {
                    assert!(
                        container["resources"][bound][resource].is_string(),
                        "{at}: no {bound}.{resource}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn the_services_probe_healthcheck_healthz_and_readyz() {
    let objects = objects("base").await;
    for deployment in of_kind(&objects, "Deployment") {
        let service = name(deployment);
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        let healthcheck = serde_json::json!([format!("/usr/local/bin/{service}"), "healthcheck"]);
        if service == "gateway" {
            assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
            // `gateway healthcheck` asks /healthz.
            assert_eq!(container["livenessProbe"]["exec"]["command"], healthcheck);
        } else {
            assert_eq!(
                container["readinessProbe"]["exec"]["command"], healthcheck,
                "{service}"
            );
            assert_eq!(
                container["livenessProbe"]["tcpSocket"]["port"], "grpc",
                "{service}"
            );
        }
    }
}

#[tokio::test]
async fn every_secret_comes_from_a_secret_and_the_base_holds_none() {
    for overlay in OVERLAYS {
        let objects = objects(overlay).await;
        for deployment in of_kind(&objects, "Deployment") {
            let containers = deployment["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap();
            for variable in containers
                .iter()
                .flat_map(|c| c["env"].as_array().cloned().unwrap_or_default())
            {
                let variable_name = variable["name"].as_str().unwrap();
                let at = format!("{overlay}/{}: {variable_name}", name(deployment));
                if SECRET_VARIABLES.contains(&variable_name) {
                    assert!(variable.get("value").is_none(), "{at} is a literal");
                    assert!(
                        variable["valueFrom"]["secretKeyRef"]["key"] == variable_name,
                        "{at} is not from a Secret key named after it"
                    );
                }
                let literal = variable["value"].as_str().unwrap_or_default();
                assert!(
                    !(literal.contains("://") && literal.contains('@')),
                    "{at}: a URL with credentials"
                );
            }
        }
        let secrets = of_kind(&objects, "Secret");
        if overlay == "base" {
            assert!(
                secrets.is_empty(),
                "the base must expect the platform's Secret"
            );
        }
        // The dev overlay's Secret holds only URLs of its own Redis and mailpit, no credential.
        for secret in secrets {
            for (key, value) in secret["data"].as_object().unwrap() {
                use base64::Engine as _;
                let value = base64::engine::general_purpose::STANDARD
                    .decode(value.as_str().unwrap())
                    .unwrap();
                let value = String::from_utf8(value).unwrap();
                assert!(!value.contains('@'), "{overlay}: {key} holds a credential");
            }
        }
    }
}

#[tokio::test]
async fn every_service_has_a_disruption_budget_and_an_autoscaler_for_its_pods() {
    let objects = objects("base").await;
    for service in SERVICES {
        let budget = of_kind(&objects, "PodDisruptionBudget")
            .into_iter()
            .find(|b| app_label(&b["spec"]["selector"]["matchLabels"]) == Some(service))
            .unwrap_or_else(|| panic!("no PodDisruptionBudget for {service}"));
        assert!(budget["spec"]["minAvailable"].as_i64().unwrap() >= 1);
        let autoscaler = of_kind(&objects, "HorizontalPodAutoscaler")
            .into_iter()
            .find(|a| a["spec"]["scaleTargetRef"]["name"] == service)
            .unwrap_or_else(|| panic!("no HorizontalPodAutoscaler for {service}"));
        // A budget of one pod needs two to let a node drain.
        assert!(autoscaler["spec"]["minReplicas"].as_i64().unwrap() >= 2);
    }
}

/// Who may reach a pod of `app` on which named port: `(source, port)`, where the source is an
/// app, `prometheus` (the monitoring namespace's) or `anyone`.
fn allowed_in(policies: &[&Value], app: &str) -> BTreeSet<(String, String)> {
    let mut allowed = BTreeSet::new();
    for policy in policies {
        let selector = &policy["spec"]["podSelector"]["matchLabels"];
        if app_label(selector) != Some(app) {
            continue;
        }
        for rule in policy["spec"]["ingress"].as_array().into_iter().flatten() {
            let sources: Vec<String> = match rule["from"].as_array() {
                None => vec!["anyone".to_owned()],
                Some(peers) => peers
                    .iter()
                    .map(|peer| {
                        let pod = app_label(&peer["podSelector"]["matchLabels"]);
                        let namespace =
                            peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                                .as_str();
                        match (namespace, pod) {
                            (Some("monitoring"), Some("prometheus")) => "prometheus".to_owned(),
                            (None, Some(pod)) if peer.get("ipBlock").is_none() => pod.to_owned(),
                            _ => panic!("{app}: a peer the test does not know: {peer}"),
                        }
                    })
                    .collect(),
            };
            let ports = rule["ports"]
                .as_array()
                .expect("every rule names its ports");
            for source in &sources {
                for port in ports {
                    allowed.insert((source.clone(), port["port"].as_str().unwrap().to_owned()));
                }
            }
        }
    }
    allowed
}

#[tokio::test]
async fn network_policies_let_in_only_the_callers_each_service_has() {
    let expected: BTreeMap<&str, &[(&str, &str)]> = BTreeMap::from([
        (
            "gateway",
            &[("anyone", "http"), ("prometheus", "metrics")][..],
        ),
        (
            "token-service",
            &[
                ("gateway", "grpc"),
                ("mail-service", "grpc"),
                ("prometheus", "metrics"),
            ][..],
        ),
        (
            "mail-service",
            &[("gateway", "grpc"), ("prometheus", "metrics")][..],
        ),
        (
            "redis",
            &[("token-service", "redis"), ("mail-service", "redis")][..],
        ),
        (
            "mailpit",
            &[("mail-service", "smtp"), ("anyone", "http")][..],
        ),
    ]);
    for overlay in OVERLAYS {
        let objects = objects(overlay).await;
        let policies = of_kind(&objects, "NetworkPolicy");
        // Everything is shut unless a policy opens it.
        assert!(
            policies.iter().any(|p| p["spec"]["podSelector"]
                .as_object()
                .is_some_and(|s| s.is_empty())
                && p["spec"]["policyTypes"] == serde_json::json!(["Ingress"])
                && p["spec"].get("ingress").is_none()),
            "{overlay}: no default deny"
        );
        for deployment in of_kind(&objects, "Deployment") {
            let app = name(deployment);
            let wanted: BTreeSet<(String, String)> = expected
                .get(app)
                .unwrap_or_else(|| panic!("{overlay}: {app} has no expected callers"))
                .iter()
                .map(|(source, port)| ((*source).to_owned(), (*port).to_owned()))
                .collect();
            assert_eq!(allowed_in(&policies, app), wanted, "{overlay}/{app}");
            // Each named port a policy opens is one the pod has.
            let ports: BTreeSet<String> = deployment["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            for (_, port) in &wanted {
                assert!(ports.contains(port), "{overlay}/{app}: no port {port}");
            }
        }
    }
}

#[tokio::test]
async fn each_service_gets_its_grpc_caller_list_and_client_secrets_from_the_secret() {
    let objects = objects("base").await;
    let wanted = [
        ("token-service", &["TOKEN_GRPC_CALLERS"][..]),
        (
            "mail-service",
            &["MAIL_GRPC_CALLERS", "MAIL_TOKEN_SERVICE_SECRET"][..],
        ),
        (
            "gateway",
            &[
                "GATEWAY_TOKEN_SERVICE_SECRET",
                "GATEWAY_MAIL_SERVICE_SECRET",
            ][..],
        ),
    ];
    for (service, variables) in wanted {
        let deployment = of_kind(&objects, "Deployment")
            .into_iter()
            .find(|deployment| name(deployment) == service)
            .unwrap_or_else(|| panic!("no Deployment {service}"));
        let env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for variable in variables {
            let entry = env
                .iter()
                .find(|entry| entry["name"] == *variable)
                .unwrap_or_else(|| panic!("{service} has no {variable}"));
            assert_eq!(
                entry["valueFrom"]["secretKeyRef"]["name"], "passreset",
                "{service}: {variable}"
            );
        }
    }
}

#[tokio::test]
async fn the_managed_redis_overlay_reads_the_redis_files_from_the_mounted_secret() {
    let objects = objects("managed-redis").await;
    for app in ["token-service", "mail-service"] {
        let deployment = of_kind(&objects, "Deployment")
            .into_iter()
            .find(|deployment| name(deployment) == app)
            .unwrap();
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        let env = container["env"].as_array().unwrap();
        let value = |variable: &str| {
            env.iter()
                .find(|v| v["name"] == variable)
                .and_then(|v| v["value"].as_str())
                .unwrap_or_else(|| panic!("{app}: no {variable}"))
                .to_owned()
        };
        assert_eq!(value("REDIS_CLUSTER"), "true", "{app}");
        let mounted = container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|mount| mount["name"] == "secret-files")
            .and_then(|mount| mount["mountPath"].as_str())
            .unwrap();
        for (variable, key) in [
            ("REDIS_PASSWORD_FILE", "REDIS_PASSWORD"),
            ("REDIS_TLS_CA", "REDIS_TLS_CA"),
        ] {
            assert_eq!(value(variable), format!("{mounted}/{key}"), "{app}");
        }
        // The URL, with its user, still comes from the Secret.
        let url = env.iter().find(|v| v["name"] == "REDIS_URL").unwrap();
        assert_eq!(
            url["valueFrom"]["secretKeyRef"]["key"], "REDIS_URL",
            "{app}"
        );
    }
}
