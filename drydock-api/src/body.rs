//! Request bodies: size limit, content type, JSON.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Reads at most `limit` bytes of `body` (413 beyond).
pub(crate) async fn read(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        // `to_bytes` reports an over-long body as a length-limit error somewhere in its chain.
        let mut src: Option<&dyn std::error::Error> = Some(&e);
        while let Some(s) = src {
            if s.to_string().contains("length limit") {
                return ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body larger than {limit} bytes"),
                );
            }
            src = s.source();
        }
        ApiError::bad_request(format!("cannot read the request body: {e}"))
    })
}

/// Parses a JSON body: `None` when empty; 400 when the content type is not JSON or the JSON is
/// malformed or of the wrong shape (the message says where).
pub(crate) fn json<T: DeserializeOwned>(
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<Option<T>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" {
        let shown = if ctype.is_empty() { "none" } else { ctype };
        return Err(ApiError::bad_request(format!(
            "the request body must be application/json (content type: {shown})"
        )));
    }
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// A JSON response body (`application/json`).
#[derive(Debug)]
pub(crate) struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot serialise the response: {e}"),
            )
                .into_response(),
        }
    }
}
