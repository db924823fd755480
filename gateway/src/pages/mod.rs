//! The reset pages the mail's link lands on: `GET /reset?token=` (check the token, ask for the
//! new password twice), `POST /reset` (set it), `GET /forgot` and `POST /forgot` (ask for a new
//! link). Plain HTML forms that work without JavaScript; `/assets/reset.js` only removes the
//! token from the address bar and gives feedback while typing. Localised (en, sv, fi) by
//! `Accept-Language`.
//!
//! They call the same flows as the persona API. The forms act only on a token the user holds
//! (a cross-site post can at most start a reset mail, as the public API allows anyone to);
//! still, a browser-declared cross-site post is refused.
//!
//! - `texts.rs`: the words, per language.

mod texts;

use std::sync::LazyLock;

use axum::{
    Form, Router,
    extract::{
        Query, State,
        rejection::{FormRejection, QueryRejection},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use minijinja::{Environment, context};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use tower_http::set_header::SetResponseHeaderLayer;

use self::texts::{Texts, for_language};
use crate::{
    ApiError, AppState,
    client_ip::ClientIp,
    flows::{self, Caller, NewPassword},
    locale::AcceptLanguage,
};

const SURFACE: &str = "page";
/// The shortest password the page suggests (the token service's policy is what decides).
const MIN_LENGTH: usize = 12;
/// Nothing but this origin: no third-party request can ever see the token.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("page.html", include_str!("../../pages/page.html")),
        (
            "forgot_form.html",
            include_str!("../../pages/forgot_form.html"),
        ),
    ] {
        if let Err(error) = env.add_template(name, source) {
            tracing::error!(%error, name, "a page template does not compile");
        }
    }
    env
});

/// The page routes, with their security headers.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/reset", get(reset_page).post(reset_submit))
        .route("/forgot", get(forgot_page).post(forgot_submit))
        .route("/assets/reset.css", get(stylesheet))
        .route("/assets/reset.js", get(script))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
}

/// What a page shows.
enum Page<'a> {
    Form {
        token: &'a str,
        error: Option<String>,
    },
    Done,
    TokenProblem(&'static str),
    Forgot {
        error: Option<&'static str>,
    },
    ForgotSent,
    Unavailable(&'static str),
}

fn render(status: StatusCode, language: &AcceptLanguage, page: Page<'_>) -> Response {
    let (lang, t): (&str, &Texts) = for_language(&language.0);
    let values = match page {
        Page::Form { token, error } => {
            context! { state => "form", token, error, lang, t, min_length => MIN_LENGTH }
        }
        Page::Done => context! { state => "done", lang, t },
        Page::TokenProblem(problem) => context! { state => "token_problem", problem, lang, t },
        Page::Forgot { error } => context! { state => "forgot", error, lang, t },
        Page::ForgotSent => context! { state => "forgot_sent", lang, t },
        Page::Unavailable(error) => context! { state => "unavailable", error, lang, t },
    };
    match TEMPLATES
        .get_template("page.html")
        .and_then(|template| template.render(values))
    {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "the reset page did not render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The page for a failed token step: which problem, in the reader's words.
fn token_failure(language: &AcceptLanguage, error: &ApiError) -> Response {
    let (_, t) = for_language(&language.0);
    match error {
        ApiError::TokenUnknown => render(
            StatusCode::FORBIDDEN,
            language,
            Page::TokenProblem(t.token_invalid),
        ),
        ApiError::TokenExpired => render(
            StatusCode::FORBIDDEN,
            language,
            Page::TokenProblem(t.token_expired),
        ),
        ApiError::TokenSpent => render(
            StatusCode::FORBIDDEN,
            language,
            Page::TokenProblem(t.token_used),
        ),
        ApiError::RateLimited { .. } => render(
            StatusCode::TOO_MANY_REQUESTS,
            language,
            Page::Unavailable(t.rate_limited),
        ),
        _ => render(
            StatusCode::SERVICE_UNAVAILABLE,
            language,
            Page::Unavailable(t.unavailable),
        ),
    }
}

fn caller(ip: ClientIp, language: &AcceptLanguage) -> Caller {
    Caller {
        ip: ip.0,
        surface: SURFACE,
        api_key_name: None,
        accept_language: language.0.clone(),
    }
}

/// A form post the browser says comes from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() == b"cross-site")
}

/// `?token=`: a secret, so no `Debug`.
#[derive(Deserialize)]
struct TokenQuery {
    token: Option<SecretString>,
}

/// `GET /reset?token=`: checks the token, then asks for the new password.
async fn reset_page(
    State(state): State<AppState>,
    ip: ClientIp,
    language: AcceptLanguage,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Response {
    let token = query
        .ok()
        .and_then(|Query(query)| query.token)
        .map(|token| token.expose_secret().trim().to_owned())
        .unwrap_or_default();
    if token.is_empty() {
        return token_failure(&language, &ApiError::TokenUnknown);
    }
    let secret = SecretString::from(token.clone());
    match flows::check_token(&state.upstreams, &secret, &caller(ip, &language)).await {
        Ok(()) => render(
            StatusCode::OK,
            &language,
            Page::Form {
                token: &token,
                error: None,
            },
        ),
        Err(error) => token_failure(&language, &error),
    }
}

#[derive(Deserialize)]
struct ResetForm {
    token: SecretString,
    password: SecretString,
    confirm_password: SecretString,
}

/// `POST /reset`: the new password, twice.
async fn reset_submit(
    State(state): State<AppState>,
    ip: ClientIp,
    language: AcceptLanguage,
    headers: HeaderMap,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Response {
    let (_, t) = for_language(&language.0);
    let Some(Form(form)) = form.ok().filter(|_| !cross_site(&headers)) else {
        return token_failure(&language, &ApiError::TokenUnknown);
    };
    let token = form.token.expose_secret();
    if form.password.expose_secret() != form.confirm_password.expose_secret() {
        let error = Some(t.mismatch.to_owned());
        return render(
            StatusCode::BAD_REQUEST,
            &language,
            Page::Form { token, error },
        );
    }
    let outcome = flows::complete_reset(
        &state.upstreams,
        &form.token,
        NewPassword::Chosen(form.password.clone()),
        &caller(ip, &language),
    )
    .await;
    match outcome {
        Ok(_) => render(StatusCode::OK, &language, Page::Done),
        // The policy's own words (English), after a lead-in in the reader's language.
        Err(ApiError::WeakPassword(reason)) => {
            let error = Some(format!("{} {reason}.", t.refused_password));
            render(
                StatusCode::BAD_REQUEST,
                &language,
                Page::Form { token, error },
            )
        }
        Err(error) => token_failure(&language, &error),
    }
}

/// `GET /forgot`: the form that asks for a link.
async fn forgot_page(language: AcceptLanguage) -> Response {
    render(StatusCode::OK, &language, Page::Forgot { error: None })
}

#[derive(Debug, Deserialize)]
struct ForgotForm {
    email: String,
}

/// `POST /forgot`: the same answer whether or not an account has the address.
async fn forgot_submit(
    State(state): State<AppState>,
    ip: ClientIp,
    language: AcceptLanguage,
    headers: HeaderMap,
    form: Result<Form<ForgotForm>, FormRejection>,
) -> Response {
    let (_, t) = for_language(&language.0);
    let Some(Form(form)) = form.ok().filter(|_| !cross_site(&headers)) else {
        return render(
            StatusCode::BAD_REQUEST,
            &language,
            Page::Forgot {
                error: Some(t.invalid_email),
            },
        );
    };
    let caller = caller(ip, &language);
    let outcome = flows::taking_at_least(
        state.forgot_min_duration,
        flows::start_reset(&state.upstreams, &state.reset_url, &form.email, &caller),
    )
    .await;
    match outcome {
        Ok(()) => render(StatusCode::OK, &language, Page::ForgotSent),
        Err(ApiError::InvalidEmail | ApiError::InvalidRequest(_)) => render(
            StatusCode::BAD_REQUEST,
            &language,
            Page::Forgot {
                error: Some(t.invalid_email),
            },
        ),
        Err(error) => token_failure(&language, &error),
    }
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../pages/reset.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../pages/reset.js"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn html(language: &str, page: Page<'_>) -> String {
        let response = render(StatusCode::OK, &AcceptLanguage(language.to_owned()), page);
        assert_eq!(response.status(), StatusCode::OK, "the page did not render");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn every_state_renders_in_every_language_without_external_urls() {
        for language in ["en", "sv-SE", "fi"] {
            for page in [
                Page::Form {
                    token: "prt_x",
                    error: Some("e".to_owned()),
                },
                Page::Done,
                Page::TokenProblem("p"),
                Page::Forgot { error: None },
                Page::ForgotSent,
                Page::Unavailable("u"),
            ] {
                let html = html(language, page).await;
                assert!(html.contains("<html lang="), "{html}");
                assert!(
                    !html.contains("http://") && !html.contains("https://"),
                    "{html}"
                );
            }
        }
    }

    #[tokio::test]
    async fn the_token_goes_into_the_form_escaped() {
        let html = html(
            "en",
            Page::Form {
                token: "prt_<x>\"",
                error: None,
            },
        )
        .await;
        assert!(html.contains("prt_&lt;x&gt;&quot;"), "{html}");
    }
}
