//! [`RedfishDriver`]: the core's [`OobDriver`] over [`BmcClient`]s, one per BMC.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use drydock_core::design::{BootMode, OobType};
use drydock_core::driver::{
    BootDevice, BootPersistence, Capabilities, DriverError, DriverErrorKind, OobDriver, OobFacts,
    OobTarget, Operation, PowerAction, PowerState,
};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::client::{BmcClient, ROOT};
use crate::config::{BmcSettings, RedfishDriverConfig};
use crate::error::{Error, Result};
use crate::model::{self, System};
use crate::{power, tls};

pub(crate) const DRIVER: &str = "redfish";

/// Cache key of a client: everything that makes two BMC connections different. The password
/// is kept as a salted digest.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    settings: BmcSettings,
    username: String,
    password: [u8; 32],
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.username, self.settings.base)
    }
}

/// Counters of the sessions the driver opened and closed, across BMCs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionStats {
    /// Redfish sessions created.
    pub created: u64,
    /// Redfish sessions deleted.
    pub deleted: u64,
    /// HTTP requests sent.
    pub requests: u64,
}

/// The Redfish out-of-band driver.
///
/// # Per node
///
/// A node's BMC is `https://<address>:<port>` (port 443 unless the design gives one), with its
/// `account` and `credential`; the OOB parameters documented at [`BmcSettings`] choose the
/// system, the TLS check and the network boot target. One [`BmcClient`] is kept per BMC (base
/// URL, user, password, TLS policy) for the driver's life; every HTTP request of every BMC
/// counts against [`RedfishDriverConfig::max_concurrent_requests`].
///
/// # Semantics
///
/// * Discovery follows links: the service root's `Systems`, the system whose `Id`, `UUID` or
///   `@odata.id` is the `system` parameter (or the only one), its `Links.ManagedBy`.
/// * Authentication: a Redfish session (`X-Auth-Token`) when the service offers sessions,
///   re-created once when a request is refused with 401; HTTP basic when it has none.
///   [`RedfishDriver::close`] deletes the sessions; dropping the driver deletes them without
///   waiting.
/// * [`OobDriver::set_power`] reads `PowerState` first and is idempotent like the IPMI
///   driver's; otherwise it posts `ComputerSystem.Reset` with the first reset type of the
///   action's `ResetType@Redfish.AllowableValues` (or its `ActionInfo`) in this order:
///   `On`: On, ForceOn, PushPowerButton; `Off`: ForceOff, PushPowerButton, GracefulShutdown;
///   `SoftOff`: GracefulShutdown, PushPowerButton; `Cycle`: PowerCycle, ForceRestart;
///   `Reset`: ForceRestart, PowerCycle. When neither cycle nor restart is offered, the driver
///   powers off then on. With no allowable values listed, the first choice is sent. It then
///   polls `PowerState` until it settles on the wanted state (after a restart, first looking
///   for the off phase), or [`DriverErrorKind::TimedOut`] after
///   [`RedfishDriverConfig::power_deadline_ms`].
/// * [`OobDriver::set_boot_device`] patches `Boot` (`BootSourceOverrideTarget` `Pxe`, `Hdd`,
///   `BiosSetup`, or `UefiHttp` for network boot when the node asks and the service offers it;
///   `BootSourceOverrideEnabled` `Once` or `Continuous`; `BootSourceOverrideMode` `UEFI` or
///   `Legacy` from the hardware profile's `boot_mode`), with `If-Match` when the system has
///   an ETag (re-read and retried once on 412), then reads it back: a different target or mode
///   is [`DriverErrorKind::Permanent`]. A target missing from the service's allowable values
///   is [`DriverErrorKind::Unsupported`]. A different `BootSourceOverrideEnabled` is only
///   logged (sushy-tools, for one, always reports `Continuous`).
/// * [`OobDriver::interrogate`] reports the power state and the facts listed in the crate
///   documentation.
#[derive(Debug)]
pub struct RedfishDriver {
    config: Arc<RedfishDriverConfig>,
    limit: Arc<Semaphore>,
    clients: Mutex<HashMap<Key, Arc<BmcClient>>>,
    warned: Mutex<HashSet<String>>,
    salt: [u8; 16],
}

impl RedfishDriver {
    /// A driver with `config`. A `max_concurrent_requests` of 0 is taken as 1.
    pub fn new(config: RedfishDriverConfig) -> RedfishDriver {
        let limit = Arc::new(Semaphore::new(config.max_concurrent_requests.max(1)));
        RedfishDriver {
            config: Arc::new(config),
            limit,
            clients: Mutex::default(),
            warned: Mutex::default(),
            salt: rand::random(),
        }
    }

    /// The driver's configuration.
    pub fn config(&self) -> &RedfishDriverConfig {
        &self.config
    }

    /// Deletes every Redfish session the driver holds; returns how many were deleted. The
    /// driver stays usable (later calls log in again).
    pub async fn close(&self) -> usize {
        let clients: Vec<_> = self.lock_clients().values().cloned().collect();
        let mut deleted = 0;
        for c in clients {
            deleted += usize::from(c.logout().await);
        }
        deleted
    }

    /// Sessions created and deleted, and requests sent, over the driver's life.
    pub fn session_stats(&self) -> SessionStats {
        use std::sync::atomic::Ordering::Relaxed;
        self.lock_clients()
            .values()
            .fold(SessionStats::default(), |mut s, c| {
                s.created += c.counters.sessions_created.load(Relaxed);
                s.deleted += c.counters.sessions_deleted.load(Relaxed);
                s.requests += c.counters.requests.load(Relaxed);
                s
            })
    }

    fn lock_clients(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Arc<BmcClient>>> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The client of `target`'s BMC, made on first use.
    fn client(&self, target: &OobTarget, op: Operation) -> Result<Arc<BmcClient>, DriverError> {
        let fail = |e: Error| to_driver(e, op, target, "");
        if target.kind != OobType::Redfish {
            return Err(err(
                DriverErrorKind::Unsupported,
                op,
                target,
                format!(
                    "OOB type {} is not handled by the redfish driver",
                    target.kind
                ),
            ));
        }
        let settings = BmcSettings::of(target, &self.config).map_err(fail)?;
        let username = target
            .account
            .clone()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| fail(Error::Config("the node has no OOB account".into())))?;
        let password = target
            .credential
            .clone()
            .ok_or_else(|| fail(Error::Config("the node has no OOB credential".into())))?;
        let mut digest = Sha256::new();
        digest.update(self.salt);
        digest.update(password.expose().as_bytes());
        let key = Key {
            settings: settings.clone(),
            username: username.clone(),
            password: digest.finalize().into(),
        };
        if let Some(c) = self.lock_clients().get(&key) {
            return Ok(c.clone());
        }
        if settings.is_insecure() {
            let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
            if warned.insert(settings.base.clone()) {
                tracing::warn!(bmc = %settings.base, tls = ?settings.tls,
                    "Redfish BMC reached without certificate verification (explicit configuration)");
            }
        }
        let http = tls::http_client(&settings.tls, &self.config).map_err(fail)?;
        let client = Arc::new(
            BmcClient::new(
                settings,
                http,
                username,
                password,
                self.config.clone(),
                self.limit.clone(),
            )
            .map_err(fail)?,
        );
        Ok(self.lock_clients().entry(key).or_insert(client).clone())
    }

    /// The path of `client`'s system for `selector`, discovered once.
    async fn system_path(&self, client: &BmcClient) -> Result<String> {
        let selector = client.settings.system.clone();
        if let Some(p) = client
            .systems
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&selector)
        {
            return Ok(p.clone());
        }
        let root = client.root().await?.clone();
        let systems = root
            .systems
            .ok_or_else(|| Error::Protocol(format!("the service root {ROOT} has no Systems")))?;
        let members = model::links(&client.get(&systems).await?.body, &["Members"]);
        let path = match &selector {
            None => match members.as_slice() {
                [one] => one.clone(),
                [] => return Err(Error::NotFound("the service has no system".into())),
                many => {
                    return Err(Error::Config(format!(
                        "the service has {} systems ({}): set the oob parameter `system`",
                        many.len(),
                        many.join(", ")
                    )));
                }
            },
            Some(want) => match members
                .iter()
                .find(|m| *m == want || m.trim_end_matches('/').rsplit('/').next() == Some(want))
            {
                Some(m) => m.clone(),
                None => {
                    let mut found = None;
                    for m in members.iter().take(64) {
                        let body = client.get(m).await?.body;
                        if [&["Id"][..], &["UUID"]]
                            .iter()
                            .any(|k| model::text(&body, k) == Some(want.as_str()))
                        {
                            found = Some(m.clone());
                            break;
                        }
                    }
                    found.ok_or_else(|| {
                        Error::NotFound(format!("no system `{want}` among {}", members.join(", ")))
                    })?
                }
            },
        };
        client
            .systems
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(selector, path.clone());
        Ok(path)
    }

    /// The system of `target`: its client, its path and its current state.
    pub(crate) async fn system(
        &self,
        target: &OobTarget,
        op: Operation,
    ) -> Result<(Arc<BmcClient>, String, System, serde_json::Value), DriverError> {
        let client = self.client(target, op)?;
        let path = self
            .system_path(&client)
            .await
            .map_err(|e| to_driver(e, op, target, "finding the system"))?;
        let reply = client
            .get(&path)
            .await
            .map_err(|e| to_driver(e, op, target, "reading the system"))?;
        let mut system = System::parse(&reply.body);
        if system.etag.is_none() {
            system.etag = reply.etag;
        }
        Ok((client, path, system, reply.body))
    }

    async fn do_set_boot(
        &self,
        target: &OobTarget,
        op: Operation,
        device: BootDevice,
        persistence: BootPersistence,
    ) -> Result<(), DriverError> {
        let (client, path, system, _) = self.system(target, op).await?;
        let offered = |t: &str| {
            system
                .boot_targets_allowed
                .as_ref()
                .is_none_or(|a| a.iter().any(|x| x == t))
        };
        let wanted = match device {
            BootDevice::Pxe if client.settings.uefi_http && offered("UefiHttp") => "UefiHttp",
            BootDevice::Pxe => "Pxe",
            BootDevice::Disk => "Hdd",
            BootDevice::Bios => "BiosSetup",
        };
        if !offered(wanted) {
            return Err(err(
                DriverErrorKind::Unsupported,
                op,
                target,
                format!(
                    "boot target {wanted} is not offered (the BMC allows {})",
                    system.boot_targets_allowed.unwrap_or_default().join(", ")
                ),
            ));
        }
        let enabled = match persistence {
            BootPersistence::OneTime => "Once",
            BootPersistence::Persistent => "Continuous",
        };
        let mode = client.settings.boot_mode.map(|m| match m {
            BootMode::Uefi => "UEFI",
            BootMode::Bios => "Legacy",
        });
        let mut boot = serde_json::json!({
            "BootSourceOverrideTarget": wanted,
            "BootSourceOverrideEnabled": enabled,
        });
        if let Some(mode) = mode {
            boot["BootSourceOverrideMode"] = mode.into();
        }
        let body = serde_json::json!({ "Boot": boot });
        let mut etag = system.etag.clone();
        for attempt in 0..2 {
            match client.patch(&path, &body, etag.as_deref()).await {
                Ok(_) => break,
                Err(e) if e.status() == Some(412) && attempt == 0 => {
                    tracing::debug!(node = %target.node, "ETag changed: re-reading the system");
                    etag = self.system(target, op).await?.2.etag;
                }
                Err(e) => return Err(to_driver(e, op, target, "setting the boot override")),
            }
        }
        let read = System::parse(
            &client
                .get(&path)
                .await
                .map_err(|e| to_driver(e, op, target, "reading the boot override back"))?
                .body,
        );
        if read.boot_target.as_deref() != Some(wanted) {
            return Err(err(
                DriverErrorKind::Permanent,
                op,
                target,
                format!(
                    "boot override target read back as {} after setting {wanted}",
                    read.boot_target.as_deref().unwrap_or("nothing")
                ),
            ));
        }
        if let Some(mode) = mode
            && read.boot_mode.as_deref() != Some(mode)
        {
            return Err(err(
                DriverErrorKind::Permanent,
                op,
                target,
                format!(
                    "boot mode read back as {} after setting {mode}",
                    read.boot_mode.as_deref().unwrap_or("nothing")
                ),
            ));
        }
        if read.boot_enabled.as_deref() != Some(enabled) {
            tracing::info!(node = %target.node, wanted = enabled, read = ?read.boot_enabled,
                "the BMC reports another BootSourceOverrideEnabled");
        }
        Ok(())
    }
}

#[async_trait]
impl OobDriver for RedfishDriver {
    fn name(&self) -> &'static str {
        DRIVER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::oob(
            vec![OobType::Redfish],
            vec![BootDevice::Pxe, BootDevice::Disk],
            true,
        )
    }

    /// Checks the driver's configuration (no BMC is contacted: they are per node).
    async fn validate_services(&self) -> Result<(), DriverError> {
        self.config.validate().map_err(|e| {
            DriverError::new(
                e.kind(),
                DRIVER,
                Operation::ValidateOobServices,
                e.to_string(),
            )
            .with_source(e)
        })
    }

    async fn configure_pxe(&self, target: &OobTarget) -> Result<(), DriverError> {
        self.do_set_boot(
            target,
            Operation::ConfigPxe,
            BootDevice::Pxe,
            BootPersistence::OneTime,
        )
        .await
    }

    async fn set_boot_device(
        &self,
        target: &OobTarget,
        device: BootDevice,
        persistence: BootPersistence,
    ) -> Result<(), DriverError> {
        self.do_set_boot(target, Operation::SetBootDevice, device, persistence)
            .await
    }

    async fn set_power(&self, target: &OobTarget, action: PowerAction) -> Result<(), DriverError> {
        power::set_power(self, target, action).await
    }

    async fn power_state(&self, target: &OobTarget) -> Result<PowerState, DriverError> {
        let op = Operation::PowerState;
        let (_, _, system, _) = self.system(target, op).await?;
        power::current(&system).map_err(|e| to_driver(e, op, target, ""))
    }

    async fn interrogate(&self, target: &OobTarget) -> Result<OobFacts, DriverError> {
        crate::facts::interrogate(self, target).await
    }
}

/// A driver error of `kind` for `target`.
pub(crate) fn err(
    kind: DriverErrorKind,
    op: Operation,
    target: &OobTarget,
    message: impl Into<String>,
) -> DriverError {
    DriverError::new(kind, DRIVER, op, message).for_node(&target.node)
}

/// The driver error of a client error, with `context` before its message.
pub(crate) fn to_driver(e: Error, op: Operation, target: &OobTarget, context: &str) -> DriverError {
    let message = if context.is_empty() {
        e.to_string()
    } else {
        format!("{context}: {e}")
    };
    err(e.kind(), op, target, message).with_source(e)
}

/// Sleeps `interval`, but not past `until`.
pub(crate) async fn nap(interval: Duration, until: tokio::time::Instant) {
    let now = tokio::time::Instant::now();
    if now < until {
        tokio::time::sleep(interval.min(until - now)).await;
    }
}
