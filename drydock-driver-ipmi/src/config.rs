//! Client configuration: [`IpmiConfig`] and the [`Secret`] password type.

use std::fmt;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::crypto::CipherSuite;
use crate::error::{Error, Result};
use crate::rakp::PrivilegeLevel;

/// Default RMCP port.
pub const DEFAULT_PORT: u16 = 623;
/// Default time to wait for each answer before retransmitting.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// Default number of retransmissions after the first attempt.
pub const DEFAULT_RETRIES: u32 = 3;

/// A password: zeroized on drop, printed as `***` by `Debug` and `Display`.
///
/// ```
/// use drydock_driver_ipmi::Secret;
/// let s = Secret::from("hunter2");
/// assert_eq!(format!("{s:?} {s}"), "*** ***");
/// assert_eq!(s.expose(), b"hunter2");
/// ```
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps secret bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Secret {
        Secret(Zeroizing::new(bytes.into()))
    }

    /// The secret bytes. Do not log them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret::new(s.as_bytes())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret::new(s.into_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = Zeroizing::new(<String as serde::Deserialize>::deserialize(d)?);
        Ok(Secret::new(s.as_bytes()))
    }
}

/// How to reach and log in to one BMC.
///
/// Built with [`IpmiConfig::new`] and the `with_*` setters, or deserialized (durations in
/// milliseconds: `timeout_ms`). Validated by [`IpmiConfig::validate`], which
/// [`IpmiClient::connect`](crate::IpmiClient::connect) calls.
///
/// ```
/// use drydock_driver_ipmi::IpmiConfig;
/// let c: IpmiConfig = serde_json::from_str(
///     r#"{"host": "10.0.0.5", "username": "admin", "password": "pw", "cipher_suite": 3}"#,
/// ).unwrap();
/// assert_eq!(c.port, 623);
/// assert!(!format!("{c:?}").contains("pw\""));
/// assert!(c.validate().is_ok());
/// ```
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IpmiConfig {
    /// BMC host name or address.
    pub host: String,
    /// UDP port (default 623).
    #[serde(default = "default_port")]
    pub port: u16,
    /// User name (at most 16 bytes).
    pub username: String,
    /// Password (at most 20 bytes).
    pub password: Secret,
    /// Cipher suite to use; `None` (the default) picks 17 when the BMC offers it, else 3.
    #[serde(default)]
    pub cipher_suite: Option<u8>,
    /// Allow suites without authentication, integrity and confidentiality (0, 1, 2, 15, 16).
    #[serde(default)]
    pub allow_insecure_cipher_suites: bool,
    /// Session privilege requested after RAKP (default administrator).
    #[serde(default = "default_privilege")]
    pub privilege: PrivilegeLevel,
    /// Time to wait for each answer before retransmitting.
    #[serde(
        default = "default_timeout",
        rename = "timeout_ms",
        deserialize_with = "millis"
    )]
    pub timeout: Duration,
    /// Retransmissions after the first attempt.
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_port() -> u16 {
    DEFAULT_PORT
}
fn default_privilege() -> PrivilegeLevel {
    PrivilegeLevel::Administrator
}
fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}
fn default_retries() -> u32 {
    DEFAULT_RETRIES
}
fn millis<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Duration, D::Error> {
    <u64 as serde::Deserialize>::deserialize(d).map(Duration::from_millis)
}

impl IpmiConfig {
    /// A configuration with the defaults: port 623, automatic cipher suite (17, else 3),
    /// administrator privilege, 1 s timeout, 3 retries.
    pub fn new(
        host: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> IpmiConfig {
        IpmiConfig {
            host: host.into(),
            port: DEFAULT_PORT,
            username: username.into(),
            password: password.into(),
            cipher_suite: None,
            allow_insecure_cipher_suites: false,
            privilege: PrivilegeLevel::Administrator,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
        }
    }

    /// Sets the UDP port.
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Forces a cipher suite.
    #[must_use]
    pub fn with_cipher_suite(mut self, suite: u8) -> Self {
        self.cipher_suite = Some(suite);
        self
    }

    /// Allows cipher suites without full protection.
    #[must_use]
    pub fn with_allow_insecure_cipher_suites(mut self, allow: bool) -> Self {
        self.allow_insecure_cipher_suites = allow;
        self
    }

    /// Sets the session privilege level.
    #[must_use]
    pub fn with_privilege(mut self, privilege: PrivilegeLevel) -> Self {
        self.privilege = privilege;
        self
    }

    /// Sets the per-attempt timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the number of retransmissions.
    #[must_use]
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Checks the configuration; returns the forced cipher suite, if any.
    ///
    /// ```
    /// use drydock_driver_ipmi::{ErrorKind, IpmiConfig};
    /// let c = IpmiConfig::new("bmc", "admin", "pw").with_cipher_suite(0);
    /// assert_eq!(c.validate().unwrap_err().kind(), ErrorKind::Config);
    /// assert!(c.with_allow_insecure_cipher_suites(true).validate().is_ok());
    /// let md5 = IpmiConfig::new("bmc", "admin", "pw").with_cipher_suite(6);
    /// assert_eq!(md5.validate().unwrap_err().kind(), ErrorKind::Unsupported);
    /// ```
    pub fn validate(&self) -> Result<Option<CipherSuite>> {
        if self.host.is_empty() {
            return Err(Error::Config("host is empty".into()));
        }
        if self.username.len() > 16 {
            return Err(Error::Config("user name longer than 16 bytes".into()));
        }
        if self.password.expose().len() > 20 {
            return Err(Error::Config("password longer than 20 bytes".into()));
        }
        if self.timeout.is_zero() {
            return Err(Error::Config("timeout is zero".into()));
        }
        let Some(id) = self.cipher_suite else {
            return Ok(None);
        };
        let suite = CipherSuite::from_id(id).ok_or_else(|| {
            Error::Unsupported(format!(
                "cipher suite {id} is not implemented (use 3 or 17)"
            ))
        })?;
        if !suite.is_secure() && !self.allow_insecure_cipher_suites {
            return Err(Error::Config(format!(
                "cipher suite {id} lacks authentication, integrity or confidentiality; \
                 set allow_insecure_cipher_suites to use it"
            )));
        }
        Ok(Some(suite))
    }
}
