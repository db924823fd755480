//! Cross-site form posts.
//!
//! The page's forms need no CSRF token: `POST /reset` acts only on a reset token the poster
//! already holds (a forged post must carry the victim's token, and whoever has it can use the
//! JSON API just as well), and `POST /forgot` can at most start a reset mail to an address,
//! which the public API lets anyone do. Still, a post the browser itself declares cross-site is
//! refused, so another site cannot drive the forms in a visitor's name (and spend that
//! visitor's rate limits).

use axum::http::{HeaderMap, header};

/// Whether the browser says this post comes from another site.
///
/// `Sec-Fetch-Site` decides where present (every current browser sends it, and a proxy that
/// rewrites `Host` does not disturb it): only `cross-site` is refused; `same-site` (a sibling
/// subdomain) and `none` (typed or bookmarked) are not. Without it, an `Origin` that names
/// another host than `Host` is refused. `Origin: null` says nothing: under
/// `Referrer-Policy: no-referrer`, which every response here carries, browsers send `null` for
/// the page's own form posts.
pub(crate) fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes().eq_ignore_ascii_case(b"cross-site");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or_default().trim();
    if origin == "null" {
        return false;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or_default();
    !authority_of(origin).is_some_and(|authority| authority.eq_ignore_ascii_case(host.trim()))
}

/// `host[:port]` of a serialized origin (`scheme://host[:port]`), as a `Host` header has it.
fn authority_of(origin: &str) -> Option<&str> {
    let (_, authority) = origin.split_once("://")?;
    (!authority.is_empty() && !authority.contains(['/', '?', '#', '@'])).then_some(authority)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn sec_fetch_site_decides_where_the_browser_sends_it() {
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        for site in ["same-origin", "same-site", "none"] {
            assert!(!cross_site(&headers(&[("sec-fetch-site", site)])), "{site}");
        }
        // A proxy rewrote Host; the browser's own verdict still counts.
        assert!(!cross_site(&headers(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "https://reset.example.com"),
            ("host", "gateway.internal:8080"),
        ])));
    }

    #[test]
    fn without_sec_fetch_site_an_origin_of_another_host_is_refused() {
        let host = ("host", "reset.example.com");
        assert!(cross_site(&headers(&[
            ("origin", "https://evil.example"),
            host
        ])));
        assert!(cross_site(&headers(&[
            ("origin", "https://reset.example.com:8443"),
            host
        ])));
        assert!(cross_site(&headers(&[("origin", "garbage"), host])));
        assert!(!cross_site(&headers(&[
            ("origin", "https://Reset.example.com"),
            host
        ])));
        assert!(!cross_site(&headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ])));
    }

    #[test]
    fn a_null_or_missing_origin_is_not_refused() {
        assert!(!cross_site(&headers(&[
            ("origin", "null"),
            ("host", "reset.example.com")
        ])));
        assert!(!cross_site(&headers(&[("host", "reset.example.com")])));
        assert!(!cross_site(&HeaderMap::new()));
    }
}
