//! The persona surface, driven by a Python client that openapi-generator makes from the
//! gateway's own `/openapi.json`: the document is complete enough to build a working client.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::{
    helpers::{spawn_app, token_in},
    python::{Venv, python, run_client},
};

const EMAIL: &str = "linus@example.com";
const OLD_PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "correct horse battery staple";

/// Fetches the document, validates it, and generates the Python client into a fresh folder.
async fn generate_client(base_url: &str) -> PathBuf {
    let work = fresh_folder("persona-client");
    let document = reqwest::get(format!("{base_url}/openapi.json"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let spec = work.join("openapi.json");
    std::fs::write(&spec, document).unwrap();
    generate_python_client(&spec, "persona_client", &work.join("client")).await
}

/// A new folder under the target dir's scratch space.
pub fn fresh_folder(name: &str) -> PathBuf {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work).unwrap();
    work
}

/// Validates the OpenAPI document `spec` and generates openapi-generator's Python client of
/// it, as package `package`, into `output`.
pub async fn generate_python_client(spec: &Path, package: &str, output: &Path) -> PathBuf {
    let python = python(Venv::Tools).await;
    let validated = Command::new(python)
        .args(["-m", "openapi_spec_validator"])
        .arg(spec)
        .output()
        .await
        .unwrap();
    assert!(
        validated.status.success(),
        "invalid document:\n{}",
        String::from_utf8_lossy(&validated.stdout)
    );

    let generator = python.with_file_name("openapi-generator-cli");
    let generated = Command::new(generator)
        .args([
            "generate",
            "--generator-name",
            "python",
            "--package-name",
            package,
        ])
        .arg("--input-spec")
        .arg(spec)
        .arg("--output")
        .arg(output)
        .output()
        .await
        .unwrap();
    assert!(
        generated.status.success(),
        "generation failed:\n{}",
        String::from_utf8_lossy(&generated.stdout)
    );
    output.to_owned()
}

#[tokio::test]
async fn a_client_generated_from_the_openapi_document_runs_the_persona_flow() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let client = generate_client(&app.base_url).await;
    let client = client.to_str().unwrap();
    let persona = async |args: &[&str]| {
        let all: Vec<&str> = [client, app.base_url.as_str()]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        run_client(Venv::GeneratedClient, "persona.py", &all, &[]).await
    };

    assert_eq!(persona(&["forgot", EMAIL]).await["status"], 204);
    let token = token_in(&app.mail_number(1).await);
    assert_eq!(persona(&["check", &token]).await["status"], 204);

    let mismatch = persona(&["reset", &token, NEW_PASSWORD, "something else"]).await;
    assert_eq!(mismatch["status"], 400, "{mismatch}");
    assert!(
        mismatch["error"]["invalid_request_body"]["message"].is_string(),
        "{mismatch}"
    );

    assert_eq!(
        persona(&["reset", &token, NEW_PASSWORD, NEW_PASSWORD]).await["status"],
        204
    );
    assert!(app.password_verifies(EMAIL, NEW_PASSWORD).await);

    let spent = persona(&["check", &token]).await;
    assert_eq!(spent["status"], 400, "{spent}");
    assert!(
        spent["error"]["used_token"]["message"].is_string(),
        "{spent}"
    );
    app.stop().await;
}
