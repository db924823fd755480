//! Who may call what: the mail service's permission and the access each method needs
//! (`MAIL_GRPC_CALLERS`). A method named nowhere here is refused to every caller.

use std::net::SocketAddr;

use passreset_grpc_security::{AnonymousRefused, Callers, Policy};
use passreset_proto::mail::v1::mail_service_server;

/// The permissions a `MAIL_GRPC_CALLERS` entry may grant.
pub const PERMISSIONS: &[&str] = &["send"];

/// `(method, permissions any of which lets it through)`.
const METHODS: &[(&str, &[&str])] = &[("Enqueue", &["send"]), ("GetStatus", &["send"])];

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
        "MAIL_GRPC_CALLERS",
        "MAIL_GRPC_ALLOW_ANONYMOUS",
    )?
    .with_standard_services()
    .methods(mail_service_server::SERVICE_NAME, METHODS))
}
