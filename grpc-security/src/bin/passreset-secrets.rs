//! `passreset-secrets`: prints a fresh set of gRPC caller secrets as `.env` lines (what
//! `docker-compose.yml` reads), with the caller lists the services need, digests only.

use std::process::ExitCode;

use passreset_grpc_security::callers::digest_of;

/// 32 bytes from the OS CSPRNG, as 64 hex digits.
fn fresh() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

fn main() -> ExitCode {
    let (gateway, mail) = match (fresh(), fresh()) {
        (Ok(gateway), Ok(mail)) => (gateway, mail),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("passreset-secrets: os random source: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("# passreset gRPC caller secrets; keep this file out of version control");
    println!("PASSRESET_GATEWAY_SECRET={gateway}");
    println!("PASSRESET_MAIL_SECRET={mail}");
    println!("# the same callers by digest, for settings that should not hold the secrets:");
    println!(
        "# TOKEN_GRPC_CALLERS=gateway:reset={},mail-service:revoke={}",
        digest_of(&gateway),
        digest_of(&mail)
    );
    println!("# MAIL_GRPC_CALLERS=gateway:send={}", digest_of(&gateway));
    ExitCode::SUCCESS
}
