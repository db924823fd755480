//! `passreset-secrets`, run as the real binary: its secrets and its digest caller lists agree.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step must fail the test loudly"
)]

use passreset_grpc_security::Callers;

fn run() -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_passreset-secrets"))
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

fn value<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key} in {text}"))
}

#[test]
fn the_printed_secrets_are_fresh_and_identify_their_callers_in_the_printed_digest_lists() {
    let first = run();
    let gateway = value(&first, "PASSRESET_GATEWAY_SECRET");
    let mail = value(&first, "PASSRESET_MAIL_SECRET");
    assert_eq!(gateway.len(), 64);
    assert_ne!(gateway, mail);
    assert_ne!(value(&run(), "PASSRESET_GATEWAY_SECRET"), gateway);

    let tokens =
        Callers::parse(value(&first, "# TOKEN_GRPC_CALLERS"), &["reset", "revoke"]).unwrap();
    assert_eq!(
        &*tokens.identify(gateway.as_bytes()).unwrap().name,
        "gateway"
    );
    assert_eq!(
        &*tokens.identify(mail.as_bytes()).unwrap().name,
        "mail-service"
    );
    let mails = Callers::parse(value(&first, "# MAIL_GRPC_CALLERS"), &["send"]).unwrap();
    assert!(
        mails
            .identify(gateway.as_bytes())
            .unwrap()
            .holds_any(&["send"])
    );
    assert!(mails.identify(mail.as_bytes()).is_none());
    // Only the .env lines hold secrets; the lists hold digests.
    assert!(
        !first
            .lines()
            .filter(|line| line.starts_with('#'))
            .any(|line| line.contains(gateway))
    );
}
