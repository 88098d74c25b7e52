//! [`FallbackOob`]: one OOB driver over several, reaching each node's BMC by whichever of its
//! protocols works.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::future::BoxFuture;

use super::{
    BootDevice, BootPersistence, Capabilities, DriverError, DriverErrorKind, OobDriver, OobFacts,
    OobTarget, Operation, PowerAction, PowerState,
};
use crate::design::OobType;

/// The OOB parameter listing a node's other protocols, comma-separated, tried in order after
/// its `type` (`fallback: ipmi`). For a fallback type `t`, the port is the parameter `t_port`
/// (`ipmi_port: 6230`) or the protocol's default: `port` belongs to the node's `type`.
pub const FALLBACK_PARAMETER: &str = "fallback";

/// An OOB driver that holds several and, per node and operation, uses the first of the
/// node's protocols that works.
///
/// A node's protocols are its `oob.type`, then the types of its `fallback` OOB parameter
/// ([`FALLBACK_PARAMETER`]), each served by the first held driver whose capabilities list it:
///
/// ```yaml
/// oob:
///   type: redfish
///   fallback: ipmi        # the same BMC also speaks IPMI
///   network: oob
///   account: admin
///   credential: secret
/// ```
///
/// * The next protocol is tried when one fails with [`DriverErrorKind::Unsupported`] (the
///   driver or the BMC cannot do it) or [`DriverErrorKind::Unreachable`] (nothing answered, so
///   nothing was done). Any other failure ends the call: refused credentials
///   ([`DriverErrorKind::Unauthorized`]) or a permanent error are the same on every protocol
///   of a BMC, and a timeout or a transient error may have left the BMC acting.
/// * The protocol that worked for a node is remembered and tried first next time (the others
///   still follow it on such failures). Every fallback is logged as a warning, and
///   [`FallbackOob::protocol`] tells which protocol last worked;
///   interrogation adds it as the fact `oob_protocol`.
/// * When every protocol fails, the error has the kind of the last failure and the messages
///   of all.
///
/// ```
/// use drydock_core::driver::{FallbackOob, OobDriver};
/// // Hold the real drivers, e.g. `vec![Arc::new(redfish), Arc::new(ipmi)]`.
/// let both = FallbackOob::new(vec![]);
/// assert_eq!(both.name(), "fallback");
/// assert!(both.capabilities().oob_types.is_empty());
/// ```
#[derive(Debug)]
pub struct FallbackOob {
    drivers: Vec<Arc<dyn OobDriver>>,
    worked: Mutex<HashMap<String, OobType>>,
}

impl FallbackOob {
    /// A driver over `drivers`, in order of preference for a type several serve.
    pub fn new(drivers: Vec<Arc<dyn OobDriver>>) -> FallbackOob {
        FallbackOob {
            drivers,
            worked: Mutex::default(),
        }
    }

    /// The protocol that last worked for `node`, if any did.
    pub fn protocol(&self, node: &str) -> Option<OobType> {
        self.remembered().get(node).cloned()
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<String, OobType>> {
        self.worked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The node's protocols (remembered one first), each with its target and driver.
    fn candidates(&self, target: &OobTarget) -> Vec<(OobTarget, &Arc<dyn OobDriver>)> {
        let mut types = vec![target.kind.clone()];
        if let Some(list) = target.parameters.0.get(FALLBACK_PARAMETER) {
            for t in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let t: OobType = t.parse().unwrap_or_else(|never| match never {});
                if !types.contains(&t) {
                    types.push(t);
                }
            }
        }
        if let Some(first) = self.protocol(&target.node)
            && let Some(i) = types.iter().position(|t| *t == first)
        {
            let t = types.remove(i);
            types.insert(0, t);
        }
        types
            .into_iter()
            .filter_map(|kind| {
                let driver = self
                    .drivers
                    .iter()
                    .find(|d| d.capabilities().oob_types.contains(&kind))?;
                let t = if kind == target.kind {
                    target.clone()
                } else {
                    let port = target
                        .parameters
                        .0
                        .get(&format!("{kind}_port"))
                        .and_then(|p| p.trim().parse().ok());
                    OobTarget {
                        kind,
                        port,
                        ..target.clone()
                    }
                };
                Some((t, driver))
            })
            .collect()
    }

    /// Runs `call` on the node's protocols until one works or fails for good.
    async fn attempt<T: Send>(
        &self,
        target: &OobTarget,
        op: Operation,
        call: impl for<'a> Fn(&'a dyn OobDriver, &'a OobTarget) -> BoxFuture<'a, Result<T, DriverError>>
        + Send
        + Sync,
    ) -> Result<(T, OobType), DriverError> {
        let candidates = self.candidates(target);
        if candidates.is_empty() {
            return Err(DriverError::new(
                DriverErrorKind::Unsupported,
                "fallback",
                op,
                format!(
                    "no driver serves the OOB type {} or its fallbacks",
                    target.kind
                ),
            )
            .for_node(&target.node));
        }
        let mut failures: Vec<String> = Vec::new();
        let count = candidates.len();
        for (i, (t, driver)) in candidates.into_iter().enumerate() {
            match call(driver.as_ref(), &t).await {
                Ok(v) => {
                    let previous = self.remembered().insert(t.node.clone(), t.kind.clone());
                    if !failures.is_empty() || previous.as_ref().is_some_and(|p| *p != t.kind) {
                        tracing::warn!(node = %t.node, protocol = %t.kind, %op,
                            "BMC reached through a fallback protocol");
                    }
                    return Ok((v, t.kind));
                }
                Err(e)
                    if i + 1 < count
                        && matches!(
                            e.kind,
                            DriverErrorKind::Unsupported | DriverErrorKind::Unreachable
                        ) =>
                {
                    tracing::warn!(node = %t.node, protocol = %t.kind, error = %e,
                        "trying the node's next OOB protocol");
                    failures.push(format!("{}: {}", t.kind, e.message));
                }
                Err(e) if failures.is_empty() => return Err(e),
                Err(e) => {
                    failures.push(format!("{}: {}", t.kind, e.message));
                    return Err(DriverError {
                        message: failures.join("; "),
                        ..e
                    });
                }
            }
        }
        // Not reached: the last candidate returns whatever its outcome.
        Err(DriverError::new(
            DriverErrorKind::Unsupported,
            "fallback",
            op,
            failures.join("; "),
        )
        .for_node(&target.node))
    }
}

#[async_trait]
impl OobDriver for FallbackOob {
    fn name(&self) -> &'static str {
        "fallback"
    }

    /// The union of the held drivers' capabilities.
    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::default();
        for c in self.drivers.iter().map(|d| d.capabilities()) {
            for t in c.oob_types {
                if !caps.oob_types.contains(&t) {
                    caps.oob_types.push(t);
                }
            }
            for d in c.boot_devices {
                if !caps.boot_devices.contains(&d) {
                    caps.boot_devices.push(d);
                }
            }
            caps.persistent_boot |= c.persistent_boot;
            caps.interrogate |= c.interrogate;
        }
        caps
    }

    /// Every held driver must pass.
    async fn validate_services(&self) -> Result<(), DriverError> {
        for d in &self.drivers {
            d.validate_services().await?;
        }
        Ok(())
    }

    async fn configure_pxe(&self, target: &OobTarget) -> Result<(), DriverError> {
        self.attempt(target, Operation::ConfigPxe, |d, t| d.configure_pxe(t))
            .await
            .map(|(v, _)| v)
    }

    async fn set_boot_device(
        &self,
        target: &OobTarget,
        device: BootDevice,
        persistence: BootPersistence,
    ) -> Result<(), DriverError> {
        self.attempt(target, Operation::SetBootDevice, |d, t| {
            d.set_boot_device(t, device, persistence)
        })
        .await
        .map(|(v, _)| v)
    }

    async fn set_power(&self, target: &OobTarget, action: PowerAction) -> Result<(), DriverError> {
        self.attempt(target, Operation::SetPower, |d, t| d.set_power(t, action))
            .await
            .map(|(v, _)| v)
    }

    async fn power_state(&self, target: &OobTarget) -> Result<PowerState, DriverError> {
        self.attempt(target, Operation::PowerState, |d, t| d.power_state(t))
            .await
            .map(|(v, _)| v)
    }

    async fn interrogate(&self, target: &OobTarget) -> Result<OobFacts, DriverError> {
        let (mut facts, kind) = self
            .attempt(target, Operation::InterrogateOob, |d, t| d.interrogate(t))
            .await?;
        facts
            .facts
            .insert("oob_protocol".into(), kind.as_str().to_owned());
        Ok(facts)
    }
}
