//! The `VerifyPassword` flow, for login services: the limits first, then the directory's
//! verification, so a refused guess costs no hash. It decides; `grpc/` translates and
//! audits.

use secrecy::SecretString;

use crate::{
    Config, Error,
    directory::Users,
    limits::{LimitStore, Refusal, VerifyLimits},
};

/// Verifies passwords under the verify limits.
#[derive(Clone, Debug)]
pub(crate) struct Verifier {
    users: Users,
    limits: VerifyLimits,
}

/// How a verification ended.
#[derive(Debug)]
pub(crate) enum Verified {
    /// The password is that of the account with this id.
    Valid(String),
    /// A wrong password, or no such account: the caller cannot tell which.
    Invalid,
    /// Refused by a limit before anything was hashed.
    Limited(Refusal),
}

impl Verifier {
    /// The flow for `config`'s limits, over `users` and `limits`.
    pub(crate) fn new(
        config: &Config,
        users: Users,
        limits: std::sync::Arc<dyn LimitStore>,
    ) -> Self {
        Self {
            users,
            limits: VerifyLimits::new(
                limits,
                config.limit_verify_per_address,
                config.limit_verify_per_ip,
                config.limit_ipv6_prefix,
            ),
        }
    }

    /// Whether `password` is the password of `typed_email`'s account, asked from `client_ip`
    /// (empty: not limited per IP).
    pub(crate) async fn verify(
        &self,
        typed_email: &str,
        password: SecretString,
        client_ip: &str,
    ) -> Result<Verified, Error> {
        if let Err(refusal) = self.limits.admit(typed_email, client_ip).await? {
            return Ok(Verified::Limited(refusal));
        }
        Ok(match self.users.verify(typed_email, password).await? {
            Some(account) => Verified::Valid(account),
            None => Verified::Invalid,
        })
    }
}
