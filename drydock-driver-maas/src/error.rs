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
    #[error("MAAS at {peer} rejected the credentials (401): {body}")]
    Unauthorized {
        /// The MAAS answering (`host:port`).
        peer: String,
        /// MAAS' response text.
        body: String,
    },
    /// 403: the key's user may not do this (e.g. non-admin `power_parameters`).
    #[error("MAAS at {peer} forbids this operation (403): {body}")]
    Forbidden {
        /// The MAAS answering (`host:port`).
        peer: String,
        /// MAAS' response text.
        body: String,
    },
    /// 404: the object or the endpoint does not exist.
    #[error("not found in MAAS at {peer} (404): {body}")]
    NotFound {
        /// The MAAS answering (`host:port`).
        peer: String,
        /// MAAS' response text.
        body: String,
    },
    /// 409 with `Retry-After`: a transient conflict (database serialisation failure) that MAAS
    /// asks clients to retry; returned once the client's retries are used up.
    #[error(
        "MAAS at {peer} reported a transient conflict (409, retry after {retry_after:?}): {body}"
    )]
    Conflict {
        /// The MAAS answering (`host:port`).
        peer: String,
        /// MAAS' response text.
        body: String,
        /// MAAS' `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// 409 without `Retry-After`: the machine's current state forbids the operation
    /// (`Invalid transition: …`, `Can't deploy …`, no machine available). Permanent until the
    /// state changes.
    #[error("MAAS at {peer} refused the operation in the current state (409): {body}")]
    InvalidTransition {
        /// The MAAS answering (`host:port`).
        peer: String,
        /// MAAS' response text.
        body: String,
    },
    /// 502, 503 or 504: MAAS (or its rack controller, or a proxy) is unavailable or timed out.
    /// After a 504 on a write the write may have been applied.
    #[error("MAAS at {peer} unavailable ({status}): {body}")]
    Unavailable {
        /// The MAAS answering (`host:port`).
        peer: String,
        /// HTTP status.
        status: u16,
        /// MAAS' response text.
        body: String,
        /// MAAS' `Retry-After`, if sent.
        retry_after: Option<Duration>,
    },
    /// 400: invalid request (form errors, unknown op, bad parameter).
    #[error("MAAS at {peer} rejected the request (400): {body}")]
    BadRequest {
        /// The MAAS answering (`host:port`).
        peer: String,
        /// MAAS' response text.
        body: String,
        /// Per-field messages when MAAS answered with a JSON form-error object.
        fields: BTreeMap<String, Vec<String>>,
    },
    /// Any other non-success status (e.g. 500).
    #[error("MAAS at {peer} answered {status}: {body}")]
    Server {
        /// The MAAS answering (`host:port`).
        peer: String,
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
    /// MAAS answered with a redirect. The client follows none (a redirect could send the
    /// signed request elsewhere, or loop): configure MAAS' final URL.
    #[error(
        "MAAS at {peer} answered a redirect ({status}) to {location}; redirects are not followed: \
         configure MAAS' final URL"
    )]
    Redirect {
        /// The MAAS answering (`host:port`).
        peer: String,
        /// HTTP status (3xx).
        status: u16,
        /// The `Location` header, escaped and truncated.
        location: String,
    },
    /// A response body was larger than the client's limit
    /// ([`MaasClientBuilder::max_body_bytes`](crate::MaasClientBuilder::max_body_bytes)).
    #[error("MAAS at {peer} sent a response body larger than the limit of {limit} bytes")]
    TooLarge {
        /// The MAAS answering (`host:port`).
        peer: String,
        /// The limit, in bytes.
        limit: u64,
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
    /// let peer = "maas.example:5240".to_owned();
    /// let body = "Invalid transition: New -> Deploying.".to_owned();
    /// let e = MaasError::InvalidTransition { peer: peer.clone(), body };
    /// assert!(!e.is_retryable());
    /// let body = "rack down".to_owned();
    /// let e = MaasError::Unavailable { peer, status: 503, body, retry_after: None };
    /// assert!(e.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        // `Redirect` and `TooLarge` are not: the same request meets the same answer.
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
            Self::Unauthorized { body, .. }
            | Self::Forbidden { body, .. }
            | Self::NotFound { body, .. }
            | Self::Conflict { body, .. }
            | Self::InvalidTransition { body, .. }
            | Self::Unavailable { body, .. }
            | Self::BadRequest { body, .. }
            | Self::Server { body, .. }
            | Self::Decode { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Classifies a non-success answer from `peer`; `raw` is (the start of) its body, which
    /// the error keeps escaped and truncated ([`shown_text`]).
    pub(crate) fn from_status(
        status: u16,
        peer: String,
        raw: &[u8],
        retry_after: Option<Duration>,
    ) -> Self {
        let body = shown_text(raw);
        match status {
            400 => {
                let fields = serde_json::from_slice::<BTreeMap<String, Vec<String>>>(raw)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (escape(&k), v.iter().map(|m| escape(m)).collect()))
                    .collect();
                Self::BadRequest { peer, body, fields }
            }
            401 => Self::Unauthorized { peer, body },
            403 => Self::Forbidden { peer, body },
            404 => Self::NotFound { peer, body },
            409 if retry_after.is_some() => Self::Conflict {
                peer,
                body,
                retry_after,
            },
            409 => Self::InvalidTransition { peer, body },
            502..=504 => Self::Unavailable {
                peer,
                status,
                body,
                retry_after,
            },
            _ => Self::Server { peer, status, body },
        }
    }
}

/// At most this many characters of MAAS' text are kept in an error.
pub(crate) const SHOWN_CHARS: usize = 2048;

/// Text from MAAS as it may be shown on a terminal or written to the journal: invalid UTF-8
/// replaced, every control character (ESC and the rest of C0, DEL, C1, and the bidirectional
/// overrides) written as a `\u{..}` escape, and cut to [`SHOWN_CHARS`] characters with a note
/// of how much was left out.
pub(crate) fn shown_text(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::new();
    let mut chars = text.chars();
    for c in chars.by_ref().take(SHOWN_CHARS) {
        push_escaped(&mut out, c);
    }
    let rest = chars.as_str().len();
    if rest > 0 {
        out.push_str(&format!("… ({rest} more bytes)"));
    }
    out
}

/// [`shown_text`] without the cut, for short texts (field names and messages).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if c.is_control() || bidi {
        out.push_str(&format!("\\u{{{:x}}}", c as u32));
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "maas.example:5240";

    #[test]
    fn maas_text_is_escaped_and_cut() {
        let raw = b"bad \x1b]0;owned\x07\x1b[31mred\xff\r\nforged log line \xe2\x80\xae";
        let shown = shown_text(raw);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert!(shown.contains("\\u{1b}]0;owned\\u{7}"), "{shown}");
        assert!(shown.contains("\\u{202e}"), "{shown}");
        let long = vec![b'x'; SHOWN_CHARS + 100];
        let shown = shown_text(&long);
        assert!(shown.ends_with("… (100 more bytes)"), "{shown}");
        let e = MaasError::from_status(500, P.into(), b"\x1b[2J", None);
        assert!(!e.to_string().contains('\x1b'));
        assert!(e.to_string().contains(P), "{e}");
    }

    #[test]
    fn classification_follows_status_and_retry_after() {
        let e = MaasError::from_status(409, P.into(), b"x", Some(Duration::from_secs(5)));
        assert!(matches!(e, MaasError::Conflict { .. }) && e.is_retryable());
        let e = MaasError::from_status(
            409,
            P.into(),
            b"Invalid transition: New -> Deploying.",
            None,
        );
        assert!(matches!(e, MaasError::InvalidTransition { .. }) && !e.is_retryable());
        let e = MaasError::from_status(400, P.into(), br#"{"name": ["Tag exists."]}"#, None);
        match e {
            MaasError::BadRequest { fields, .. } => assert_eq!(fields["name"], ["Tag exists."]),
            other => panic!("{other:?}"),
        }
        let e = MaasError::from_status(504, P.into(), b"gw", None);
        assert!(e.outcome_unknown() && e.is_retryable());
        assert_eq!(e.status(), Some(504));
        assert_eq!(e.body(), Some("gw"));
        let e = MaasError::from_status(500, P.into(), b"boom", None);
        assert!(matches!(e, MaasError::Server { status: 500, .. }) && !e.is_retryable());
    }
}
