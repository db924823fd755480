//! `Debug` for the messages that carry secrets: every field but the secret is shown.

use std::fmt;

use crate::{directory::v1 as directory, mail::v1 as mail, token::v1 as token};

const REDACTED: &str = "[redacted]";

impl fmt::Debug for token::IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &REDACTED)
            .field("account_id", &self.account_id)
            .field("expires_at_unix", &self.expires_at_unix)
            .field("ttl_seconds", &self.ttl_seconds)
            .field("locale", &self.locale)
            .finish()
    }
}

impl fmt::Debug for token::CheckTokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckTokenRequest")
            .field("token", &REDACTED)
            .field("context", &self.context)
            .finish()
    }
}

impl fmt::Debug for token::redeem_request::Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NewPassword(_) => f.debug_tuple("NewPassword").field(&REDACTED).finish(),
            Self::Generate(generate) => f.debug_tuple("Generate").field(generate).finish(),
        }
    }
}

impl fmt::Debug for token::RedeemRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedeemRequest")
            .field("token", &REDACTED)
            .field("password", &self.password)
            .field("context", &self.context)
            .finish()
    }
}

impl fmt::Debug for token::RedeemResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedeemResponse")
            .field("account_id", &self.account_id)
            .field("email", &self.email)
            .field("locale", &self.locale)
            .field("generated_password", &REDACTED)
            .field("changed_at_unix", &self.changed_at_unix)
            .finish()
    }
}

impl fmt::Debug for token::UpsertAccountRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpsertAccountRequest")
            .field("email", &self.email)
            .field("password", &REDACTED)
            .field("locale", &self.locale)
            .finish()
    }
}

impl fmt::Debug for token::VerifyPasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyPasswordRequest")
            .field("email", &self.email)
            .field("password", &REDACTED)
            .field("context", &self.context)
            .finish()
    }
}

impl fmt::Debug for token::RevokeTokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevokeTokenRequest")
            .field("token", &REDACTED)
            .field("context", &self.context)
            .finish()
    }
}

impl fmt::Debug for mail::PasswordReset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordReset")
            .field("link", &REDACTED)
            .field("token", &REDACTED)
            .field("expires_at_unix", &self.expires_at_unix)
            .field("ttl_seconds", &self.ttl_seconds)
            .finish()
    }
}

impl fmt::Debug for directory::SetPasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetPasswordRequest")
            .field("account_id", &self.account_id)
            .field("password", &REDACTED)
            .field("idempotency_key", &REDACTED)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_of_secret_bearing_messages_hides_the_secret() {
        let secret = "prt_s3cr3t-value";
        let printed = [
            format!(
                "{:?}",
                token::RevokeTokenRequest {
                    token: secret.to_owned(),
                    context: None,
                }
            ),
            format!(
                "{:?}",
                token::IssuedToken {
                    token: secret.into(),
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                token::CheckTokenRequest {
                    token: secret.into(),
                    context: None
                }
            ),
            format!(
                "{:?}",
                token::RedeemRequest {
                    token: secret.into(),
                    password: Some(token::redeem_request::Password::NewPassword(secret.into())),
                    context: None,
                }
            ),
            format!(
                "{:?}",
                token::RedeemResponse {
                    generated_password: secret.into(),
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                token::UpsertAccountRequest {
                    password: secret.into(),
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                token::VerifyPasswordRequest {
                    password: secret.into(),
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                mail::EnqueueRequest {
                    kind: Some(mail::enqueue_request::Kind::PasswordReset(
                        mail::PasswordReset {
                            link: format!("https://example.test/reset?token={secret}"),
                            token: secret.to_owned(),
                            ..Default::default()
                        }
                    )),
                    ..Default::default()
                }
            ),
        ];
        for line in printed {
            assert!(!line.contains(secret), "secret printed: {line}");
            assert!(line.contains(REDACTED), "nothing redacted: {line}");
        }
    }

    #[test]
    fn a_directory_set_password_request_prints_neither_password_nor_key() {
        let shown = format!(
            "{:?}",
            directory::SetPasswordRequest {
                account_id: "u-1".into(),
                password: "hunter2-hunter2".into(),
                idempotency_key: "k3y-k3y".into(),
            }
        );
        assert!(shown.contains("u-1"), "{shown}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("k3y"),
            "{shown}"
        );
    }
}
