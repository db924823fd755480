//! The reset pages the mail's link lands on: `GET /reset?token=` (check the token, ask for the
//! new password twice), `POST /reset` (set it), `GET /forgot` and `POST /forgot` (ask for a new
//! link). Plain HTML forms that work without JavaScript, calling the same flows as the persona
//! API; `/assets/reset.js` only takes the token out of the address bar and says what is wrong
//! with the new password while it is typed. English, Swedish and Finnish by `Accept-Language`.
//!
//! The token never goes anywhere else: no external asset or request (the CSP allows this
//! origin only), no referrer, nothing cached, and the token is in no log line or metric label.
//!
//! - `handlers.rs`: the routes' handlers;
//! - `render.rs`: the page states, the template, and flow errors as pages;
//! - `guard.rs`: why the forms need no CSRF token, and the cross-site check they get instead;
//! - `texts.rs`: the page's words, per language.
//!
//! The templates, stylesheet and script live in `gateway/pages/`.

mod guard;
mod handlers;
mod render;
mod texts;

#[cfg(test)]
mod tests;

use axum::{
    Extension, Router,
    http::{HeaderValue, header},
    response::IntoResponse,
    routing::get,
};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{ApiError, AppState, InFlight, locale::AcceptLanguage, requester::Surface};

/// This origin only: no third-party request can ever see the token, no inline code runs, the
/// forms post nowhere else, and no other site may frame the page.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The page routes, with their security headers (`Cache-Control` and `Referrer-Policy` come
/// from the router, for every route).
/// Under `in_flight`'s limit, whose 503 page gets the same headers.
pub(crate) fn routes(in_flight: &InFlight) -> Router<AppState> {
    let pages = Router::new()
        .route(
            "/reset",
            get(handlers::reset_page).post(handlers::reset_submit),
        )
        .route(
            "/forgot",
            get(handlers::forgot_page).post(handlers::forgot_submit),
        )
        .route("/assets/reset.css", get(stylesheet))
        .route("/assets/reset.js", get(script))
        .layer(Extension(Surface::Page));
    in_flight
        .limit(pages, |error: ApiError, language: AcceptLanguage| {
            render::failure(texts::Language::of_tag(&language.0), &error)
        })
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
