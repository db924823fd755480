//! A JSON body extractor whose every rejection is a persona error, so malformed input gets the
//! surface's shape rather than axum's plain-text defaults.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request, rejection::BytesRejection},
    http::{StatusCode, header},
};
use serde::de::DeserializeOwned;

use super::PersonaError;
use crate::ApiError;

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
        if !is_json(&request) {
            return Err(ApiError::UnsupportedMediaType.into());
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                PersonaError(match rejection {
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
            })?;
        serde_json::from_slice(&bytes)
            .map(PersonaJson)
            .map_err(|error| ApiError::InvalidRequest(describe(&error)).into())
    }
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
