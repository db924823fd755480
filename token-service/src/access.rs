//! Who may call what: the token service's permissions and the access each method needs
//! (`TOKEN_GRPC_CALLERS`). A method named nowhere here is refused to every caller.

use std::net::SocketAddr;

use passreset_grpc_security::{AnonymousRefused, Callers, Policy};
use passreset_proto::token::v1::{account_directory_server, token_service_server};

/// The permissions a `TOKEN_GRPC_CALLERS` entry may grant.
pub const PERMISSIONS: &[&str] = &["reset", "revoke", "verify", "accounts"];

/// `(method, permissions any of which lets it through)`, per service.
const TOKEN_SERVICE: &[(&str, &[&str])] = &[
    ("IssueToken", &["reset"]),
    ("CheckToken", &["reset"]),
    ("Redeem", &["reset"]),
    ("RevokeToken", &["reset", "revoke"]),
];
const ACCOUNT_DIRECTORY: &[(&str, &[&str])] = &[
    ("UpsertAccount", &["accounts"]),
    ("GetAccount", &["accounts"]),
    ("ListAccounts", &["accounts"]),
    ("VerifyPassword", &["verify"]),
];

/// The policy of a server listening on `addr`, or why it may not start.
pub(crate) fn policy(
    callers: Callers,
    addr: SocketAddr,
    allow_anonymous: bool,
) -> Result<Policy, AnonymousRefused> {
    Ok(Policy::for_listener(
        callers,
        addr,
        allow_anonymous,
        "TOKEN_GRPC_CALLERS",
        "TOKEN_GRPC_ALLOW_ANONYMOUS",
    )?
    .with_standard_services()
    .methods(token_service_server::SERVICE_NAME, TOKEN_SERVICE)
    .methods(account_directory_server::SERVICE_NAME, ACCOUNT_DIRECTORY))
}
