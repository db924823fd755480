//! The persona surface driven by a client generated from persona's own 1.3.0 models
//! (`clients/persona-1.3.0.yaml`), as KSF Media's published clients are: every call the reset
//! flow makes, and every error body parsed with the models that pin its strings.

use std::path::Path;

use serde_json::Value;

use crate::{
    generated_client::{fresh_folder, generate_python_client},
    helpers::{spawn_app, token_in},
    python::{Venv, run_client},
};

const EMAIL: &str = "katherine@example.com";
const OLD_PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "correct horse battery staple";

/// A 400 that persona's `InlineResponse400` read, naming `reason` beside it.
fn assert_parsed_400(answer: &Value, reason: &str) {
    assert_eq!(answer["status"], 400, "{answer}");
    assert_eq!(answer["model"], "InlineResponse400", "{answer}");
    assert_eq!(answer["parsed"]["http_status"], "Bad request", "{answer}");
    assert_eq!(
        answer["parsed"]["invalid_request_body"]["description"],
        "Could not parse the request body.",
        "{answer}"
    );
    assert!(answer["raw"][reason]["message"].is_string(), "{answer}");
}

#[tokio::test]
async fn a_client_of_personas_own_models_runs_the_flow_and_parses_every_error() {
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/persona-1.3.0.yaml");
    let work = fresh_folder("persona-published-client");
    let client = generate_python_client(&spec, "persona", &work.join("client")).await;
    let client = client.to_str().unwrap();
    let host = format!("{}/v1", app.base_url);
    let persona = async |args: &[&str]| {
        let all: Vec<&str> = [client, host.as_str()]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        run_client(Venv::GeneratedClient, "persona_published.py", &all, &[]).await
    };

    assert_eq!(persona(&["forgot", EMAIL]).await["status"], 204);
    let token = token_in(&app.mail_number(1).await);
    assert_eq!(persona(&["check", &token]).await["status"], 204);
    // The KSF frontend's first call when the link is opened: a reset with the token only.
    assert_eq!(persona(&["reset", &token]).await["status"], 204);

    let mismatch = persona(&["reset", &token, NEW_PASSWORD, "something else"]).await;
    assert_parsed_400(&mismatch, "password_mismatch");
    assert!(
        mismatch["raw"]["invalid_form_fields"]["errors"]["confirmPassword"][0].is_string(),
        "{mismatch}"
    );
    let weak = persona(&["reset", &token, "password1234", "password1234"]).await;
    assert_parsed_400(&weak, "invalid_password");
    assert!(
        weak["raw"]["invalid_form_fields"]["errors"]["password"][0].is_string(),
        "{weak}"
    );
    assert!(app.password_verifies(EMAIL, OLD_PASSWORD).await);

    assert_eq!(
        persona(&["reset", &token, NEW_PASSWORD, NEW_PASSWORD]).await["status"],
        204
    );
    assert!(app.password_verifies(EMAIL, NEW_PASSWORD).await);
    assert_parsed_400(&persona(&["check", &token]).await, "used_token");
    assert_parsed_400(&persona(&["reset", &token]).await, "used_token");
    assert_parsed_400(
        &persona(&["reset", &token, NEW_PASSWORD, NEW_PASSWORD]).await,
        "used_token",
    );
    assert_parsed_400(
        &persona(&["forgot", "not an address"]).await,
        "invalid_email",
    );

    let wrong_type = persona(&["wrong-media-type"]).await;
    assert_eq!(wrong_type["status"], 415, "{wrong_type}");
    assert_eq!(wrong_type["model"], "InlineResponse415", "{wrong_type}");
    assert_eq!(
        wrong_type["parsed"]["unsupported_media_type"]["description"],
        "Unsupported media type"
    );
    app.stop().await;
}
