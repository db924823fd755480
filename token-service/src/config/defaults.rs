//! The settings' defaults, as `--help` shows them (a test checks that the two agree).

use std::time::Duration;

use passreset_grpc_security::TlsVariables;

use crate::limits::{Rate, RateSetting};

/// Default Redis, for a laptop.
pub const DEFAULT_REDIS_URL: &str = passreset_redis::DEFAULT_URL;
/// Default key prefix, shared with mail-service so one Redis holds all of passreset.
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "passreset:";
/// Default token lifetime: long enough to find the mail, short enough to limit a leak.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(30 * 60);
/// Default limits, as in `--help` (a test checks that the two agree).
pub(super) const DEFAULT_LIMIT_PER_ADDRESS: RateSetting = RateSetting(Some(Rate {
    count: 5,
    period: Duration::from_secs(60 * 60),
}));
pub(super) const DEFAULT_LIMIT_PER_IP: RateSetting = RateSetting(Some(Rate {
    count: 100,
    period: Duration::from_secs(15 * 60),
}));
pub(super) const DEFAULT_LIMIT_FAILURES_PER_IP: RateSetting = RateSetting(Some(Rate {
    count: 50,
    period: Duration::from_secs(15 * 60),
}));
/// A login form's usual budget: a user who mistypes a few times is never held up, a guesser
/// gets 40 tries an hour per account.
pub(super) const DEFAULT_LIMIT_VERIFY_PER_ADDRESS: RateSetting = RateSetting(Some(Rate {
    count: 10,
    period: Duration::from_secs(15 * 60),
}));
pub(super) const DEFAULT_LIMIT_VERIFY_PER_IP: RateSetting = RateSetting(Some(Rate {
    count: 100,
    period: Duration::from_secs(15 * 60),
}));
/// Default number of callers that may wait for a hashing slot.
pub const DEFAULT_HASH_QUEUE: usize = 32;
/// Default longest wait for a hashing slot: well inside the gateway's 5 s deadline.
pub const DEFAULT_HASH_WAIT: Duration = Duration::from_secs(2);
/// The variables of the TLS files for a `grpcs://` directory, for error lines.
pub(super) const DIRECTORY_TLS_VARIABLES: TlsVariables = TlsVariables {
    cert: "TOKEN_DIRECTORY_TLS_CERT",
    key: "TOKEN_DIRECTORY_TLS_KEY",
    ca: "TOKEN_DIRECTORY_TLS_CA",
};

/// Default deadline of a call to the platform's directory: well inside the gateway's 5 s.
pub const DEFAULT_DIRECTORY_TIMEOUT: Duration = Duration::from_secs(2);

/// The variables of the gRPC server's TLS files, for error lines.
pub(super) const TLS_VARIABLES: TlsVariables = TlsVariables {
    cert: "TOKEN_GRPC_TLS_CERT",
    key: "TOKEN_GRPC_TLS_KEY",
    ca: "TOKEN_GRPC_TLS_CLIENT_CA",
};
/// Default minimum password length, in characters.
pub const DEFAULT_PASSWORD_MIN_LENGTH: usize = 12;
