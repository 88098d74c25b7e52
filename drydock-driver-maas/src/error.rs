//! The classified error of every MAAS call.

use std::collections::BTreeMap;
use std::time::Duration;

/// Result of a MAAS call.
pub type Result<T, E = MaasError> = std::result::Result<T, E>;

/// What went wrong talking to MAAS, classified so that callers can branch on it.
///
/// Every variant raised by a MAAS answer carries MAAS' response text (`body`). Ask
/// [`MaasError::is_retryable`] whether trying again later makes sense; for non-idempotent
/// operations (`allocate`, `deploy`, `create_*`) re-read the state first, because an ambiguous
/// failure ([`MaasError::outcome_unknown`]) may hide a write that MAAS applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MaasError {
    /// 401: the API key is unknown or the OAuth header was rejected.
    #[error("MAAS rejected the credentials (401): {body}")]
    Unauthorized {
        /// MAAS' response text.
        body: String,
    },
    /// 403: the key's user may not do this (e.g. non-admin `power_parameters`).
    #[error("MAAS forbids this operation (403): {body}")]
    Forbidden {
        /// MAAS' response text.
        body: String,
    },
    /// 404: the object or the endpoint does not exist.
    #[error("not found in MAAS (404): {body}")]
    NotFound {
        /// MAAS' response text.
        body: String,
    },
    /// 409 with `Retry-After`: a transient conflict (database serialisation failure) that MAAS
    /// asks clients to retry; returned once the client's retries are used up.
    #[error("MAAS reported a transient conflict (409, retry after {retry_after:?}): {body}")]
    Conflict {
        /// MAAS' response text.
        body: String,
        /// MAAS' `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// 409 without `Retry-After`: the machine's current state forbids the operation
    /// (`Invalid transition: …`, `Can't deploy …`, no machine available). Permanent until the
    /// state changes.
    #[error("MAAS refused the operation in the current state (409): {body}")]
    InvalidTransition {
        /// MAAS' response text.
        body: String,
    },
    /// 502, 503 or 504: MAAS (or its rack controller, or a proxy) is unavailable or timed out.
    /// After a 504 on a write the write may have been applied.
    #[error("MAAS unavailable ({status}): {body}")]
    Unavailable {
        /// HTTP status.
        status: u16,
        /// MAAS' response text.
        body: String,
        /// MAAS' `Retry-After`, if sent.
        retry_after: Option<Duration>,
    },
    /// 400: invalid request (form errors, unknown op, bad parameter).
    #[error("MAAS rejected the request (400): {body}")]
    BadRequest {
        /// MAAS' response text.
        body: String,
        /// Per-field messages when MAAS answered with a JSON form-error object.
        fields: BTreeMap<String, Vec<String>>,
    },
    /// Any other non-success status (e.g. 500).
    #[error("MAAS answered {status}: {body}")]
    Server {
        /// HTTP status.
        status: u16,
        /// MAAS' response text.
        body: String,
    },
    /// The connect or read timeout elapsed.
    #[error("MAAS request timed out: {message}")]
    Timeout {
        /// What timed out.
        message: String,
    },
    /// The connection failed or was dropped.
    #[error("transport error talking to MAAS: {message}")]
    Transport {
        /// The transport's description.
        message: String,
        /// Whether the request may have reached MAAS (the connection broke after sending).
        maybe_sent: bool,
    },
    /// The response could not be decoded into the expected type.
    #[error("cannot decode MAAS' response: {message}; body: {body}")]
    Decode {
        /// The decoder's message.
        message: String,
        /// MAAS' response text.
        body: String,
    },
    /// The client configuration is invalid (URL, CA certificate).
    #[error("invalid MAAS client configuration: {0}")]
    Config(String),
}

impl MaasError {
    /// Whether trying the same call again later can succeed without anything else changing.
    ///
    /// True for 409-with-`Retry-After`, 502/503/504, timeouts and transport errors.
    ///
    /// ```
    /// use drydock_driver_maas::MaasError;
    /// let e = MaasError::InvalidTransition { body: "Invalid transition: New -> Deploying.".into() };
    /// assert!(!e.is_retryable());
    /// let e = MaasError::Unavailable { status: 503, body: "rack down".into(), retry_after: None };
    /// assert!(e.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Conflict { .. }
                | Self::Unavailable { .. }
                | Self::Timeout { .. }
                | Self::Transport { .. }
        )
    }

    /// Whether a write may have been applied although the call failed (504, timeout, a
    /// connection dropped after the request was sent): re-read the state before retrying.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Unavailable { status, .. } => *status == 504 || *status == 502,
            Self::Timeout { .. } => true,
            Self::Transport { maybe_sent, .. } => *maybe_sent,
            _ => false,
        }
    }

    /// The HTTP status MAAS answered, if the error comes from an answer.
    pub fn status(&self) -> Option<u16> {
        Some(match self {
            Self::Unauthorized { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::Conflict { .. } | Self::InvalidTransition { .. } => 409,
            Self::BadRequest { .. } => 400,
            Self::Unavailable { status, .. } | Self::Server { status, .. } => *status,
            _ => return None,
        })
    }

    /// MAAS' response text, if the error comes from an answer.
    pub fn body(&self) -> Option<&str> {
        match self {
            Self::Unauthorized { body }
            | Self::Forbidden { body }
            | Self::NotFound { body }
            | Self::Conflict { body, .. }
            | Self::InvalidTransition { body }
            | Self::Unavailable { body, .. }
            | Self::BadRequest { body, .. }
            | Self::Server { body, .. }
            | Self::Decode { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Classifies a non-success answer.
    pub(crate) fn from_status(status: u16, body: String, retry_after: Option<Duration>) -> Self {
        match status {
            400 => {
                let fields = serde_json::from_str(&body).unwrap_or_default();
                Self::BadRequest { body, fields }
            }
            401 => Self::Unauthorized { body },
            403 => Self::Forbidden { body },
            404 => Self::NotFound { body },
            409 if retry_after.is_some() => Self::Conflict { body, retry_after },
            409 => Self::InvalidTransition { body },
            502..=504 => Self::Unavailable {
                status,
                body,
                retry_after,
            },
            _ => Self::Server { status, body },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_status_and_retry_after() {
        let e = MaasError::from_status(409, "x".into(), Some(Duration::from_secs(5)));
        assert!(matches!(e, MaasError::Conflict { .. }) && e.is_retryable());
        let e = MaasError::from_status(409, "Invalid transition: New -> Deploying.".into(), None);
        assert!(matches!(e, MaasError::InvalidTransition { .. }) && !e.is_retryable());
        let e = MaasError::from_status(400, r#"{"name": ["Tag exists."]}"#.into(), None);
        match e {
            MaasError::BadRequest { fields, .. } => assert_eq!(fields["name"], ["Tag exists."]),
            other => panic!("{other:?}"),
        }
        let e = MaasError::from_status(504, "gw".into(), None);
        assert!(e.outcome_unknown() && e.is_retryable());
        assert_eq!(e.status(), Some(504));
        assert_eq!(e.body(), Some("gw"));
        let e = MaasError::from_status(500, "boom".into(), None);
        assert!(matches!(e, MaasError::Server { status: 500, .. }) && !e.is_retryable());
    }
}
