//! The reset flows, shared by every surface: each turns one REST call into its gRPC calls
//! (forgot: IssueToken then Enqueue; check: CheckToken; reset: Redeem, whose event brings the
//! notice). Surfaces parse and render; the flows decide. [`Resets`] holds what they need, and
//! is the sub-state (`State<Resets>`) the surfaces' handlers take.

use std::{sync::Arc, time::Duration};

use passreset_proto::{
    mail::v1::{self as mail, enqueue_request::Kind},
    token::v1::{self as token, issue_token_response::Outcome, redeem_request::Password},
};
use secrecy::{ExposeSecret as _, SecretString};

use crate::{
    ApiError, Upstreams,
    config::ResetUrl,
    policy::{PasswordBounds, PasswordProblem},
    requester::Requester,
};

/// What the reset flows need: cheap to clone, as axum clones a handler's state per request.
#[derive(Debug, Clone)]
pub struct Resets {
    /// The gRPC clients, behind an `Arc`: each client clone is a channel handle and a secret
    /// (an allocation), so a flow clones only the client it calls.
    pub upstreams: Arc<Upstreams>,
    /// Where reset links point.
    pub reset_url: Arc<ResetUrl>,
    /// The least time a reset request takes to answer (`GATEWAY_FORGOT_MIN_DURATION`).
    pub forgot_min_duration: Duration,
}

impl Resets {
    /// Starts a reset, answering no sooner than `forgot_min_duration` after the call began, so
    /// the timing says nothing about whether the address has an account.
    pub(crate) async fn start(&self, email: &str, requester: &Requester) -> Result<(), ApiError> {
        taking_at_least(self.forgot_min_duration, self.start_now(email, requester)).await
    }

    /// Starts a reset: a token and a link mail for a known address, an "unknown account" notice
    /// for any other. Both paths make the same calls, so the answer does not tell them apart.
    async fn start_now(&self, email: &str, requester: &Requester) -> Result<(), ApiError> {
        let issued = self
            .upstreams
            .tokens
            .clone()
            .issue_token(token::IssueTokenRequest {
                email: email.to_owned(),
                context: Some(requester.context()),
            })
            .await?
            .into_inner();

        let request = match issued.outcome {
            Some(Outcome::Issued(token)) => mail::EnqueueRequest {
                to: issued.email,
                locale: requester.mail_locale(token.locale),
                // One mail per token, however often this call is retried.
                idempotency_key: idempotency_key(&token.token),
                kind: Some(Kind::PasswordReset(mail::PasswordReset {
                    link: self.reset_url.link_for(&token.token),
                    // So a mail that can never be delivered revokes its token.
                    token: token.token.clone(),
                    expires_at_unix: token.expires_at_unix,
                    ttl_seconds: token.ttl_seconds,
                })),
            },
            Some(Outcome::NoAccount(_)) | None => mail::EnqueueRequest {
                to: issued.email,
                locale: requester.mail_locale(String::new()),
                idempotency_key: String::new(),
                kind: Some(Kind::UnknownAccount(mail::UnknownAccount {})),
            },
        };
        self.upstreams.mail.clone().enqueue(request).await?;
        Ok(())
    }

    /// Tells whether a token could be redeemed now, without spending it, and the bounds the new
    /// password must keep.
    pub(crate) async fn check_token(
        &self,
        token: &SecretString,
        requester: &Requester,
    ) -> Result<Option<PasswordBounds>, ApiError> {
        let checked = self
            .upstreams
            .tokens
            .clone()
            .check_token(token::CheckTokenRequest {
                token: token.expose_secret().to_owned(),
                context: Some(requester.context()),
            })
            .await?
            .into_inner();
        Ok(checked.password_policy.map(PasswordBounds::from))
    }

    /// Sets the password the user chose, once its confirmation is the same password: a typo is
    /// refused before any call, so it never reaches the token.
    pub(crate) async fn reset_to_chosen(
        &self,
        token: &SecretString,
        password: SecretString,
        confirmation: &SecretString,
        requester: &Requester,
    ) -> Result<(), ApiError> {
        if password.expose_secret() != confirmation.expose_secret() {
            return Err(ApiError::PasswordRefused(vec![PasswordProblem::Mismatch]));
        }
        let password = Password::NewPassword(password.expose_secret().to_owned());
        self.redeem(token, password, requester).await.map(drop)
    }

    /// Sets a strong password the token service generates, and returns it.
    pub(crate) async fn reset_to_generated(
        &self,
        token: &SecretString,
        requester: &Requester,
    ) -> Result<SecretString, ApiError> {
        let redeemed = self
            .redeem(token, Password::Generate(true), requester)
            .await?;
        // Asked to generate one, the service must have: an empty one is its fault.
        (!redeemed.generated_password.is_empty())
            .then(|| SecretString::from(redeemed.generated_password))
            .ok_or(ApiError::Internal)
    }

    /// Spends the token and sets `password`. The "password changed" notice follows from the token
    /// service's `password_changed` event (the mail service reads it), so it is sent once per reset
    /// whoever redeemed the token and whatever failed after the password was set.
    async fn redeem(
        &self,
        token: &SecretString,
        password: Password,
        requester: &Requester,
    ) -> Result<token::RedeemResponse, ApiError> {
        let redeemed = self
            .upstreams
            .tokens
            .clone()
            .redeem(token::RedeemRequest {
                token: token.expose_secret().to_owned(),
                password: Some(password),
                context: Some(requester.context()),
            })
            .await?
            .into_inner();
        tracing::info!(
            account_id = redeemed.account_id,
            surface = requester.surface.name(),
            "password reset completed"
        );
        Ok(redeemed)
    }
}

/// Runs `work` and answers no sooner than `floor` after it began, whatever the outcome: the
/// reset request's timing then says nothing about whether the address has an account.
async fn taking_at_least<T>(floor: Duration, work: impl Future<Output = T>) -> T {
    let deadline = tokio::time::Instant::now() + floor;
    let outcome = work.await;
    tokio::time::sleep_until(deadline).await;
    outcome
}

/// The mail's idempotency key for a token: a digest, so the key itself reveals nothing.
fn idempotency_key(token: &str) -> String {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::new()
        .chain_update(b"passreset password_reset mail\0")
        .chain_update(token.as_bytes())
        .finalize();
    hex::encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_reset_request_answers_no_sooner_than_the_floor_however_quick_the_work() {
        let started = tokio::time::Instant::now();
        let answer = taking_at_least(Duration::from_millis(100), async { 7 }).await;
        assert_eq!(answer, 7);
        assert_eq!(started.elapsed(), Duration::from_millis(100));

        let started = tokio::time::Instant::now();
        taking_at_least(Duration::from_millis(100), async {
            tokio::time::sleep(Duration::from_millis(250)).await;
        })
        .await;
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(250),
            "slow work is not delayed more"
        );
    }
}
