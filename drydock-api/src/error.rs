//! The API's error answer: a status and the reference's body `{type, message, retry}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use drydock_core::bootaction::BootActionError;
use drydock_core::orchestrator::OrchestratorError;
use drydock_core::store::StoreError;

/// An error answer: the status and the reference's body
/// `{"type": "error", "message": ..., "retry": ...}` (`retry`: whether the same request may
/// succeed later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the caller.
    pub message: String,
    /// Whether trying again later may succeed.
    pub retry: bool,
}

impl ApiError {
    /// An error answer with `status` and `message`, not worth retrying.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            retry: false,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 500, or 503 with `retry` when the cause is transient.
    pub fn internal(message: impl Into<String>, retryable: bool) -> Self {
        let status = if retryable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        ApiError {
            status,
            message: message.into(),
            retry: retryable,
        }
    }

    /// The body, as sent.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"type": "error", "message": self.message, "retry": self.retry})
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), message = %self.message, "request failed");
        } else {
            tracing::debug!(status = self.status.as_u16(), message = %self.message, "request refused");
        }
        (self.status, crate::body::Json(self.body())).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let retry = e.is_retryable();
        ApiError::internal(format!("store: {e}"), retry)
    }
}

impl From<OrchestratorError> for ApiError {
    fn from(e: OrchestratorError) -> Self {
        match e {
            OrchestratorError::TaskNotFound(id) => {
                ApiError::not_found(format!("Task {id} does not exist"))
            }
            OrchestratorError::Store(s) => s.into(),
            OrchestratorError::Design(d) => {
                ApiError::bad_request(format!("the design does not read or compile: {d}"))
            }
            other => ApiError::internal(other.to_string(), false),
        }
    }
}

impl From<BootActionError> for ApiError {
    fn from(e: BootActionError) -> Self {
        let status =
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = matches!(&e, BootActionError::Store(s) if s.is_retryable());
        ApiError {
            status,
            message: e.to_string(),
            retry,
        }
    }
}
