//! The reset page in a real browser: Debian's Chromium, driven by Playwright
//! (`clients/browser/reset-page.cjs`), from the link in the mail to a new password, through a
//! too short, a mismatched and a weak password, a spent link that asks for a new one, and then
//! the same without JavaScript in Swedish. Screenshots of each state are kept under
//! `target/browser-screenshots/` (CI keeps them).
//!
//! A binary of its own: it needs `/usr/bin/chromium` (`.ci/run` installs it) and installs
//! playwright-core (pinned in `clients/browser/package.json`) under target/ when missing.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step must fail the test loudly"
)]

#[expect(dead_code, reason = "shared with the e2e binary, which uses all of it")]
#[path = "e2e/helpers.rs"]
mod helpers;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use clap::Parser as _;
use helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::{process::Command, sync::OnceCell, sync::oneshot, task::JoinHandle};

const CHROMIUM: &str = "/usr/bin/chromium";
const EMAIL: &str = "browser-user@example.com";
const OLD_PASSWORD: &str = "the old password 1";
const NEW_PASSWORD: &str = "violet harbour quokka 77";
const NO_SCRIPT_PASSWORD: &str = "copper lantern meadow 19";

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/browser")
}

fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("../browser-screenshots")
}

/// `node_modules` with playwright-core, installed once under target/ from the pinned
/// `clients/browser/package.json` (npm only; Playwright's own browser download is never used).
async fn node_modules() -> &'static Path {
    static MODULES: OnceCell<PathBuf> = OnceCell::const_new();
    MODULES
        .get_or_init(|| async {
            let prefix = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-node");
            let modules = prefix.join("node_modules");
            let wanted = std::fs::read(clients_dir().join("package.json")).unwrap();
            let installed = std::fs::read(prefix.join("package.json")).ok();
            if installed.as_ref() != Some(&wanted) || !modules.join("playwright-core").exists() {
                std::fs::create_dir_all(&prefix).unwrap();
                std::fs::write(prefix.join("package.json"), &wanted).unwrap();
                let npm = Command::new("npm")
                    .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                    .arg(&prefix)
                    .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
                    .stdin(Stdio::null())
                    .output()
                    .await
                    .expect("npm runs (Node.js and npm are needed for the browser test)");
                assert!(
                    npm.status.success(),
                    "npm install of playwright-core failed:\n{}",
                    String::from_utf8_lossy(&npm.stderr)
                );
            }
            modules
        })
        .await
}

/// Runs one scenario of the driver script with `args` and returns what it saw.
async fn drive(scenario: &str, args: Value) -> Value {
    let output = Command::new("node")
        .arg(clients_dir().join("reset-page.cjs"))
        .arg(scenario)
        .arg(args.to_string())
        .env("NODE_PATH", node_modules().await)
        .env("CHROMIUM", CHROMIUM)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("node runs");
    assert!(
        output.status.success(),
        "the browser run {scenario} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "the browser run {scenario} printed no JSON ({error}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    // Shown with --nocapture, and by the test harness when a later step fails.
    println!("{scenario} saw {seen:#}");
    seen
}

/// A gateway of the test's own, on the test's upstreams, whose reset links point at itself:
/// the browser then follows the mail's link exactly as a reader would. (The shared
/// [`spawn_app`] gateway's links name a host that does not exist, on purpose.)
struct PageGateway {
    base_url: String,
    stop: oneshot::Sender<()>,
    running: JoinHandle<std::io::Result<()>>,
}

impl PageGateway {
    /// The link must name the port before the gateway binds it, so a free port is picked
    /// first; should another process take it in between, another is tried.
    async fn start(app: &TestApp) -> Self {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .unwrap()
                .port();
            let base_url = format!("http://127.0.0.1:{port}");
            let config = gateway::Config::try_parse_from([
                "gateway",
                "--http-addr",
                &format!("127.0.0.1:{port}"),
                "--metrics-addr",
                "127.0.0.1:0",
                "--token-service-url",
                &app.token_url,
                "--mail-service-url",
                &app.mail_url,
                "--reset-url",
                &format!("{base_url}/reset?token={{token}}"),
            ])
            .expect("gateway config");
            let application = match gateway::Application::build(config).await {
                Ok(application) => application,
                Err(gateway::StartupError::Bind { .. }) => continue,
                Err(error) => panic!("the page gateway did not start: {error}"),
            };
            let (stop, stopped) = oneshot::channel();
            let running = tokio::spawn(application.run_until_stopped(async {
                let _ = stopped.await;
            }));
            return Self {
                base_url,
                stop,
                running,
            };
        }
        panic!("no free port for the page gateway after 5 tries");
    }

    /// The reset link in the `number`-th mail, which must point at this gateway.
    async fn link_in_mail(&self, app: &TestApp, number: usize) -> (String, String) {
        let text = app.mail_number(number).await.text_body();
        let prefix = format!("{}/reset?token=", self.base_url);
        let start = text
            .find(&prefix)
            .unwrap_or_else(|| panic!("mail {number} holds no link to {prefix}:\n{text}"))
            + prefix.len();
        let token: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        assert!(!token.is_empty(), "mail {number}: an empty token");
        (format!("{prefix}{token}"), token)
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.running.await.unwrap().unwrap();
    }
}

fn text_of<'a>(seen: &'a Value, key: &str) -> &'a str {
    seen[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {seen}"))
}

#[tokio::test]
async fn a_user_resets_the_password_on_the_page_from_the_mail_with_and_without_javascript() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "the browser test needs Debian's chromium at {CHROMIUM}: apt-get install -y chromium \
         (.ci/run installs it)"
    );
    let app = spawn_app().await;
    let pages = PageGateway::start(&app).await;
    app.create_account(EMAIL, OLD_PASSWORD).await;
    let forgot = app
        .http
        .post(format!("{}/v1/account/password/forgot", pages.base_url))
        .json(&json!({ "email": EMAIL }))
        .send()
        .await
        .unwrap();
    assert_eq!(forgot.status(), StatusCode::NO_CONTENT);
    let (link, token) = pages.link_in_mail(&app, 1).await;
    // Only this run's screenshots, for whoever looks at CI's artifacts.
    let screenshots = screenshots_dir();
    let _ = std::fs::remove_dir_all(&screenshots);

    // With JavaScript, in English, on a 320px wide screen.
    let seen = drive(
        "with-script",
        json!({
            "base": pages.base_url, "link": link, "token": token, "email": EMAIL,
            "newPassword": NEW_PASSWORD, "screenshots": screenshots,
        }),
    )
    .await;
    assert_eq!(seen["tokenLeftInAddressBar"], false, "{seen}");
    assert_eq!(seen["tokenKeptInForm"], true, "{seen}");
    assert_eq!(seen["lang"], "en", "{seen}");
    assert_eq!(seen["everyInputLabelled"], true, "{seen}");
    assert_eq!(seen["fitsIn320px"], true, "{seen}");
    assert_eq!(seen["focusOutline"], "solid", "{seen}");
    assert!(
        text_of(&seen, "tooShortShown").contains("too short"),
        "{seen}"
    );
    assert!(
        text_of(&seen, "mismatchShown").contains("do not match"),
        "{seen}"
    );
    assert_eq!(seen["stayedOnFormAfterMismatch"], true, "{seen}");
    assert_eq!(seen["focusAfterMismatch"], "confirm", "{seen}");
    assert!(
        text_of(&seen, "weakShown").starts_with("The password is too easy to guess:"),
        "{seen}"
    );
    assert_eq!(seen["weakAnnounced"], "alert", "{seen}");
    assert!(
        text_of(&seen, "doneShown").contains("password was changed"),
        "{seen}"
    );
    assert!(
        text_of(&seen, "spentShown").contains("already been used"),
        "{seen}"
    );
    assert_eq!(seen["forgotFormShown"], true, "{seen}");
    assert!(text_of(&seen, "sentShown").contains("on its way"), "{seen}");
    assert_eq!(seen["formPostSite"], "same-origin", "{seen}");
    assert_eq!(seen["externalRequests"], json!([]), "{seen}");
    assert!(app.password_verifies(EMAIL, NEW_PASSWORD).await);
    assert!(!app.password_verifies(EMAIL, OLD_PASSWORD).await);

    // Mail 2 is the "password changed" notice; mail 3 the link the spent page's form asked for.
    let (new_link, new_token) = pages.link_in_mail(&app, 3).await;
    assert_ne!(new_token, token);

    // Without JavaScript, in Swedish: the server says everything the script said.
    let seen = drive(
        "without-script",
        json!({
            "base": pages.base_url, "link": new_link, "newPassword": NO_SCRIPT_PASSWORD,
            "screenshots": screenshots,
        }),
    )
    .await;
    assert_eq!(seen["lang"], "sv", "{seen}");
    assert!(
        text_of(&seen, "mismatchShown").contains("stämmer inte överens"),
        "{seen}"
    );
    assert!(
        text_of(&seen, "weakShown").starts_with("Lösenordet är för lätt att gissa:"),
        "{seen}"
    );
    assert!(
        text_of(&seen, "doneShown").contains("Ditt lösenord har ändrats"),
        "{seen}"
    );
    assert_eq!(seen["finnishForgotLang"], "fi", "{seen}");
    assert!(
        text_of(&seen, "finnishForgotButton").contains("Lähetä linkki"),
        "{seen}"
    );
    assert_eq!(seen["externalRequests"], json!([]), "{seen}");
    assert!(app.password_verifies(EMAIL, NO_SCRIPT_PASSWORD).await);

    for state in [
        "01-form",
        "02-too-short",
        "03-mismatch",
        "04-weak",
        "05-done",
        "06-spent",
        "07-new-link-sent",
        "08-sv-no-script-form",
        "09-sv-no-script-mismatch",
        "10-sv-no-script-weak",
        "11-sv-no-script-done",
        "12-fi-forgot",
    ] {
        assert!(
            screenshots.join(format!("{state}.png")).exists(),
            "no screenshot {state}"
        );
    }
    pages.stop().await;
    app.stop().await;
}
