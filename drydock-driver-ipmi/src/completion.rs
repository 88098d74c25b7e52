//! IPMI completion codes (IPMI v2.0 §5.2, table 5-2) as a typed enum.

use std::fmt;

/// The completion code a BMC returns as the first data byte of every response.
///
/// ```
/// use drydock_driver_ipmi::completion::CompletionCode;
/// let cc = CompletionCode::from(0xD4);
/// assert_eq!(cc, CompletionCode::InsufficientPrivilege);
/// assert_eq!(u8::from(cc), 0xD4);
/// assert!(!cc.is_success());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CompletionCode {
    /// 0x00: command completed normally.
    Success,
    /// 0xC0: node busy.
    NodeBusy,
    /// 0xC1: invalid (unsupported) command.
    InvalidCommand,
    /// 0xC2: command invalid for the given LUN.
    InvalidForLun,
    /// 0xC3: timeout while processing the command.
    ProcessingTimeout,
    /// 0xC4: out of space.
    OutOfSpace,
    /// 0xC5: reservation cancelled or invalid reservation ID.
    ReservationCancelled,
    /// 0xC6: request data truncated.
    RequestDataTruncated,
    /// 0xC7: request data length invalid.
    RequestDataLengthInvalid,
    /// 0xC8: request data field length limit exceeded.
    RequestDataFieldTooLong,
    /// 0xC9: parameter out of range.
    ParameterOutOfRange,
    /// 0xCA: cannot return the number of requested data bytes.
    CannotReturnRequestedBytes,
    /// 0xCB: requested sensor, data or record not present.
    NotPresent,
    /// 0xCC: invalid data field in request.
    InvalidDataField,
    /// 0xCD: command illegal for the specified sensor or record type.
    IllegalForSensorOrRecord,
    /// 0xCE: command response could not be provided.
    CannotProvideResponse,
    /// 0xCF: cannot execute a duplicated request.
    DuplicatedRequest,
    /// 0xD0: SDR repository in update mode.
    SdrInUpdateMode,
    /// 0xD1: device in firmware update mode.
    FirmwareUpdateMode,
    /// 0xD2: BMC initialization in progress.
    InitializationInProgress,
    /// 0xD3: destination unavailable.
    DestinationUnavailable,
    /// 0xD4: insufficient privilege level for the command.
    InsufficientPrivilege,
    /// 0xD5: command not supported in the present state.
    NotSupportedInPresentState,
    /// 0xD6: the command's sub-function is disabled or unavailable.
    SubFunctionDisabled,
    /// 0xFF: unspecified error.
    Unspecified,
    /// Any other code: command-specific (0x01-0x7E), OEM (0x80-0xBE) or reserved.
    Other(u8),
}

const TABLE: &[(u8, CompletionCode, &str)] = &[
    (0x00, CompletionCode::Success, "command completed normally"),
    (0xC0, CompletionCode::NodeBusy, "node busy"),
    (0xC1, CompletionCode::InvalidCommand, "invalid command"),
    (
        0xC2,
        CompletionCode::InvalidForLun,
        "command invalid for given LUN",
    ),
    (
        0xC3,
        CompletionCode::ProcessingTimeout,
        "timeout while processing command",
    ),
    (0xC4, CompletionCode::OutOfSpace, "out of space"),
    (
        0xC5,
        CompletionCode::ReservationCancelled,
        "reservation cancelled or invalid reservation ID",
    ),
    (
        0xC6,
        CompletionCode::RequestDataTruncated,
        "request data truncated",
    ),
    (
        0xC7,
        CompletionCode::RequestDataLengthInvalid,
        "request data length invalid",
    ),
    (
        0xC8,
        CompletionCode::RequestDataFieldTooLong,
        "request data field length limit exceeded",
    ),
    (
        0xC9,
        CompletionCode::ParameterOutOfRange,
        "parameter out of range",
    ),
    (
        0xCA,
        CompletionCode::CannotReturnRequestedBytes,
        "cannot return number of requested data bytes",
    ),
    (
        0xCB,
        CompletionCode::NotPresent,
        "requested sensor, data, or record not present",
    ),
    (
        0xCC,
        CompletionCode::InvalidDataField,
        "invalid data field in request",
    ),
    (
        0xCD,
        CompletionCode::IllegalForSensorOrRecord,
        "command illegal for specified sensor or record type",
    ),
    (
        0xCE,
        CompletionCode::CannotProvideResponse,
        "command response could not be provided",
    ),
    (
        0xCF,
        CompletionCode::DuplicatedRequest,
        "cannot execute duplicated request",
    ),
    (
        0xD0,
        CompletionCode::SdrInUpdateMode,
        "SDR repository in update mode",
    ),
    (
        0xD1,
        CompletionCode::FirmwareUpdateMode,
        "device in firmware update mode",
    ),
    (
        0xD2,
        CompletionCode::InitializationInProgress,
        "BMC initialization in progress",
    ),
    (
        0xD3,
        CompletionCode::DestinationUnavailable,
        "destination unavailable",
    ),
    (
        0xD4,
        CompletionCode::InsufficientPrivilege,
        "insufficient privilege level",
    ),
    (
        0xD5,
        CompletionCode::NotSupportedInPresentState,
        "command not supported in present state",
    ),
    (
        0xD6,
        CompletionCode::SubFunctionDisabled,
        "command sub-function disabled or unavailable",
    ),
    (0xFF, CompletionCode::Unspecified, "unspecified error"),
];

impl CompletionCode {
    /// Whether the code is 0x00 (normal completion).
    pub fn is_success(self) -> bool {
        self == CompletionCode::Success
    }

    /// Whether repeating the same request later may succeed (busy, timeout, initialising).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            CompletionCode::NodeBusy
                | CompletionCode::ProcessingTimeout
                | CompletionCode::SdrInUpdateMode
                | CompletionCode::FirmwareUpdateMode
                | CompletionCode::InitializationInProgress
        )
    }

    /// The meaning of the code as worded by the IPMI specification.
    pub fn meaning(self) -> &'static str {
        match self {
            CompletionCode::Other(0x01..=0x7E) => "command-specific completion code",
            CompletionCode::Other(0x80..=0xBE) => "OEM completion code",
            CompletionCode::Other(_) => "reserved completion code",
            known => TABLE
                .iter()
                .find(|(_, cc, _)| *cc == known)
                .map_or("unknown completion code", |(_, _, m)| m),
        }
    }
}

impl From<u8> for CompletionCode {
    fn from(code: u8) -> Self {
        TABLE
            .iter()
            .find(|(c, _, _)| *c == code)
            .map_or(CompletionCode::Other(code), |(_, cc, _)| *cc)
    }
}

impl From<CompletionCode> for u8 {
    fn from(cc: CompletionCode) -> u8 {
        match cc {
            CompletionCode::Other(code) => code,
            known => TABLE
                .iter()
                .find(|(_, c, _)| *c == known)
                .map_or(0xFF, |(code, _, _)| *code),
        }
    }
}

impl fmt::Display for CompletionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02X} ({})", u8::from(*self), self.meaning())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips() {
        for b in 0..=255u8 {
            assert_eq!(u8::from(CompletionCode::from(b)), b);
        }
    }

    #[test]
    fn known_codes_have_meanings() {
        assert_eq!(CompletionCode::from(0xC1), CompletionCode::InvalidCommand);
        assert_eq!(
            CompletionCode::from(0xD4).meaning(),
            "insufficient privilege level"
        );
        assert_eq!(CompletionCode::from(0x81).meaning(), "OEM completion code");
        assert_eq!(
            CompletionCode::from(0x05).meaning(),
            "command-specific completion code"
        );
        assert!(CompletionCode::from(0xC0).is_transient());
        assert!(!CompletionCode::from(0xD4).is_transient());
        assert_eq!(
            CompletionCode::from(0xD4).to_string(),
            "0xD4 (insufficient privilege level)"
        );
    }
}
