//! KSF Media's persona AccountApi, under `/v1`: forgot, check-token, reset. Requests and
//! errors follow persona's published `AccountApi` client exactly (its field names, and error
//! bodies of `http_code`, `http_status` and one named error).

mod error;
mod extract;

use axum::{Router, extract::State, http::StatusCode, routing::post};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    ApiError, AppState,
    client_ip::ClientIp,
    flows::{self, Caller, NewPassword},
    locale::AcceptLanguage,
};
pub(crate) use error::{PersonaError, PersonaErrorBody, PersonaErrorDetail};
use extract::PersonaJson;

const SURFACE: &str = "persona";

/// The persona routes, relative to `/v1`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/password/forgot", post(forgot))
        .route("/account/password/check-token", post(check_token))
        .route("/account/password/reset", post(reset))
}

/// `ForgotPasswordData`: where to send the reset link.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ForgotPasswordData {
    /// The account's email address.
    #[schema(example = "ada@example.com")]
    email: String,
}

/// `UpdatePasswordData`. Only `token` is required by the model; a reset without the password
/// and its confirmation is refused with a message saying so.
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

fn caller(ClientIp(ip): ClientIp, AcceptLanguage(accept_language): AcceptLanguage) -> Caller {
    Caller {
        ip,
        surface: SURFACE,
        api_key_name: None,
        accept_language,
    }
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
        (status = 400, description = "The body is malformed or the address is not valid", body = PersonaErrorBody),
    )
)]
pub(crate) async fn forgot(
    State(state): State<AppState>,
    client_ip: ClientIp,
    accept_language: AcceptLanguage,
    PersonaJson(body): PersonaJson<ForgotPasswordData>,
) -> Result<StatusCode, PersonaError> {
    let caller = caller(client_ip, accept_language);
    flows::taking_at_least(
        state.forgot_min_duration,
        flows::start_reset(&state.upstreams, &state.reset_url, &body.email, &caller),
    )
    .await?;
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
    request_body(content = String, content_type = "application/json", description = "The token, as a JSON string"),
    responses(
        (status = 204, description = "The token is valid"),
        (status = 400, description = "The body is not a JSON string", body = PersonaErrorBody),
        (status = 403, description = "The token is unknown (invalid_token), expired (expired_token) or used (used_token)", body = PersonaErrorBody),
    )
)]
pub(crate) async fn check_token(
    State(state): State<AppState>,
    client_ip: ClientIp,
    accept_language: AcceptLanguage,
    PersonaJson(token): PersonaJson<SecretString>,
) -> Result<StatusCode, PersonaError> {
    flows::check_token(
        &state.upstreams,
        &token,
        &caller(client_ip, accept_language),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reset a forgotten password with a token
///
/// The final step of the forgotten password reset procedure performs password reset with a
/// token obtained from the email message sent by the POST /password/forgot endpoint and the new
/// password and its confirmation. The token is spent only if the reset succeeds.
#[utoipa::path(
    post,
    path = "/account/password/reset",
    operation_id = "accountPasswordResetPost",
    tag = "Account",
    request_body(content = UpdatePasswordData, content_type = "application/json"),
    responses(
        (status = 204, description = "The password was changed"),
        (status = 400, description = "The body is malformed, the confirmation differs (invalid_request_body) or the password fails the policy (invalid_password)", body = PersonaErrorBody),
        (status = 403, description = "The token is unknown (invalid_token), expired (expired_token) or used (used_token)", body = PersonaErrorBody),
    )
)]
pub(crate) async fn reset(
    State(state): State<AppState>,
    client_ip: ClientIp,
    accept_language: AcceptLanguage,
    PersonaJson(body): PersonaJson<UpdatePasswordData>,
) -> Result<StatusCode, PersonaError> {
    let (Some(password), Some(confirmation)) = (body.password, body.confirm_password) else {
        return Err(ApiError::InvalidRequest(
            "password and confirmPassword are required".to_owned(),
        )
        .into());
    };
    if password.expose_secret() != confirmation.expose_secret() {
        return Err(ApiError::InvalidRequest(
            "password and confirmPassword do not match".to_owned(),
        )
        .into());
    }
    flows::complete_reset(
        &state.upstreams,
        &body.token,
        NewPassword::Chosen(password),
        &caller(client_ip, accept_language),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
