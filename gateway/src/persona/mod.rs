//! KSF Media's persona AccountApi, under `/v1`: forgot, check-token, reset. Requests, statuses
//! and error bodies follow persona's published OpenAPI document (1.3.0) and the clients
//! generated from it: 204, or 400 / 415 in persona's shape (`error.rs`).

mod error;
pub(crate) mod error_body;
mod extract;

use axum::{Extension, Router, extract::State, http::StatusCode, routing::post};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    AppState,
    flows::Resets,
    requester::{Requester, Surface},
};
pub(crate) use error::PersonaError;
use error_body::PersonaBadRequest;
use extract::{PersonaJson, PersonaToken};

/// The persona routes, relative to `/v1`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/password/forgot", post(forgot))
        .route("/account/password/check-token", post(check_token))
        .route("/account/password/reset", post(reset))
        .layer(Extension(Surface::Persona))
}

/// `ForgotPasswordData`: where to send the reset link.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ForgotPasswordData {
    /// The account's email address.
    #[schema(example = "ada@example.com")]
    email: String,
}

/// `UpdatePasswordData`. Only `token` is required: without `password` or `confirmPassword`
/// the call is a mere token check, as persona documents.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct UpdatePasswordData {
    /// The token from the reset link.
    #[schema(value_type = String)]
    token: SecretString,
    /// The new password.
    #[schema(value_type = String)]
    password: Option<SecretString>,
    /// The new password again; must equal `password`.
    #[serde(rename = "confirmPassword")]
    #[schema(value_type = String)]
    confirm_password: Option<SecretString>,
}

/// Request password reset link
///
/// This is the starting point of the forgotten password recovery process. It sends a password
/// reset link with a password reset token to the given user's email address if such user and
/// email address exist. The answer is the same whether or not they do.
#[utoipa::path(
    post,
    path = "/account/password/forgot",
    operation_id = "accountPasswordForgotPost",
    tag = "Account",
    request_body(content = ForgotPasswordData, content_type = "application/json"),
    responses(
        (status = 204, description = "The request was accepted; a link is mailed if the address has an account"),
        (status = 400, description = "Invalid body: malformed, or the address is not valid (invalid_email)", body = PersonaBadRequest),
    )
)]
pub(crate) async fn forgot(
    State(resets): State<Resets>,
    requester: Requester,
    PersonaJson(body): PersonaJson<ForgotPasswordData>,
) -> Result<StatusCode, PersonaError> {
    let language = requester.accept_language.language();
    resets
        .start(&body.email, &requester)
        .await
        .map_err(|error| PersonaError::new(error, language))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Validate password reset token
///
/// The second step in the forgotten password reset procedure is to ensure that the password
/// reset token is still valid. Each token can be used at most once and it is valid for a
/// limited duration. Checking never spends the token.
#[utoipa::path(
    post,
    path = "/account/password/check-token",
    operation_id = "accountPasswordCheckTokenPost",
    tag = "Account",
    request_body(content = String, content_type = "application/json", description = "The token, as a JSON string (a bare token, unquoted, is accepted too)"),
    responses(
        (status = 204, description = "The token is valid"),
        (status = 400, description = "Invalid body, or the token is unknown (invalid_token), expired (expired_token) or used (used_token)", body = PersonaBadRequest),
    )
)]
pub(crate) async fn check_token(
    State(resets): State<Resets>,
    requester: Requester,
    PersonaToken(token): PersonaToken,
) -> Result<StatusCode, PersonaError> {
    let language = requester.accept_language.language();
    resets
        .check_token(&token, &requester)
        .await
        .map_err(|error| PersonaError::new(error, language))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reset a forgotten password with a token
///
/// The final step of the forgotten password reset procedure performs password reset with a
/// token obtained from the email message sent by the POST /password/forgot endpoint and the new
/// password and its confirmation. The token is spent only if the reset succeeds. If `password`
/// or `confirmPassword` are missing, then this endpoint performs a mere token validation like
/// the `/password/check-token` endpoint: it never spends the token nor touches the password.
#[utoipa::path(
    post,
    path = "/account/password/reset",
    operation_id = "accountPasswordResetPost",
    tag = "Account",
    request_body(content = UpdatePasswordData, content_type = "application/json"),
    responses(
        (status = 204, description = "The password was changed (or, without a password, the token is valid)"),
        (status = 400, description = "Invalid body; the confirmation differs (password_mismatch) or the password fails the policy (invalid_password), both with invalid_form_fields; the token is unknown (invalid_token), expired (expired_token), used (used_token) or being redeemed right now (token_in_use, with Retry-After)", body = PersonaBadRequest),
    )
)]
pub(crate) async fn reset(
    State(resets): State<Resets>,
    requester: Requester,
    PersonaJson(body): PersonaJson<UpdatePasswordData>,
) -> Result<StatusCode, PersonaError> {
    let language = requester.accept_language.language();
    let outcome = match (body.password, body.confirm_password) {
        (Some(password), Some(confirmation)) => {
            resets
                .reset_to_chosen(&body.token, password, &confirmation, &requester)
                .await
        }
        // persona: without the new password, a mere token check.
        _ => resets.check_token(&body.token, &requester).await.map(drop),
    };
    outcome.map_err(|error| PersonaError::new(error, language))?;
    Ok(StatusCode::NO_CONTENT)
}
