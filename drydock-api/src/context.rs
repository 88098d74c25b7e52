//! The request context: request id, external context marker, end user, and a tracing span
//! per request.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use uuid::Uuid;

/// Response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-drydock-req";

/// What the API knows of a request beyond its body (a request extension).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestContext {
    /// This request's id (sent back as `X-Drydock-Req`).
    pub request_id: Uuid,
    /// The caller's `X-Context-Marker`, kept only when it is a UUID (as in the reference).
    pub context_marker: Option<Uuid>,
    /// The caller's `X-End-User`.
    pub end_user: Option<String>,
}

impl RequestContext {
    /// Who a task created by this request is created by: the end user, else `user`, else
    /// `api`.
    pub fn created_by(&self, user: Option<&str>) -> String {
        self.end_user
            .as_deref()
            .or(user)
            .unwrap_or("api")
            .to_owned()
    }
}

/// Middleware: makes the [`RequestContext`], runs the request in a span named after it, logs
/// the outcome and adds `X-Drydock-Req` to the response.
pub(crate) async fn context(mut req: Request, next: Next) -> Response {
    let request_id = Uuid::new_v4();
    let headers = req.headers();
    let context_marker = headers
        .get("x-context-marker")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v.trim()).ok());
    let end_user = headers
        .get("x-end-user")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().chars().take(256).collect::<String>())
        .filter(|v| !v.is_empty());
    let span = tracing::info_span!(
        "request",
        id = %request_id,
        method = %req.method(),
        path = %req.uri().path(),
        marker = context_marker.map(|m| m.to_string()),
        user = tracing::field::Empty,
    );
    req.extensions_mut().insert(RequestContext {
        request_id,
        context_marker,
        end_user,
    });
    let started = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = resp.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "request done"
        );
    });
    if let Ok(v) = HeaderValue::from_str(&request_id.to_string()) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    resp
}
