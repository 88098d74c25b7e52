//! The driver's settings ([`RedfishDriverConfig`]) and a node's, read from its OOB parameters
//! ([`BmcSettings`]).

use std::fmt;
use std::path::PathBuf;

use drydock_core::design::BootMode;
use drydock_core::driver::OobTarget;

use crate::error::{Error, Result};

/// Settings of [`RedfishDriver`](crate::RedfishDriver); every field has a default
/// (`#[serde(default)]`).
///
/// ```
/// use drydock_driver_redfish::RedfishDriverConfig;
/// let c: RedfishDriverConfig = serde_json::from_str(r#"{"power_deadline_ms": 5000}"#).unwrap();
/// assert_eq!(c.request_timeout_ms, 20_000);
/// assert_eq!(c.max_concurrent_requests, 64);
/// assert!(c.use_sessions && !c.insecure);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedfishDriverConfig {
    /// Time allowed for one HTTP exchange, body included, in milliseconds (default 20000).
    pub request_timeout_ms: u64,
    /// Time allowed to connect (TCP and TLS), in milliseconds (default 5000).
    pub connect_timeout_ms: u64,
    /// Largest response body read, in bytes (default 4 MiB); a longer one is an error.
    pub max_body_bytes: usize,
    /// HTTP requests in flight at once across all BMCs (default 64).
    pub max_concurrent_requests: usize,
    /// Log in with a Redfish session (`X-Auth-Token`) when the service offers sessions
    /// (default true); otherwise, and when it has none, HTTP basic authentication.
    pub use_sessions: bool,
    /// Interval between power state reads after a reset, in milliseconds (default 1000).
    pub power_poll_interval_ms: u64,
    /// How long a power change may take to show, in milliseconds (default 120000). The
    /// orchestrator's step timeout, when shorter, ends the wait first.
    pub power_deadline_ms: u64,
    /// After a restart or power cycle, how long to look for the off phase before waiting for
    /// on, in milliseconds (default 15000; part of the power deadline).
    pub cycle_off_window_ms: u64,
    /// Interval between task monitor reads when the service gives no `Retry-After`, in
    /// milliseconds (default 1000).
    pub task_poll_interval_ms: u64,
    /// How long a task (a `202 Accepted` operation) may run, in milliseconds (default 300000).
    pub task_deadline_ms: u64,
    /// Longest wait a `Retry-After` header may ask for, in milliseconds (default 30000).
    pub retry_after_cap_ms: u64,
    /// Retries of a request answered `503 Service Unavailable` (default 3).
    pub unavailable_retries: u32,
    /// Default CA bundle (PEM) for every BMC whose OOB parameters name none; the system's
    /// roots are not used then.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate from every BMC (default false). Logged once as a warning.
    pub insecure: bool,
}

impl Default for RedfishDriverConfig {
    fn default() -> Self {
        RedfishDriverConfig {
            request_timeout_ms: 20_000,
            connect_timeout_ms: 5_000,
            max_body_bytes: 4 << 20,
            max_concurrent_requests: 64,
            use_sessions: true,
            power_poll_interval_ms: 1_000,
            power_deadline_ms: 120_000,
            cycle_off_window_ms: 15_000,
            task_poll_interval_ms: 1_000,
            task_deadline_ms: 300_000,
            retry_after_cap_ms: 30_000,
            unavailable_retries: 3,
            ca_file: None,
            insecure: false,
        }
    }
}

impl RedfishDriverConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        let zero = [
            ("request_timeout_ms", self.request_timeout_ms),
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("power_poll_interval_ms", self.power_poll_interval_ms),
            ("task_poll_interval_ms", self.task_poll_interval_ms),
            ("max_body_bytes", self.max_body_bytes as u64),
            (
                "max_concurrent_requests",
                self.max_concurrent_requests as u64,
            ),
        ];
        if let Some((name, _)) = zero.iter().find(|(_, v)| *v == 0) {
            return Err(Error::Config(format!("{name} is zero")));
        }
        if let Some(ca) = &self.ca_file
            && !ca.is_file()
        {
            return Err(Error::Config(format!(
                "ca_file {} is not a readable file",
                ca.display()
            )));
        }
        Ok(())
    }
}

/// How a BMC's certificate is checked.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum TlsPolicy {
    /// Against the built-in roots, or only against a CA bundle (PEM) when one is given; the
    /// certificate must name the address.
    Verify(Option<PathBuf>),
    /// The leaf certificate's SHA-256 must be this one (names and dates are not checked: the
    /// self-signed certificates BMCs ship with rarely name their address).
    Pinned([u8; 32]),
    /// Anything is accepted.
    Insecure,
}

impl fmt::Debug for TlsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsPolicy::Verify(None) => f.write_str("verify"),
            TlsPolicy::Verify(Some(ca)) => write!(f, "verify with {}", ca.display()),
            TlsPolicy::Pinned(sha) => write!(f, "pinned sha256 {}", hex(sha)),
            TlsPolicy::Insecure => f.write_str("insecure"),
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses a SHA-256 fingerprint written as 64 hexadecimal digits, optionally separated by `:`.
pub(crate) fn parse_fingerprint(s: &str) -> Option<[u8; 32]> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| *b != b':')
        .map(|b| (b as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in digits.chunks(2).enumerate() {
        out[i] = pair[0] << 4 | pair[1];
    }
    Some(out)
}

/// A node's Redfish settings, from its [`OobTarget`] and the driver's defaults.
///
/// OOB parameters read (all optional):
///
/// | parameter | meaning |
/// | --- | --- |
/// | `system` | the system's `Id`, `UUID` or `@odata.id` (default: the only system) |
/// | `scheme` | `https` (default) or `http` (no TLS: explicit, and warned once) |
/// | `tls_ca_file` | CA bundle (PEM) to verify the BMC's certificate with |
/// | `tls_fingerprint` | SHA-256 of the BMC's certificate (hex, `:` allowed): pinned |
/// | `tls_insecure` | `true`: accept any certificate (warned once) |
/// | `network_boot` | `pxe` (default) or `uefi_http`: the override target for network boot |
/// | `boot_mode` | `uefi` or `bios`, when the hardware profile gives none |
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BmcSettings {
    /// `https://address:port` (or `http`).
    pub base: String,
    /// The system selector.
    pub system: Option<String>,
    /// How the certificate is checked.
    pub tls: TlsPolicy,
    /// Network boot through UEFI HTTP boot rather than PXE, where offered.
    pub uefi_http: bool,
    /// Boot mode to set with the boot override.
    pub boot_mode: Option<BootMode>,
}

impl BmcSettings {
    /// Reads `target`'s settings.
    pub fn of(target: &OobTarget, config: &RedfishDriverConfig) -> Result<BmcSettings> {
        let p = &target.parameters.0;
        let get = |k: &str| p.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let address = target.address.ok_or_else(|| {
            Error::Config("the node has no BMC address (no address on its OOB network)".into())
        })?;
        let scheme = match get("scheme").unwrap_or("https") {
            s @ ("https" | "http") => s,
            other => {
                return Err(Error::Config(format!(
                    "oob parameter scheme `{other}` is neither https nor http"
                )));
            }
        };
        let host = match address {
            std::net::IpAddr::V4(a) => a.to_string(),
            std::net::IpAddr::V6(a) => format!("[{a}]"),
        };
        let port = target
            .port
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        let flag = |k: &str| -> Result<bool> {
            match get(k) {
                None => Ok(false),
                Some("true" | "yes" | "1") => Ok(true),
                Some("false" | "no" | "0") => Ok(false),
                Some(other) => Err(Error::Config(format!(
                    "oob parameter {k} `{other}` is not true or false"
                ))),
            }
        };
        let tls = if let Some(fp) = get("tls_fingerprint") {
            TlsPolicy::Pinned(parse_fingerprint(fp).ok_or_else(|| {
                Error::Config(
                    "oob parameter tls_fingerprint is not a SHA-256 in hexadecimal".into(),
                )
            })?)
        } else if flag("tls_insecure")? {
            TlsPolicy::Insecure
        } else if let Some(ca) = get("tls_ca_file") {
            TlsPolicy::Verify(Some(PathBuf::from(ca)))
        } else if config.insecure {
            TlsPolicy::Insecure
        } else {
            TlsPolicy::Verify(config.ca_file.clone())
        };
        let uefi_http = match get("network_boot").unwrap_or("pxe") {
            "pxe" => false,
            "uefi_http" => true,
            other => {
                return Err(Error::Config(format!(
                    "oob parameter network_boot `{other}` is neither pxe nor uefi_http"
                )));
            }
        };
        let boot_mode = match target.boot_mode {
            Some(m) => Some(m),
            None => match get("boot_mode") {
                None => None,
                Some(s) => Some(
                    s.parse::<BootMode>()
                        .map_err(|e| Error::Config(format!("oob parameter boot_mode: {e}")))?,
                ),
            },
        };
        Ok(BmcSettings {
            base: format!("{scheme}://{host}:{port}"),
            system: get("system").map(str::to_owned),
            tls,
            uefi_http,
            boot_mode,
        })
    }

    /// Whether the connection is unprotected or unverified (warned about once).
    pub fn is_insecure(&self) -> bool {
        self.base.starts_with("http:") || self.tls == TlsPolicy::Insecure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_with_or_without_colons() {
        let plain = "ab".repeat(32);
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(parse_fingerprint(&plain), Some([0xab; 32]));
        assert_eq!(parse_fingerprint(&colons), Some([0xab; 32]));
        assert_eq!(parse_fingerprint("abc"), None);
        assert_eq!(parse_fingerprint(&"zz".repeat(32)), None);
    }
}
