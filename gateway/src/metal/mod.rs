//! Equinix Metal's PasswordResetTokensApi, under `/metal/v1`: `POST /reset-password?email=`
//! (authorised by an API key in `X-Auth-Token`) starts a reset; `DELETE /reset-password` (the
//! reset token itself in `X-Auth-Token`) spends it and returns a generated password.

mod error;

use axum::{
    Extension, Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    ApiError, AppState,
    api_keys::ApiKeys,
    flows::Resets,
    requester::{Requester, Surface},
};
pub(crate) use error::{MetalError, MetalErrorBody};

const AUTH_HEADER: &str = "x-auth-token";

/// The Metal routes, relative to `/metal/v1`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/reset-password",
            post(create_password_reset_token).delete(reset_password),
        )
        .layer(Extension(Surface::Metal))
}

/// The query of `POST /reset-password`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CreateTokenQuery {
    /// Email of user to create password reset token
    email: Option<String>,
}

/// `NewPassword`: the generated password, shown once.
#[derive(Serialize, ToSchema)]
#[schema(as = NewPassword)]
pub(crate) struct NewPasswordBody {
    /// The account's new password.
    new_password: String,
}

fn auth_token(headers: &HeaderMap) -> Option<&[u8]> {
    headers
        .get(AUTH_HEADER)
        .map(|value| value.as_bytes())
        .filter(|value| !value.is_empty())
}

/// Create a password reset token
///
/// Creates a password reset token and mails its link to the address, if an account has it.
/// The answer is the same whether or not one does.
#[utoipa::path(
    post,
    path = "/reset-password",
    operation_id = "createPasswordResetToken",
    tag = "PasswordResetTokens",
    params(CreateTokenQuery),
    security(("x_auth_token" = [])),
    responses(
        (status = 201, description = "created"),
        (status = 401, description = "unauthorized: no or a wrong API key", body = MetalErrorBody),
        (status = 422, description = "unprocessable entity: a missing or malformed email", body = MetalErrorBody),
    )
)]
pub(crate) async fn create_password_reset_token(
    State(resets): State<Resets>,
    State(api_keys): State<Arc<ApiKeys>>,
    requester: Requester,
    headers: HeaderMap,
    query: Result<Query<CreateTokenQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<StatusCode, MetalError> {
    let key_name = auth_token(&headers)
        .and_then(|presented| api_keys.authenticate(presented))
        .ok_or(MetalError::Unauthorized(
            "a valid API key is required in X-Auth-Token",
        ))?
        .to_owned();
    let email = query
        .ok()
        .and_then(|Query(query)| query.email)
        .filter(|email| !email.trim().is_empty())
        .ok_or_else(|| {
            ApiError::InvalidRequest("the email query parameter is required".to_owned())
        })?;
    let requester = requester.authorised_by(key_name);
    resets.start(&email, &requester).await?;
    Ok(StatusCode::CREATED)
}

/// Reset current user password
///
/// Spends the reset token sent in `X-Auth-Token`, sets a strong generated password and returns
/// it once.
#[utoipa::path(
    delete,
    path = "/reset-password",
    operation_id = "resetPassword",
    tag = "PasswordResetTokens",
    security(("x_auth_token" = [])),
    responses(
        (status = 201, description = "ok", body = NewPasswordBody),
        (status = 401, description = "unauthorized: a missing, unknown, expired or used reset token", body = MetalErrorBody),
        (status = 422, description = "unprocessable entity", body = MetalErrorBody),
    )
)]
pub(crate) async fn reset_password(
    State(resets): State<Resets>,
    requester: Requester,
    headers: HeaderMap,
) -> Result<Response, MetalError> {
    let token = auth_token(&headers)
        .and_then(|value| std::str::from_utf8(value).ok())
        .map(|token| SecretString::from(token.trim().to_owned()))
        .ok_or(MetalError::Unauthorized(
            "the reset token is required in X-Auth-Token",
        ))?;
    let generated = resets.reset_to_generated(&token, &requester).await?;
    let body = NewPasswordBody {
        new_password: generated.expose_secret().to_owned(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
