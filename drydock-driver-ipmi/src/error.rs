//! Errors: the public classified [`Error`] and the [`ProtocolError`] of the pure parsers.

use crate::completion::CompletionCode;
use crate::rakp::RmcpPlusStatus;

/// Why bytes received from a BMC (or handed to a parser) could not be accepted.
///
/// Every parser of this crate returns this instead of panicking; the string fields name the
/// structure being parsed, for diagnostics only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The input ended before the structure did.
    #[error("{what}: truncated (need {needed} bytes, have {have})")]
    Truncated {
        /// The structure being parsed.
        what: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        have: usize,
    },
    /// A field holds a value the structure does not allow.
    #[error("{what}: invalid value 0x{value:02X}")]
    InvalidField {
        /// The field.
        what: &'static str,
        /// The value found.
        value: u32,
    },
    /// A length field disagrees with the data.
    #[error("{what}: length mismatch (declared {declared}, actual {actual})")]
    LengthMismatch {
        /// The structure being parsed.
        what: &'static str,
        /// Length declared by the header.
        declared: usize,
        /// Length actually present.
        actual: usize,
    },
    /// An IPMI message checksum does not verify.
    #[error("{what}: checksum mismatch")]
    Checksum {
        /// Which of the two checksums.
        what: &'static str,
    },
    /// A packet's integrity code (HMAC) does not verify.
    #[error("integrity check failed")]
    Integrity,
    /// Decrypted data has invalid confidentiality padding.
    #[error("invalid confidentiality padding")]
    Padding,
    /// A session sequence number was outside the window or already seen.
    #[error("session sequence number {0} rejected (replay or out of window)")]
    Replay(u32),
    /// A packet that is valid but not the one expected here.
    #[error("unexpected packet: {0}")]
    Unexpected(&'static str),
    /// Bytes follow the end of a structure whose length the header declares.
    #[error("{what}: {count} trailing byte(s) after the declared end")]
    TrailingBytes {
        /// The structure that ended before the datagram did.
        what: &'static str,
        /// How many bytes were left over (at most the receive buffer's size).
        count: usize,
    },
    /// A datagram larger than any IPMI packet this client accepts.
    #[error("datagram of more than {max} bytes")]
    Oversized {
        /// The largest datagram accepted.
        max: usize,
    },
    /// The BMC assigned session ID 0, which IPMI reserves for "no session".
    #[error("{what}: session ID 0 is reserved")]
    ZeroSessionId {
        /// The message that carried it.
        what: &'static str,
    },
}

impl ProtocolError {
    pub(crate) fn truncated(what: &'static str, needed: usize, have: usize) -> Self {
        ProtocolError::Truncated { what, needed, have }
    }

    pub(crate) fn need(what: &'static str, bytes: &[u8], needed: usize) -> Result<(), Self> {
        if bytes.len() < needed {
            Err(Self::truncated(what, needed, bytes.len()))
        } else {
            Ok(())
        }
    }
}

/// Coarse classification of an [`Error`], for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Credentials rejected (wrong user, password or privilege). Retrying will not help.
    Unauthorized,
    /// The BMC did not answer in time. Retrying may help.
    Timeout,
    /// The BMC answered with bytes that are not valid IPMI. Retrying may help.
    Protocol,
    /// The BMC rejected a command with a completion code.
    CompletionCode,
    /// The BMC or this client lacks a needed feature (cipher suite, command). Permanent.
    Unsupported,
    /// Operating-system I/O error (socket, name resolution). Retrying may help.
    Io,
    /// The configuration is invalid. Permanent.
    Config,
}

/// The public error of the IPMI client.
///
/// Secrets (passwords, keys) never appear in it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The BMC refused the credentials (RAKP status code, or an authentication code that does
    /// not verify), or refused the requested privilege level.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// No valid answer within the configured timeout and retries.
    #[error("timed out waiting for the BMC ({what}) after {attempts} attempt(s)")]
    Timeout {
        /// The exchange that timed out.
        what: &'static str,
        /// How many times the request was sent.
        attempts: u32,
    },
    /// Malformed or unexpected data from the BMC.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The session set-up was rejected with an RMCP+ status code other than an authorization one.
    #[error("session rejected by the BMC: {0}")]
    SessionRejected(RmcpPlusStatus),
    /// A command failed with a non-zero completion code.
    #[error("command {command} failed: completion code {code}")]
    CompletionCode {
        /// The command (for diagnostics).
        command: &'static str,
        /// The completion code returned by the BMC.
        code: CompletionCode,
    },
    /// A feature is not supported by the BMC or by this client.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Socket or address resolution failure.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Invalid client configuration.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl Error {
    /// The coarse kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Unauthorized(_) => ErrorKind::Unauthorized,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Protocol(_) => ErrorKind::Protocol,
            Error::SessionRejected(status) if status.is_authorization_failure() => {
                ErrorKind::Unauthorized
            }
            Error::SessionRejected(status) if status.is_algorithm_mismatch() => {
                ErrorKind::Unsupported
            }
            Error::SessionRejected(_) => ErrorKind::Protocol,
            Error::CompletionCode { .. } => ErrorKind::CompletionCode,
            Error::Unsupported(_) => ErrorKind::Unsupported,
            Error::Io(_) => ErrorKind::Io,
            Error::Config(_) => ErrorKind::Config,
        }
    }

    /// Whether repeating the operation later may succeed.
    ///
    /// ```
    /// use drydock_driver_ipmi::Error;
    /// assert!(Error::Timeout { what: "ping", attempts: 3 }.is_retryable());
    /// assert!(!Error::Unauthorized("bad password".into()).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Protocol(_) | Error::Io(_) => true,
            Error::SessionRejected(status) => status.is_transient(),
            Error::CompletionCode { code, .. } => code.is_transient(),
            Error::Unauthorized(_) | Error::Unsupported(_) | Error::Config(_) => false,
        }
    }

    /// Whether the error means the session may be gone on the BMC's side (it timed out there,
    /// the BMC restarted, the session was closed by someone else), so that a new session may
    /// succeed: no answer in time, bytes that do not verify with the session's keys, socket
    /// errors (ICMP port unreachable), and completion codes 0x87 and 0x88 (invalid session
    /// ID or handle).
    ///
    /// ```
    /// use drydock_driver_ipmi::{CompletionCode, Error};
    /// assert!(Error::Timeout { what: "Get Chassis Status", attempts: 4 }.is_session_lost());
    /// let invalid = Error::CompletionCode { command: "x", code: CompletionCode::from(0x87) };
    /// assert!(invalid.is_session_lost());
    /// let busy = Error::CompletionCode { command: "x", code: CompletionCode::from(0xC0) };
    /// assert!(!busy.is_session_lost());
    /// assert!(!Error::Unauthorized("bad password".into()).is_session_lost());
    /// ```
    pub fn is_session_lost(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Protocol(_) | Error::Io(_) => true,
            Error::CompletionCode { code, .. } => matches!(u8::from(*code), 0x87 | 0x88),
            _ => false,
        }
    }

    /// The completion code, when the error is a failed command.
    pub fn completion_code(&self) -> Option<CompletionCode> {
        match self {
            Error::CompletionCode { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
