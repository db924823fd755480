//! One template, one state per answer: what each page shows, rendered in the reader's language,
//! and the one place a flow's [`ApiError`] becomes a page.

use std::sync::LazyLock;

use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use minijinja::{Environment, context};

use super::texts::Language;
use crate::{ApiError, policy::PasswordBounds};

/// The templates, compiled once; they live beside the crate so they read as plain HTML. A
/// template that fails to compile is logged and its pages answer 500 (the render tests catch
/// it long before a deploy).
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

/// What a page shows. No `Debug`: a form holds the token.
pub(super) enum Page<'a> {
    /// The new password, twice; `token` rides along in a hidden field. `bounds` are the
    /// token service's policy, for the form's hints (none when it could not say).
    Form {
        token: &'a str,
        error: Option<String>,
        bounds: Option<PasswordBounds>,
    },
    /// The password was changed.
    Done,
    /// The link cannot be used (which problem, in words), and a form for a new one.
    TokenProblem(&'static str),
    /// The form that asks for a link, with what was wrong with the last try.
    Forgot { error: Option<&'static str> },
    /// The same answer for any address.
    ForgotSent,
    /// Nothing to do here now (rate limited, unavailable, refused): the reason only.
    Problem(&'static str),
}

/// Renders `page` with `status` in `language`.
pub(super) fn render(status: StatusCode, language: Language, page: Page<'_>) -> Response {
    let lang = language.code();
    let t = language.texts();
    let values = match page {
        Page::Form {
            token,
            error,
            bounds,
        } => {
            let min_length = bounds.map(|bounds| bounds.min_length);
            let max_length = bounds.map(|bounds| bounds.max_length);
            let length = |text: &str| min_length.map(|n| text.replace("{n}", &n.to_string()));
            context! {
                state => "form", token, error, lang, t, min_length, max_length,
                policy => length(t.policy).unwrap_or_else(|| t.policy_unknown.to_owned()),
                too_short => length(t.too_short),
            }
        }
        Page::Done => context! { state => "done", lang, t },
        Page::TokenProblem(problem) => context! { state => "token_problem", problem, lang, t },
        Page::Forgot { error } => context! { state => "forgot", error, lang, t },
        Page::ForgotSent => context! { state => "forgot_sent", lang, t },
        Page::Problem(problem) => context! { state => "problem", problem, lang, t },
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

/// The page for a failed flow: which problem, in the reader's words. A link that cannot be
/// used offers a new one.
pub(super) fn failure(language: Language, error: &ApiError) -> Response {
    let t = language.texts();
    let (status, page) = match error {
        ApiError::TokenUnknown => (StatusCode::FORBIDDEN, Page::TokenProblem(t.token_invalid)),
        ApiError::TokenExpired => (StatusCode::FORBIDDEN, Page::TokenProblem(t.token_expired)),
        ApiError::TokenSpent => (StatusCode::FORBIDDEN, Page::TokenProblem(t.token_used)),
        ApiError::RateLimited { .. } => {
            (StatusCode::TOO_MANY_REQUESTS, Page::Problem(t.rate_limited))
        }
        ApiError::TokenInUse => (StatusCode::CONFLICT, Page::Problem(t.token_in_use)),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Page::Problem(t.unavailable),
        ),
    };
    error.respond(render(status, language, page))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use axum::http::header;

    async fn html_of(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    const BOUNDS: PasswordBounds = PasswordBounds {
        min_length: 8,
        max_length: 64,
    };

    fn every_state() -> [Page<'static>; 6] {
        [
            Page::Form {
                token: "prt_x",
                error: Some("e".to_owned()),
                bounds: Some(BOUNDS),
            },
            Page::Done,
            Page::TokenProblem("p"),
            Page::Forgot { error: Some("e") },
            Page::ForgotSent,
            Page::Problem("u"),
        ]
    }

    #[tokio::test]
    async fn every_state_renders_in_every_language_without_external_urls() {
        for language in [Language::English, Language::Swedish, Language::Finnish] {
            for page in every_state() {
                let response = render(StatusCode::OK, language, page);
                assert_eq!(response.status(), StatusCode::OK, "the page did not render");
                let html = html_of(response).await;
                let lang = format!(r#"<html lang="{}">"#, language.code());
                assert!(html.contains(&lang), "{html}");
                assert!(html.contains(language.texts().title), "{html}");
                assert!(
                    !html.contains("http://") && !html.contains("https://") && !html.contains("//"),
                    "{html}"
                );
                assert!(
                    !html.contains("<script>") && !html.contains("style="),
                    "inline code the CSP would block: {html}"
                );
            }
        }
    }

    #[tokio::test]
    async fn every_input_has_a_label_and_errors_are_linked_and_announced() {
        for page in every_state() {
            let html = html_of(render(StatusCode::OK, Language::English, page)).await;
            for id in ["password", "confirm", "email"] {
                if html.contains(&format!(r#"id="{id}""#)) {
                    assert!(html.contains(&format!(r#"<label for="{id}">"#)), "{html}");
                }
            }
            if html.contains(r#"class="error""#) {
                assert!(html.contains(r#"role="alert""#), "{html}");
            }
        }
        let form = html_of(render(
            StatusCode::BAD_REQUEST,
            Language::English,
            Page::Form {
                token: "prt_x",
                error: Some("e".to_owned()),
                bounds: Some(BOUNDS),
            },
        ))
        .await;
        assert!(
            form.contains(r#"aria-describedby="policy feedback""#),
            "{form}"
        );
        assert!(form.contains(r#"aria-invalid="true""#), "{form}");
        let forgot = html_of(render(
            StatusCode::BAD_REQUEST,
            Language::English,
            Page::Forgot { error: Some("e") },
        ))
        .await;
        assert!(
            forgot.contains(r#"aria-describedby="email-error""#),
            "{forgot}"
        );
        assert!(forgot.contains(r#"id="email-error""#), "{forgot}");
    }

    #[tokio::test]
    async fn the_forms_length_hints_come_from_the_token_services_policy() {
        let page = |bounds| Page::Form {
            token: "prt_x",
            error: None,
            bounds,
        };
        let html = html_of(render(
            StatusCode::OK,
            Language::Swedish,
            page(Some(BOUNDS)),
        ))
        .await;
        assert!(html.contains(r#"minlength="8""#), "{html}");
        assert!(html.contains(r#"maxlength="64""#), "{html}");
        assert!(html.contains(r#"data-min-length="8""#), "{html}");
        assert!(html.contains("Minst 8 tecken."), "{html}");
        assert!(html.contains("använd minst 8 tecken"), "{html}");
        let html = html_of(render(StatusCode::OK, Language::English, page(None))).await;
        assert!(
            !html.contains("minlength=") && !html.contains("{n}"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn the_token_goes_into_the_form_escaped() {
        let html = html_of(render(
            StatusCode::OK,
            Language::English,
            Page::Form {
                token: "prt_<x>\"",
                error: None,
                bounds: None,
            },
        ))
        .await;
        assert!(html.contains("prt_&lt;x&gt;&quot;"), "{html}");
    }

    #[tokio::test]
    async fn each_token_problem_says_which_and_offers_a_new_link() {
        let t = Language::English.texts();
        for (error, words) in [
            (ApiError::TokenUnknown, t.token_invalid),
            (ApiError::TokenExpired, t.token_expired),
            (ApiError::TokenSpent, t.token_used),
        ] {
            let response = failure(Language::English, &error);
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
            let html = html_of(response).await;
            assert!(
                html.contains(words) && html.contains(r#"id="forgot-form""#),
                "{html}"
            );
        }
        let limited = failure(
            Language::English,
            &ApiError::RateLimited {
                retry_after: Duration::from_secs(30),
            },
        );
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()[header::RETRY_AFTER], "30");
        let down = failure(Language::Swedish, &ApiError::Timeout);
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            html_of(down)
                .await
                .contains(Language::Swedish.texts().unavailable)
        );
    }
}
