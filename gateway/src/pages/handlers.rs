//! The page routes' handlers: parse the query or form, call the same flows as the persona API,
//! render the outcome. Tokens and passwords stay in [`SecretString`]s and reach no log line.

use axum::{
    Form,
    extract::{
        Query, State,
        rejection::{FormRejection, QueryRejection},
    },
    http::{HeaderMap, StatusCode},
    response::Response,
};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::{
    guard::cross_site,
    render::{Page, failure, render},
    texts::Language,
};
use crate::{
    ApiError, flows::Resets, locale::AcceptLanguage, policy::PasswordProblem, requester::Requester,
};

/// `?token=`: a secret, so no `Debug`.
#[derive(Deserialize)]
pub(super) struct TokenQuery {
    token: Option<SecretString>,
}

/// `GET /reset?token=`: checks the token (without spending it), then asks for the new
/// password; a token that cannot be used gets a form for a new link instead.
pub(super) async fn reset_page(
    State(resets): State<Resets>,
    requester: Requester,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Response {
    let language = Language::of_tag(&requester.accept_language.0);
    let token = query
        .ok()
        .and_then(|Query(query)| query.token)
        .map(|token| SecretString::from(token.expose_secret().trim()))
        .filter(|token| !token.expose_secret().is_empty());
    let Some(token) = token else {
        return failure(language, &ApiError::TokenUnknown);
    };
    match resets.check_token(&token, &requester).await {
        Ok(bounds) => render(
            StatusCode::OK,
            language,
            Page::Form {
                token: token.expose_secret(),
                error: None,
                bounds,
            },
        ),
        Err(error) => failure(language, &error),
    }
}

/// The reset form's fields; secrets, so no `Debug`.
#[derive(Deserialize)]
pub(super) struct ResetForm {
    token: SecretString,
    password: SecretString,
    confirm_password: SecretString,
}

/// `POST /reset`: the new password, twice. A mismatch or a password the policy refuses shows
/// the form again with the reason, and the token stays usable.
pub(super) async fn reset_submit(
    State(resets): State<Resets>,
    requester: Requester,
    headers: HeaderMap,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Response {
    let language = Language::of_tag(&requester.accept_language.0);
    let t = language.texts();
    if cross_site(&headers) {
        tracing::warn!(form = "reset", "cross-site form post refused");
        return render(StatusCode::FORBIDDEN, language, Page::Problem(t.cross_site));
    }
    // Without all three fields there is no token to act on: the link is as good as broken.
    let Ok(Form(form)) = form else {
        return failure(language, &ApiError::TokenUnknown);
    };
    let outcome = resets
        .reset_to_chosen(
            &form.token,
            form.password,
            &form.confirm_password,
            &requester,
        )
        .await;
    match outcome {
        Ok(()) => render(StatusCode::OK, language, Page::Done),
        Err(ApiError::PasswordRefused(problems)) => {
            // The form again, with the policy's bounds as the token service states them now.
            let bounds = resets
                .check_token(&form.token, &requester)
                .await
                .ok()
                .flatten();
            render(
                StatusCode::BAD_REQUEST,
                language,
                Page::Form {
                    token: form.token.expose_secret(),
                    error: Some(described(&problems, language)),
                    bounds,
                },
            )
        }
        Err(error) => failure(language, &error),
    }
}

/// Every problem with a new password, as sentences in `language`.
fn described(problems: &[PasswordProblem], language: Language) -> String {
    let sentences: Vec<String> = problems
        .iter()
        .map(|problem| problem.describe(language))
        .collect();
    sentences.join(" ")
}

/// `GET /forgot`: the form that asks for a link.
pub(super) async fn forgot_page(accept_language: AcceptLanguage) -> Response {
    let language = Language::of_tag(&accept_language.0);
    render(StatusCode::OK, language, Page::Forgot { error: None })
}

/// The forgot form's one field.
#[derive(Debug, Deserialize)]
pub(super) struct ForgotForm {
    email: String,
}

/// `POST /forgot`: the same answer, taking as long, whether or not an account has the address.
pub(super) async fn forgot_submit(
    State(resets): State<Resets>,
    requester: Requester,
    headers: HeaderMap,
    form: Result<Form<ForgotForm>, FormRejection>,
) -> Response {
    let language = Language::of_tag(&requester.accept_language.0);
    let t = language.texts();
    let refused = |status, error| render(status, language, Page::Forgot { error: Some(error) });
    if cross_site(&headers) {
        tracing::warn!(form = "forgot", "cross-site form post refused");
        return refused(StatusCode::FORBIDDEN, t.cross_site);
    }
    let Ok(Form(form)) = form else {
        return refused(StatusCode::BAD_REQUEST, t.invalid_email);
    };
    let outcome = resets.start(&form.email, &requester).await;
    match outcome {
        Ok(()) => render(StatusCode::OK, language, Page::ForgotSent),
        Err(ApiError::InvalidEmail | ApiError::InvalidRequest(_)) => {
            refused(StatusCode::BAD_REQUEST, t.invalid_email)
        }
        Err(error) => failure(language, &error),
    }
}
