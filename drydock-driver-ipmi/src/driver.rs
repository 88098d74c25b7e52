//! [`IpmiDriver`]: the core's [`OobDriver`] over the native RMCP+ client (its documentation
//! describes sessions and semantics).

use std::time::Duration;

use async_trait::async_trait;
use drydock_core::design::OobType;
use drydock_core::driver::{
    BootDevice, BootPersistence, Capabilities, DriverError, DriverErrorKind, OobDriver, OobFacts,
    OobTarget, Operation, PowerAction, PowerState, deadline_after,
};
use tokio::time::Instant;

use crate::commands;
use crate::config::{DEFAULT_PORT, IpmiConfig};
use crate::error::{Error, ErrorKind};
use crate::pool::{Lease, SessionPool, SessionStats};
use crate::{IpmiClient, PrivilegeLevel};

const DRIVER: &str = "ipmi";

/// Settings of [`IpmiDriver`]; every field has a default (`#[serde(default)]`).
///
/// ```
/// use drydock_driver_ipmi::IpmiDriverConfig;
/// let c: IpmiDriverConfig = serde_json::from_str(r#"{"power_deadline_ms": 5000}"#).unwrap();
/// assert_eq!(c.power_poll_interval_ms, 1000);
/// assert_eq!(c.max_concurrent_sessions, 64);
/// assert!(c.reuse_sessions);
/// assert_eq!(c.session_idle_ms, 30_000);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IpmiDriverConfig {
    /// Cipher suite to force; `None` picks 17 when the BMC offers it, else 3.
    pub cipher_suite: Option<u8>,
    /// Allow suites without authentication, integrity or confidentiality (0, 1, 2, ...).
    pub allow_insecure_cipher_suites: bool,
    /// Session privilege level (default administrator; power control needs at least operator).
    pub privilege: PrivilegeLevel,
    /// Time to wait for each BMC answer before retransmitting, in milliseconds (default 1000).
    pub timeout_ms: u64,
    /// Retransmissions after the first attempt (default 3).
    pub retries: u32,
    /// Interval between power state reads after a power change, in milliseconds (default 1000).
    pub power_poll_interval_ms: u64,
    /// How long a power change may take to show, in milliseconds (default 60000).
    pub power_deadline_ms: u64,
    /// After a power cycle command, how long to look for the off phase before waiting for
    /// on, in milliseconds (default 5000; part of the power deadline).
    pub cycle_off_window_ms: u64,
    /// Boot in EFI mode when setting the boot device (default legacy).
    pub efi_boot: bool,
    /// Sessions open at once across all BMCs, idle cached ones included (default 64).
    pub max_concurrent_sessions: usize,
    /// Keep a BMC's session for the next call on it (default true); off: one session per
    /// call. See [sessions](IpmiDriver#sessions).
    pub reuse_sessions: bool,
    /// How long a cached session may stay idle and still be reused, in milliseconds
    /// (default 30000; keep it below the BMCs' session timeout, commonly 60 s; 0 never
    /// reuses a session).
    pub session_idle_ms: u64,
}

impl Default for IpmiDriverConfig {
    fn default() -> Self {
        IpmiDriverConfig {
            cipher_suite: None,
            allow_insecure_cipher_suites: false,
            privilege: PrivilegeLevel::Administrator,
            timeout_ms: 1000,
            retries: 3,
            power_poll_interval_ms: 1000,
            power_deadline_ms: 60_000,
            cycle_off_window_ms: 5_000,
            efi_boot: false,
            max_concurrent_sessions: 64,
            reuse_sessions: true,
            session_idle_ms: 30_000,
        }
    }
}

/// The IPMI out-of-band driver.
///
/// # Sessions
///
/// With [`IpmiDriverConfig::reuse_sessions`] on (the default), the driver keeps the
/// authenticated RMCP+ session of a call for the next call on the same BMC (same address,
/// port, user and password): the orchestrator's SetPxeBoot then PowerCycle, or a power change
/// and its polling, run on one session instead of a handshake each.
///
/// * A session idle longer than [`IpmiDriverConfig::session_idle_ms`] (default 30 s, below the
///   60 s after which BMCs commonly expire sessions) is never reused: it is dropped with one
///   best-effort Close Session datagram on the next driver call, and a new session is opened.
/// * When a call on a reused session fails before the BMC answered anything, with an error
///   meaning the session may be gone ([`Error::is_session_lost`]: timeout, bytes that do not
///   verify, completion code 0x87/0x88), the session is dropped and the call is run once more
///   on a new session. Errors after the session answered are returned as they are (a power
///   change is not sent twice), and the session is not cached again if the error was
///   session-level.
/// * A changed password never reuses a session opened with the old one: the cache key holds a
///   salted digest of the password. Keys print as `user@host:port`.
/// * [`IpmiDriverConfig::max_concurrent_sessions`] bounds every open session, idle ones
///   included. A call needing a new session when the limit is reached closes the least
///   recently used idle session (of any BMC) and takes its place; when all sessions are in
///   use, it waits for one, and sessions handed back while calls wait are closed rather than
///   cached.
/// * [`IpmiDriver::close`] closes the idle sessions (Close Session sent and awaited); dropping
///   the driver sends one Close Session datagram for each without waiting.
///
/// With `reuse_sessions` off, every call opens a session, does its work, then closes it
/// (connect–work–close): no session outlives a call. The same global limit applies.
///
/// # Semantics
///
/// * [`OobDriver::set_power`] reads the power state first and is idempotent: `On` on a node
///   already on, and `Off`/`SoftOff` on a node already off, send nothing. `Cycle` and `Reset` of
///   a node that is off power it on (a BMC may refuse to cycle an off chassis). Otherwise the
///   command is sent and the state polled every [`IpmiDriverConfig::power_poll_interval_ms`]
///   until it is `On` (`On`, `Cycle`, `Reset`) or `Off` (`Off`, `SoftOff`), or until
///   [`IpmiDriverConfig::power_deadline_ms`] has passed ([`DriverErrorKind::TimedOut`]). After a
///   cycle command the driver first looks for the off phase (at most
///   [`IpmiDriverConfig::cycle_off_window_ms`], as a BMC may still report on for a moment), then
///   waits for on, however long the BMC reports off. Retryable errors while polling (a BMC busy
///   mid-cycle) are tolerated until the deadline.
/// * [`OobDriver::set_boot_device`] sets the boot flags, then reads them back; a different device
///   is a [`DriverErrorKind::Permanent`] error. Only the device is compared: some BMCs
///   (`ipmi_sim` among them) ignore the persistent and EFI bits.
/// * [`OobDriver::configure_pxe`] sets the next boot (one-time) to PXE, with the configured
///   legacy/EFI mode. IPMI has nothing else to prepare for network boot.
/// * [`OobDriver::interrogate`] reports the power state and the facts `manufacturer_id`,
///   `product_id`, `device_id`, `device_revision`, `firmware_revision`, `ipmi_version`,
///   `cipher_suite` and, when the BMC has a SEL, `sel_entries`.
///
/// ```
/// use drydock_core::driver::OobDriver;
/// use drydock_driver_ipmi::{IpmiDriver, IpmiDriverConfig};
/// let driver = IpmiDriver::new(IpmiDriverConfig::default());
/// assert_eq!(driver.name(), "ipmi");
/// ```
#[derive(Debug)]
pub struct IpmiDriver {
    config: IpmiDriverConfig,
    sessions: SessionPool,
}

impl IpmiDriver {
    /// A driver with `config`. A `max_concurrent_sessions` of 0 is taken as 1.
    pub fn new(config: IpmiDriverConfig) -> IpmiDriver {
        let sessions = SessionPool::new(
            config.max_concurrent_sessions,
            Duration::from_millis(config.session_idle_ms),
            config.reuse_sessions,
        );
        IpmiDriver { config, sessions }
    }

    /// Closes every idle cached session, sending Close Session and waiting for the answers;
    /// returns how many were closed. The driver stays usable (later calls open new sessions).
    pub async fn close(&self) -> usize {
        self.sessions.close_idle().await
    }

    /// Counters of the sessions opened, reused and closed, and the number idle now.
    pub fn session_stats(&self) -> SessionStats {
        self.sessions.stats()
    }

    /// The driver's configuration.
    pub fn config(&self) -> &IpmiDriverConfig {
        &self.config
    }

    /// The client configuration for `target`: address, account and credential are required.
    pub fn client_config(
        &self,
        target: &OobTarget,
        op: Operation,
    ) -> Result<IpmiConfig, DriverError> {
        if target.kind != OobType::Ipmi {
            return Err(err(
                DriverErrorKind::Unsupported,
                op,
                target,
                format!(
                    "OOB type {:?} is not handled by the ipmi driver",
                    target.kind
                ),
            ));
        }
        let mut missing = Vec::new();
        if target.address.is_none() {
            missing.push("address (no address on the node's OOB network)");
        }
        if target.account.as_deref().is_none_or(str::is_empty) {
            missing.push("account");
        }
        if target.credential.is_none() {
            missing.push("credential");
        }
        let (Some(address), Some(account), Some(credential), true) = (
            target.address,
            target.account.as_deref(),
            target.credential.as_ref(),
            missing.is_empty(),
        ) else {
            return Err(err(
                DriverErrorKind::Permanent,
                op,
                target,
                format!("IPMI node is missing its OOB {}", missing.join(", ")),
            ));
        };
        let mut config = IpmiConfig::new(address.to_string(), account, credential.expose())
            .with_port(target.port.unwrap_or(DEFAULT_PORT))
            .with_allow_insecure_cipher_suites(self.config.allow_insecure_cipher_suites)
            .with_privilege(self.config.privilege)
            .with_timeout(Duration::from_millis(self.config.timeout_ms))
            .with_retries(self.config.retries);
        if let Some(suite) = self.config.cipher_suite {
            config = config.with_cipher_suite(suite);
        }
        config
            .validate()
            .map_err(|e| from_ipmi(e, op, target, "invalid IPMI configuration"))?;
        Ok(config)
    }

    /// A session with `target`'s BMC (cached when `reuse`), under the global limit.
    async fn open(
        &self,
        config: &IpmiConfig,
        target: &OobTarget,
        op: Operation,
        reuse: bool,
    ) -> Result<Lease, DriverError> {
        self.sessions
            .checkout(config, reuse)
            .await
            .map_err(|e| from_ipmi(e, op, target, "cannot open a session with the BMC"))
    }

    /// Hands `lease` back after a call that returned `result`.
    async fn release<T>(&self, lease: Lease, result: &Result<T, DriverError>) {
        let healthy = result.as_ref().err().is_none_or(|e| !session_lost(e));
        self.sessions.checkin(lease, healthy).await;
    }

    /// Polls the power state until `expected` (`Ok(Ok(()))`) or `until` (`Ok(Err(last
    /// reading))`); non-retryable read errors end the wait.
    async fn poll_power(
        &self,
        client: &IpmiClient,
        target: &OobTarget,
        expected: commands::PowerState,
        until: Instant,
    ) -> Result<Result<(), String>, DriverError> {
        let interval = Duration::from_millis(self.config.power_poll_interval_ms.max(1));
        loop {
            let last = match client.power_state().await {
                Ok(state) if state == expected => return Ok(Ok(())),
                Ok(state) => format!("BMC reports power {}", state.as_str()),
                Err(e) if e.is_retryable() => e.to_string(),
                Err(e) => {
                    return Err(from_ipmi(
                        e,
                        Operation::SetPower,
                        target,
                        "reading the power state",
                    ));
                }
            };
            let now = Instant::now();
            if now >= until {
                return Ok(Err(last));
            }
            tokio::time::sleep(interval.min(until - now)).await;
        }
    }

    /// Polls the power state until `expected`; [`DriverErrorKind::TimedOut`] at `deadline`.
    async fn wait_power(
        &self,
        client: &IpmiClient,
        target: &OobTarget,
        expected: commands::PowerState,
        deadline: Instant,
    ) -> Result<(), DriverError> {
        self.poll_power(client, target, expected, deadline)
            .await?
            .map_err(|last| {
                err(
                    DriverErrorKind::TimedOut,
                    Operation::SetPower,
                    target,
                    format!(
                        "power did not become {} within {} ms ({last})",
                        expected.as_str(),
                        self.config.power_deadline_ms
                    ),
                )
            })
    }

    async fn do_set_power(
        &self,
        client: &IpmiClient,
        target: &OobTarget,
        action: PowerAction,
    ) -> Result<(), DriverError> {
        use commands::{PowerAction as Cmd, PowerState as St};
        let op = Operation::SetPower;
        let current = client
            .power_state()
            .await
            .map_err(|e| from_ipmi(e, op, target, "reading the power state"))?;
        let (command, expected) = match (action, current) {
            (PowerAction::On, St::On) => return Ok(()),
            (PowerAction::Off | PowerAction::SoftOff, St::Off) => return Ok(()),
            (PowerAction::On | PowerAction::Cycle | PowerAction::Reset, St::Off) => {
                (Cmd::On, St::On)
            }
            (PowerAction::Cycle, St::On) => (Cmd::Cycle, St::On),
            (PowerAction::Reset, St::On) => (Cmd::HardReset, St::On),
            (PowerAction::Off, St::On) => (Cmd::Off, St::Off),
            (PowerAction::SoftOff, St::On) => (Cmd::SoftOff, St::Off),
        };
        let deadline = deadline_after(Duration::from_millis(self.config.power_deadline_ms));
        client
            .power(command)
            .await
            .map_err(|e| from_ipmi(e, op, target, "chassis control"))?;
        if command == Cmd::Cycle {
            // A BMC may still report on just after the command: look for the off phase first,
            // for a bounded time (a fast cycle may fall between two polls).
            let window = deadline_after(Duration::from_millis(self.config.cycle_off_window_ms));
            if let Err(last) = self
                .poll_power(client, target, St::Off, window.min(deadline))
                .await?
            {
                tracing::debug!(node = %target.node, %last, "off phase of the cycle not seen");
            }
        }
        self.wait_power(client, target, expected, deadline).await
    }

    async fn do_set_boot(
        &self,
        client: &IpmiClient,
        target: &OobTarget,
        op: Operation,
        device: BootDevice,
        persistence: BootPersistence,
    ) -> Result<(), DriverError> {
        let wanted = match device {
            BootDevice::Pxe => commands::BootDevice::Pxe,
            BootDevice::Disk => commands::BootDevice::Disk,
            BootDevice::Bios => commands::BootDevice::BiosSetup,
        };
        let flags = commands::BootFlags {
            device: wanted,
            persistent: persistence == BootPersistence::Persistent,
            efi: self.config.efi_boot,
        };
        client
            .set_boot_flags(flags)
            .await
            .map_err(|e| from_ipmi(e, op, target, "setting the boot flags"))?;
        let read = client
            .boot_flags()
            .await
            .map_err(|e| from_ipmi(e, op, target, "reading the boot flags back"))?;
        if read.device != wanted {
            return Err(err(
                DriverErrorKind::Permanent,
                op,
                target,
                format!(
                    "boot device read back as {} after setting {}",
                    read.device.as_str(),
                    wanted.as_str()
                ),
            ));
        }
        Ok(())
    }

    async fn do_interrogate(
        &self,
        client: &IpmiClient,
        target: &OobTarget,
    ) -> Result<OobFacts, DriverError> {
        let op = Operation::InterrogateOob;
        let id = client
            .device_id()
            .await
            .map_err(|e| from_ipmi(e, op, target, "Get Device ID"))?;
        let power = client
            .power_state()
            .await
            .map_err(|e| from_ipmi(e, op, target, "reading the power state"))?;
        let mut facts = OobFacts {
            power: Some(core_state(power)),
            ..OobFacts::default()
        };
        let mut put = |k: &str, v: String| {
            facts.facts.insert(k.to_string(), v);
        };
        put("manufacturer_id", id.manufacturer_id.to_string());
        put("product_id", format!("0x{:04X}", id.product_id));
        put("device_id", id.device_id.to_string());
        put("device_revision", id.device_revision.to_string());
        put(
            "firmware_revision",
            format!("{}.{:02X}", id.firmware_major, id.firmware_minor),
        );
        put(
            "ipmi_version",
            format!("{}.{}", id.ipmi_version & 0x0F, id.ipmi_version >> 4),
        );
        put("cipher_suite", client.cipher_suite().to_string());
        match client.sel_info().await {
            Ok(sel) => put("sel_entries", sel.entries.to_string()),
            Err(e) => tracing::debug!(node = %target.node, error = %e, "no SEL info"),
        }
        Ok(facts)
    }
}

/// Runs `$body` with a session (`$client: &IpmiClient`) with `$target`'s BMC; on a reused
/// session that failed before answering anything, once more on a new session.
macro_rules! with_session {
    ($self:ident, $target:ident, $op:expr, |$client:ident| $body:expr) => {{
        let config = $self.client_config($target, $op)?;
        let lease = $self.open(&config, $target, $op, true).await?;
        let result = {
            let $client = &lease.client;
            $body.await
        };
        let stale = lease.reused && lease.client.answered() == lease.answered_at_checkout;
        match result {
            Err(e) if stale && session_lost(&e) => {
                tracing::debug!(node = %$target.node, error = %e,
                    "the cached IPMI session failed: retrying on a new session");
                $self.release(lease, &Err::<(), _>(e)).await;
                let lease = $self.open(&config, $target, $op, false).await?;
                let result = {
                    let $client = &lease.client;
                    $body.await
                };
                $self.release(lease, &result).await;
                result
            }
            result => {
                $self.release(lease, &result).await;
                result
            }
        }
    }};
}

#[async_trait]
impl OobDriver for IpmiDriver {
    fn name(&self) -> &'static str {
        DRIVER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::oob(
            vec![OobType::Ipmi],
            vec![BootDevice::Pxe, BootDevice::Disk, BootDevice::Bios],
            true,
        )
    }

    /// Checks the driver's configuration (no BMC is contacted: they are per node).
    async fn validate_services(&self) -> Result<(), DriverError> {
        let op = Operation::ValidateOobServices;
        let fail = |m: &str| Err(DriverError::new(DriverErrorKind::Permanent, DRIVER, op, m));
        if self.config.timeout_ms == 0 {
            return fail("timeout_ms is zero");
        }
        if self.config.power_poll_interval_ms == 0 {
            return fail("power_poll_interval_ms is zero");
        }
        if self.config.max_concurrent_sessions == 0 {
            return fail("max_concurrent_sessions is zero");
        }
        let mut probe = IpmiConfig::new("bmc", "user", "")
            .with_allow_insecure_cipher_suites(self.config.allow_insecure_cipher_suites);
        if let Some(suite) = self.config.cipher_suite {
            probe = probe.with_cipher_suite(suite);
        }
        probe.validate().map_err(|e| {
            DriverError::new(classify(&e), DRIVER, op, e.to_string()).with_source(e)
        })?;
        Ok(())
    }

    async fn configure_pxe(&self, target: &OobTarget) -> Result<(), DriverError> {
        let op = Operation::ConfigPxe;
        with_session!(self, target, op, |client| self.do_set_boot(
            client,
            target,
            op,
            BootDevice::Pxe,
            BootPersistence::OneTime
        ))
    }

    async fn set_boot_device(
        &self,
        target: &OobTarget,
        device: BootDevice,
        persistence: BootPersistence,
    ) -> Result<(), DriverError> {
        let op = Operation::SetBootDevice;
        with_session!(self, target, op, |client| self.do_set_boot(
            client,
            target,
            op,
            device,
            persistence
        ))
    }

    async fn set_power(&self, target: &OobTarget, action: PowerAction) -> Result<(), DriverError> {
        with_session!(self, target, Operation::SetPower, |client| self
            .do_set_power(client, target, action))
    }

    async fn power_state(&self, target: &OobTarget) -> Result<PowerState, DriverError> {
        let op = Operation::PowerState;
        with_session!(self, target, op, |client| async {
            client
                .power_state()
                .await
                .map(core_state)
                .map_err(|e| from_ipmi(e, op, target, "reading the power state"))
        })
    }

    async fn interrogate(&self, target: &OobTarget) -> Result<OobFacts, DriverError> {
        with_session!(self, target, Operation::InterrogateOob, |client| self
            .do_interrogate(client, target))
    }
}

fn core_state(state: commands::PowerState) -> PowerState {
    match state {
        commands::PowerState::On => PowerState::On,
        commands::PowerState::Off => PowerState::Off,
    }
}

/// The driver error kind of a client error.
///
/// ```
/// use drydock_core::driver::DriverErrorKind;
/// use drydock_driver_ipmi::{Error, classify};
/// assert_eq!(classify(&Error::Unauthorized("x".into())), DriverErrorKind::Unauthorized);
/// assert_eq!(classify(&Error::Timeout { what: "ping", attempts: 2 }), DriverErrorKind::TimedOut);
/// ```
pub fn classify(e: &Error) -> DriverErrorKind {
    match e.kind() {
        ErrorKind::Unauthorized => DriverErrorKind::Unauthorized,
        ErrorKind::Timeout => DriverErrorKind::TimedOut,
        ErrorKind::Unsupported => DriverErrorKind::Unsupported,
        ErrorKind::Config => DriverErrorKind::Permanent,
        _ if e.is_retryable() => DriverErrorKind::Transient,
        _ => DriverErrorKind::Permanent,
    }
}

fn err(
    kind: DriverErrorKind,
    op: Operation,
    target: &OobTarget,
    message: impl Into<String>,
) -> DriverError {
    DriverError::new(kind, DRIVER, op, message).for_node(&target.node)
}

/// Whether `e` comes from a client error meaning the session may be gone.
fn session_lost(e: &DriverError) -> bool {
    e.source
        .as_deref()
        .and_then(|s| s.downcast_ref::<Error>())
        .is_some_and(Error::is_session_lost)
}

fn from_ipmi(e: Error, op: Operation, target: &OobTarget, context: &str) -> DriverError {
    err(classify(&e), op, target, format!("{context}: {e}")).with_source(e)
}
