//! Compiles the contracts with a vendored `protoc`, so a fresh machine needs nothing but cargo.

use std::{env, io, path::PathBuf};

/// Messages that carry a token or a password: their `Debug` is written by hand in `redact.rs`
/// so that printing one never prints the secret.
const SECRET_BEARING: &[&str] = &[
    "passreset.token.v1.IssuedToken",
    "passreset.token.v1.CheckTokenRequest",
    "passreset.token.v1.RevokeTokenRequest",
    "passreset.token.v1.RedeemRequest",
    "passreset.token.v1.RedeemResponse",
    "passreset.token.v1.UpsertAccountRequest",
    "passreset.token.v1.VerifyPasswordRequest",
    "passreset.mail.v1.PasswordReset",
    "passreset.directory.v1.SetPasswordRequest",
];

const PROTOS: &[&str] = &[
    "passreset/token/v1/context.proto",
    "passreset/token/v1/token.proto",
    "passreset/token/v1/accounts.proto",
    "passreset/mail/v1/mail.proto",
];

/// The contract the platform implements and passreset calls: apart, so that passreset's own
/// servers do not advertise (through reflection) or count a service they do not serve.
const DIRECTORY_PROTOS: &[&str] = &["passreset/directory/v1/directory.proto"];

fn main() -> io::Result<()> {
    let protoc = protoc_bin_vendored::protoc_bin_path().map_err(io::Error::other)?;
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(io::Error::other)?);

    for (protos, descriptor) in [
        (PROTOS, "passreset_descriptor.bin"),
        (DIRECTORY_PROTOS, "passreset_directory_descriptor.bin"),
    ] {
        let mut prost_config = prost_build::Config::new();
        prost_config.protoc_executable(&protoc);
        tonic_prost_build::configure()
            .file_descriptor_set_path(out_dir.join(descriptor))
            .skip_debug(SECRET_BEARING.iter().copied())
            .compile_with_config(prost_config, protos, &["."])?;
    }
    for proto in PROTOS.iter().chain(DIRECTORY_PROTOS) {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
