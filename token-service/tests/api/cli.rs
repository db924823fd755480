//! The `token-service accounts ...` commands, run as the real binary against the test's Redis.

use std::process::Stdio;

use passreset_testkit::{TestRedis, test_redis};
use tokio::{io::AsyncWriteExt as _, process::Command};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn command(redis: &TestRedis, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_token-service"));
    command
        .args(args)
        .env("REDIS_URL", &redis.url)
        .env("REDIS_KEY_PREFIX", &redis.prefix)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

async fn run(mut command: Command) -> Run {
    let output = command.output().await.expect("the binary runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test]
async fn an_added_account_verifies_with_its_password_only_and_is_listed() {
    let redis = test_redis().await;
    let added = run(command(
        &redis,
        &[
            "accounts",
            "add",
            "--email",
            "Ada@EXAMPLE.com",
            "--password",
            "a long passphrase",
            "--locale",
            "sv",
        ],
    ))
    .await;
    assert_eq!(added.code, Some(0), "{}", added.stderr);
    let id = added.stdout.trim().to_owned();
    assert!(id.starts_with("acct_") && id.len() == 37, "{id}");

    let valid = run(command(
        &redis,
        &[
            "accounts",
            "verify",
            "--email",
            "Ada@example.com",
            "--password",
            "a long passphrase",
        ],
    ))
    .await;
    assert_eq!(valid.code, Some(0), "{}", valid.stderr);
    assert_eq!(valid.stdout.trim(), "valid");

    let invalid = run(command(
        &redis,
        &[
            "accounts",
            "verify",
            "--email",
            "Ada@example.com",
            "--password",
            "a wrong passphrase",
        ],
    ))
    .await;
    assert_eq!(invalid.code, Some(1), "{}", invalid.stderr);
    assert_eq!(invalid.stdout.trim(), "invalid");

    let listed = run(command(&redis, &["accounts", "list"])).await;
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    assert_eq!(listed.stdout, format!("{id}\tAda@example.com\tsv\n"));
}

#[tokio::test]
async fn a_password_can_come_from_standard_input() {
    let redis = test_redis().await;
    let mut add = command(
        &redis,
        &[
            "accounts",
            "add",
            "--email",
            "ada@example.com",
            "--password-stdin",
        ],
    );
    add.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = add.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"piped passphrase\n").await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let valid = run(command(
        &redis,
        &[
            "accounts",
            "verify",
            "--email",
            "ada@example.com",
            "--password",
            "piped passphrase",
        ],
    ))
    .await;
    assert_eq!(valid.code, Some(0), "{}", valid.stderr);
}

#[tokio::test]
async fn a_weak_password_is_not_added_and_the_refusal_says_why() {
    let redis = test_redis().await;
    for (weak, says) in [
        ("short", "at least 12 characters"),
        ("password1234", "too easy to guess"),
    ] {
        let added = run(command(
            &redis,
            &[
                "accounts",
                "add",
                "--email",
                "ada@example.com",
                "--password",
                weak,
            ],
        ))
        .await;
        assert_eq!(added.code, Some(2), "{weak}: {}", added.stderr);
        assert!(added.stderr.contains(says), "{weak}: {}", added.stderr);
        assert!(
            !added.stderr.contains(weak),
            "the password was echoed: {}",
            added.stderr
        );
    }
    let listed = run(command(&redis, &["accounts", "list"])).await;
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    assert_eq!(listed.stdout, "", "nothing was stored");
}

#[tokio::test]
async fn verify_exits_2_when_redis_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = TestRedis::single(&format!("redis://127.0.0.1:{port}"));
    let verify = run(command(
        &unreachable,
        &[
            "accounts",
            "verify",
            "--email",
            "ada@example.com",
            "--password",
            "whatever it is",
        ],
    ))
    .await;
    assert_eq!(verify.code, Some(2));
    assert!(verify.stderr.contains("REDIS_URL"), "{}", verify.stderr);
}

#[tokio::test]
async fn help_lists_every_setting_with_its_variable() {
    let redis = test_redis().await;
    let help = run(command(&redis, &["--help"])).await;
    assert_eq!(help.code, Some(0));
    for variable in [
        "REDIS_URL",
        "REDIS_KEY_PREFIX",
        "TOKEN_GRPC_ADDR",
        "TOKEN_TTL",
        "TOKEN_SECRET",
        "TOKEN_PASSWORD_MIN_LENGTH",
        "TOKEN_REVOKE_OLDER_TOKENS",
        "TOKEN_LIMIT_VERIFY_PER_ADDRESS",
        "TOKEN_LIMIT_VERIFY_PER_IP",
        "LOG_FORMAT",
        "TOKEN_DIRECTORY",
        "TOKEN_DIRECTORY_TIMEOUT",
        "grpc://host:port",
        "accounts",
    ] {
        assert!(
            help.stdout.contains(variable),
            "{variable} missing:\n{}",
            help.stdout
        );
    }
}

#[tokio::test]
async fn a_token_service_on_all_addresses_without_callers_stops_at_start_with_one_line_saying_how()
{
    let redis = test_redis().await;
    let mut refused = command(&redis, &[]);
    refused
        .env("TOKEN_GRPC_ADDR", "0.0.0.0:0")
        .env("TOKEN_METRICS_ADDR", "127.0.0.1:0")
        .env_remove("TOKEN_GRPC_CALLERS")
        .env_remove("TOKEN_GRPC_ALLOW_ANONYMOUS");
    let run = run(refused).await;
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|line| line.contains("TOKEN_GRPC_CALLERS"))
        .unwrap_or_else(|| panic!("no line names the setting: {}", run.stderr));
    assert!(
        line.starts_with("token-service: TOKEN_GRPC_CALLERS: "),
        "{line}"
    );
    assert!(line.contains("TOKEN_GRPC_ALLOW_ANONYMOUS=true"), "{line}");
}

#[tokio::test]
async fn a_malformed_caller_list_stops_the_binary_naming_the_setting_but_not_the_secret() {
    let redis = test_redis().await;
    let mut refused = command(&redis, &["accounts", "list"]);
    refused.env(
        "TOKEN_GRPC_CALLERS",
        "gateway:admin=a-long-enough-secret-value",
    );
    let run = run(refused).await;
    assert_ne!(run.code, Some(0));
    assert!(
        run.stderr
            .contains("TOKEN_GRPC_CALLERS: caller gateway: unknown permission admin"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("a-long-enough-secret-value"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_directory_of_an_unknown_kind_stops_the_start_with_one_line_naming_it() {
    let redis = test_redis().await;
    let mut refused = command(&redis, &[]);
    refused
        .env("TOKEN_GRPC_ADDR", "127.0.0.1:0")
        .env("TOKEN_DIRECTORY", "ldap://users.internal");
    let run = run(refused).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("token-service: TOKEN_DIRECTORY: "),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn the_accounts_commands_refuse_when_the_platform_keeps_the_accounts() {
    let redis = test_redis().await;
    let mut refused = command(&redis, &["accounts", "list"]);
    refused.env("TOKEN_DIRECTORY", "grpc://127.0.0.1:1");
    let run = run(refused).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("TOKEN_DIRECTORY"), "{}", run.stderr);
}
