//! The reset page in a real browser: Debian's Chromium, driven by Playwright
//! (`clients/browser/reset-page.cjs`), from the mail's link to a new password, through a
//! mismatch, a weak password and a spent link that asks for a new one. Screenshots of each
//! state are kept under `target/browser-screenshots/`. A binary of its own: it needs
//! `/usr/bin/chromium` (`.ci/run` installs it) and installs playwright-core under target/.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step must fail the test loudly"
)]

#[allow(dead_code, reason = "shared with the e2e binary, which uses all of it")]
#[path = "e2e/helpers.rs"]
mod helpers;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use helpers::{spawn_app, token_in};
use reqwest::StatusCode;
use tokio::{process::Command, sync::OnceCell};

const EMAIL: &str = "browser-user@example.com";
const OLD_PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "violet harbour quokka 77";

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/browser")
}

/// `node_modules` with playwright-core, installed once under target/.
async fn node_modules() -> &'static Path {
    static MODULES: OnceCell<PathBuf> = OnceCell::const_new();
    MODULES
        .get_or_init(|| async {
            let prefix = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-node");
            let modules = prefix.join("node_modules");
            if !modules.join("playwright-core").exists() {
                std::fs::create_dir_all(&prefix).unwrap();
                std::fs::copy(
                    clients_dir().join("package.json"),
                    prefix.join("package.json"),
                )
                .unwrap();
                let installed = Command::new("npm")
                    .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                    .arg(&prefix)
                    .stdin(Stdio::null())
                    .output()
                    .await
                    .expect("npm runs");
                assert!(
                    installed.status.success(),
                    "npm install failed:\n{}",
                    String::from_utf8_lossy(&installed.stderr)
                );
            }
            modules
        })
        .await
}

#[tokio::test]
async fn a_user_resets_the_password_on_the_page_from_the_mail() {
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Debian's chromium: apt-get install -y chromium"
    );
    let app = spawn_app().await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    assert_eq!(app.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    let token = token_in(&app.mail_number(1).await);
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../browser-screenshots");

    let output = Command::new("node")
        .arg(clients_dir().join("reset-page.cjs"))
        .args([&app.base_url, &token, EMAIL, NEW_PASSWORD])
        .arg(&screenshots)
        .env("NODE_PATH", node_modules().await)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("node runs");
    assert!(
        output.status.success(),
        "the browser run failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    assert_eq!(seen["tokenLeftInAddressBar"], false, "{seen}");
    assert!(
        seen["mismatchShown"]
            .as_str()
            .unwrap()
            .contains("do not match"),
        "{seen}"
    );
    assert_eq!(seen["stayedOnFormAfterMismatch"], true, "{seen}");
    assert!(
        seen["weakShown"]
            .as_str()
            .unwrap()
            .contains("too easy to guess"),
        "{seen}"
    );
    assert!(
        seen["doneShown"]
            .as_str()
            .unwrap()
            .contains("password was changed"),
        "{seen}"
    );
    assert!(
        seen["spentShown"]
            .as_str()
            .unwrap()
            .contains("already been used"),
        "{seen}"
    );
    assert_eq!(seen["forgotFormShown"], true, "{seen}");
    assert!(
        seen["sentShown"].as_str().unwrap().contains("on its way"),
        "{seen}"
    );
    assert_eq!(seen["externalRequests"], serde_json::json!([]), "{seen}");
    assert!(app.password_verifies(EMAIL, NEW_PASSWORD).await);

    // The changed notice, then the new link the spent page's form asked for.
    let new_link = token_in(&app.mail_number(3).await);
    assert_ne!(new_link, token);
    for state in [
        "1-form",
        "2-mismatch",
        "3-weak",
        "4-done",
        "5-spent",
        "6-new-link-sent",
    ] {
        assert!(screenshots.join(format!("{state}.png")).exists(), "{state}");
    }
    app.stop().await;
}
