//! Schema-driven fuzzing: schemathesis generates requests from the gateway's own OpenAPI
//! document and checks every answer against it. No 5xx, no answer the document does not allow.

use tokio::process::Command;

use crate::{
    helpers::spawn_app,
    python::{Venv, python},
};

/// What every answer must satisfy.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let app = spawn_app().await;
    app.create_account("fuzz@example.com", "the old password 1")
        .await;
    let schemathesis = python(Venv::Tools).await.with_file_name("schemathesis");

    let output = Command::new(schemathesis)
        .arg("run")
        .arg(format!("{}/openapi.json", app.base_url))
        .args(["--checks", CHECKS])
        .args(["--max-examples", "60", "--workers", "2", "--seed", "1"])
        .args(["--header", &format!("X-Auth-Token: {}", app.api_key)])
        .env("NO_COLOR", "1")
        // Its cache and reports go under target/, not into the source tree.
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .output()
        .await
        .expect("schemathesis starts");
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}");
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    app.stop().await;
}
