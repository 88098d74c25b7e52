//! Request parameters and replies of the fake's handlers.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Parameters of a request: query string, then form body; repeated keys kept in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Form(pub Vec<(String, String)>);

impl Form {
    pub(crate) fn parse_urlencoded(&mut self, s: &[u8]) {
        for (k, v) in url::form_urlencoded::parse(s) {
            self.0.push((k.into_owned(), v.into_owned()));
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Django/formencode booleans: `true/false/1/0/on/off` (any case).
    pub(crate) fn bool(&self, key: &str) -> Option<bool> {
        self.get(key)
            .map(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "on" | "yes"))
    }

    pub(crate) fn required(&self, key: &str) -> Result<&str, Reply> {
        self.get(key).filter(|v| !v.is_empty()).ok_or_else(|| {
            Reply::Json(400, serde_json::json!({ key: ["This field is required."] }))
        })
    }

    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, Reply> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                Reply::Json(400, serde_json::json!({ key: ["Enter a whole number."] }))
            }),
        }
    }
}

/// The `X-MAAS-API-Hash` of every answer (and `describe/`'s `hash`).
pub(crate) const API_HASH: &str = "fake0000000000000000000000000000000000000";

/// A handler's answer.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    Json(u16, Value),
    Text(u16, String),
    /// A body with its own content type.
    Typed(u16, &'static str, String),
    Empty,
    Bson(Vec<u8>),
}

/// Handler result: `Err` carries an error reply so lookups can use `?`.
pub(crate) type R = Result<Reply, Reply>;

pub(crate) fn ok(v: Value) -> R {
    Ok(Reply::Json(200, v))
}

pub(crate) fn text(status: u16, msg: impl Into<String>) -> Reply {
    Reply::Text(status, msg.into())
}

pub(crate) fn not_found(kind: &str) -> Reply {
    text(404, format!("No {kind} matches the given query."))
}

/// Parses a path capture as an integer id (non-integers never match, so 404).
pub(crate) fn id(cap: &str, kind: &str) -> Result<i64, Reply> {
    cap.parse().map_err(|_| not_found(kind))
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let (status, ctype, body) = match self {
            Reply::Json(s, v) => (
                s,
                "application/json; charset=utf-8",
                Body::from(v.to_string()),
            ),
            Reply::Text(s, t) => (s, "text/plain; charset=utf-8", Body::from(t)),
            Reply::Typed(s, ctype, t) => (s, ctype, Body::from(t)),
            Reply::Empty => (204, "text/plain; charset=utf-8", Body::empty()),
            Reply::Bson(b) => (200, "application/bson", Body::from(b)),
        };
        let mut resp = Response::new(body);
        *resp.status_mut() =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        resp.headers_mut()
            .insert("X-MAAS-API-Hash", HeaderValue::from_static(API_HASH));
        resp
    }
}
