//! The client's error type, [`Error`], and its classification into the core's
//! [`DriverErrorKind`].

use drydock_core::driver::DriverErrorKind;

/// What went wrong talking to a Redfish service. Never holds a password or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration or the node's OOB parameters are unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The service could not be reached at all (refused, no route, reset before answering):
    /// nothing was done on the BMC.
    #[error("cannot reach {url}: {message}")]
    Unreachable {
        /// What was asked for.
        url: String,
        /// The transport's message.
        message: String,
    },
    /// The TLS handshake failed: a certificate that does not verify, or that does not match
    /// the pinned fingerprint.
    #[error("TLS with {url} failed: {message}")]
    Tls {
        /// What was asked for.
        url: String,
        /// Why.
        message: String,
    },
    /// The connection failed after the request may have been sent (reset, closed early).
    #[error("{url}: {message}")]
    Transport {
        /// What was asked for.
        url: String,
        /// The transport's message.
        message: String,
    },
    /// No answer in time.
    #[error("{what} timed out")]
    Timeout {
        /// What timed out.
        what: String,
    },
    /// The service answered with an error status.
    #[error("{method} {path}: HTTP {status}: {message}")]
    Http {
        /// The HTTP method.
        method: &'static str,
        /// The path requested.
        path: String,
        /// The status code.
        status: u16,
        /// The service's message, with its `@Message.ExtendedInfo` texts.
        message: String,
    },
    /// The service answered something that is not what Redfish says (bad JSON, a missing link).
    #[error("unexpected answer: {0}")]
    Protocol(String),
    /// A response body longer than the configured limit.
    #[error("{path}: response body larger than {limit} bytes")]
    BodyTooLarge {
        /// The path requested.
        path: String,
        /// The limit.
        limit: usize,
    },
    /// The service does not offer what was asked (a reset type, a boot target).
    #[error("not offered by the BMC: {0}")]
    Unsupported(String),
    /// Something the node's parameters name does not exist on the service.
    #[error("not found: {0}")]
    NotFound(String),
    /// A task the service ran ended badly.
    #[error("task {monitor} ended {state}: {message}")]
    TaskFailed {
        /// The task monitor.
        monitor: String,
        /// Its final `TaskState`.
        state: String,
        /// Its messages.
        message: String,
    },
}

impl Error {
    /// The driver error kind of this error.
    ///
    /// 401 and 403 are [`DriverErrorKind::Unauthorized`], 404 and 410
    /// [`DriverErrorKind::NotFound`], 408, 429 and 5xx [`DriverErrorKind::Transient`] (501
    /// is [`DriverErrorKind::Unsupported`]), other statuses [`DriverErrorKind::Permanent`].
    ///
    /// ```
    /// use drydock_core::driver::DriverErrorKind;
    /// use drydock_driver_redfish::Error;
    /// let e = Error::Http { method: "GET", path: "/x".into(), status: 503, message: String::new() };
    /// assert_eq!(e.kind(), DriverErrorKind::Transient);
    /// let e = Error::Unreachable { url: "https://10.0.0.5/".into(), message: "refused".into() };
    /// assert_eq!(e.kind(), DriverErrorKind::Unreachable);
    /// ```
    pub fn kind(&self) -> DriverErrorKind {
        match self {
            Error::Config(_) | Error::Protocol(_) | Error::BodyTooLarge { .. } => {
                DriverErrorKind::Permanent
            }
            Error::Unreachable { .. } => DriverErrorKind::Unreachable,
            Error::Tls { .. } => DriverErrorKind::Permanent,
            Error::Transport { .. } => DriverErrorKind::Transient,
            Error::Timeout { .. } => DriverErrorKind::TimedOut,
            Error::Http { status, .. } => match status {
                401 | 403 => DriverErrorKind::Unauthorized,
                404 | 410 => DriverErrorKind::NotFound,
                501 => DriverErrorKind::Unsupported,
                408 | 429 | 500..=599 => DriverErrorKind::Transient,
                _ => DriverErrorKind::Permanent,
            },
            Error::Unsupported(_) => DriverErrorKind::Unsupported,
            Error::NotFound(_) => DriverErrorKind::NotFound,
            Error::TaskFailed { .. } => DriverErrorKind::Permanent,
        }
    }

    /// The HTTP status, when the service answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Describes a transport error of `url`: unreachable, TLS, timeout.
pub(crate) fn from_reqwest(e: &reqwest::Error, url: &str) -> Error {
    let mut chain = String::new();
    let mut tls = false;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut depth = 0;
    while let Some(s) = source {
        if depth > 0 {
            chain.push_str(": ");
        }
        chain.push_str(&s.to_string());
        if s.downcast_ref::<rustls::Error>().is_some()
            || s.downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        {
            tls = true;
        }
        source = s.source();
        depth += 1;
        if depth > 16 {
            break;
        }
    }
    if e.is_timeout() {
        return Error::Timeout {
            what: format!("request to {url}"),
        };
    }
    if tls || chain.contains("certificate") {
        return Error::Tls {
            url: url.to_owned(),
            message: chain,
        };
    }
    if e.is_connect() {
        return Error::Unreachable {
            url: url.to_owned(),
            message: chain,
        };
    }
    Error::Transport {
        url: url.to_owned(),
        message: chain,
    }
}
