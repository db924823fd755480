//! Body extractors whose every rejection is a persona error, so malformed input gets the
//! surface's shape rather than axum's plain-text defaults: [`PersonaJson`] for the JSON models,
//! [`PersonaToken`] for check-token's body.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request, rejection::BytesRejection},
    http::{StatusCode, header},
};
use secrecy::SecretString;
use serde::de::DeserializeOwned;

use super::PersonaError;
use crate::ApiError;

/// The longest bare token accepted (ours are 47 characters; anything far longer is not one).
const MAX_BARE_TOKEN: usize = 512;

/// `Json<T>` for persona: accepts `application/json` with any parameters (the generated client
/// sends `application/json;charset=utf-8`) and `+json` types.
#[derive(Debug)]
pub(crate) struct PersonaJson<T>(pub T);

impl<S, T> FromRequest<S> for PersonaJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = PersonaError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_body(request, state).await?;
        serde_json::from_slice(&bytes)
            .map(PersonaJson)
            .map_err(|error| ApiError::InvalidRequest(describe(&error)).into())
    }
}

/// check-token's body: the token as a JSON string (`"prt_..."`), as the Python client sends
/// it, or bare (`prt_...`), as persona's JavaScript client sends it under the same
/// `Content-Type: application/json`. Anything else that is not JSON stays a 400.
#[derive(Debug)]
pub(crate) struct PersonaToken(pub SecretString);

impl<S: Send + Sync> FromRequest<S> for PersonaToken {
    type Rejection = PersonaError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_body(request, state).await?;
        match serde_json::from_slice::<String>(&bytes) {
            Ok(token) => Ok(Self(SecretString::from(token))),
            Err(error) if error.is_syntax() => bare_token(&bytes)
                .map(|token| Self(SecretString::from(token.to_owned())))
                .ok_or_else(|| ApiError::InvalidRequest(describe(&error)).into()),
            Err(error) => Err(ApiError::InvalidRequest(describe(&error)).into()),
        }
    }
}

/// The body as a bare token: nothing but a token's characters (base64url and the `prt_`
/// prefix's underscore), with at most surrounding white space.
fn bare_token(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    let is_token = !text.is_empty()
        && text.len() <= MAX_BARE_TOKEN
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
    is_token.then_some(text)
}

/// The body of a JSON request, or the persona error for a wrong type or an unreadable body.
async fn json_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, PersonaError> {
    if !is_json(&request) {
        return Err(ApiError::UnsupportedMediaType.into());
    }
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            PersonaError::from(match rejection {
                BytesRejection::FailedToBufferBody(failure)
                    if failure.status() == StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    ApiError::PayloadTooLarge
                }
                other => ApiError::InvalidRequest(format!(
                    "the request body cannot be read: {}",
                    other.body_text()
                )),
            })
        })
}

fn is_json(request: &Request) -> bool {
    let Some(content_type) = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// What is wrong with the body, without echoing any of its content (it may hold a password).
fn describe(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Eof => "the request body is incomplete JSON".to_owned(),
        Category::Syntax => format!(
            "the request body is not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ),
        Category::Io => "the request body cannot be read".to_owned(),
        Category::Data => {
            // serde's data errors may quote the offending value: keep only what the schema says.
            let text = error.to_string();
            let text = text.split(" at line ").next().unwrap_or(&text);
            if text.starts_with("missing field") || text.starts_with("unknown field") {
                format!("the request body does not match the schema: {text}")
            } else if let Some((_, expected)) = text.split_once(", expected ") {
                format!("the request body does not match the schema: expected {expected}")
            } else {
                "the request body does not match the schema".to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_token_is_only_a_tokens_characters() {
        assert_eq!(bare_token(b"prt_abc-DEF_123"), Some("prt_abc-DEF_123"));
        assert_eq!(bare_token(b" prt_abc\r\n"), Some("prt_abc"));
        assert_eq!(bare_token(b"{not json"), None);
        assert_eq!(bare_token(b"prt_a b"), None);
        assert_eq!(bare_token(b"prt_a\"b"), None);
        assert_eq!(bare_token(b""), None);
        assert_eq!(bare_token("prt_\u{e9}".as_bytes()), None);
        assert_eq!(bare_token(&[b'a'; MAX_BARE_TOKEN + 1]), None);
    }
}
