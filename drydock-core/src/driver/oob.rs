//! Out-of-band (BMC) drivers: power and boot device control.

use std::net::IpAddr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Capabilities, DriverError};
use crate::design::{CompiledNode, OobParameters, OobType, Secret};

/// Where and how to reach one node's BMC, taken from its compiled design.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OobTarget {
    /// The node's name.
    pub node: String,
    /// The driver type the design asks for.
    pub kind: OobType,
    /// The BMC's address (the node's address on its OOB network).
    pub address: Option<IpAddr>,
    /// The BMC's port, when not the protocol's default.
    pub port: Option<u16>,
    /// BMC user.
    pub account: Option<String>,
    /// BMC password.
    pub credential: Option<Secret>,
    /// Every OOB parameter of the design (secrets hidden from `Debug`).
    pub parameters: OobParameters,
}

impl OobTarget {
    /// The target of `node`, or `None` when the design gives it no OOB type.
    pub fn from_node(node: &CompiledNode) -> Option<Self> {
        Some(OobTarget {
            node: node.name.clone(),
            kind: node.oob.kind?,
            address: node.oob_address(),
            port: node.oob.port,
            account: node.oob.account.clone(),
            credential: node.oob.credential.clone(),
            parameters: node.oob.parameters.clone(),
        })
    }
}

/// A boot device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootDevice {
    /// Network boot.
    Pxe,
    /// Local disk.
    Disk,
    /// Firmware setup.
    Bios,
}

/// Whether a boot device setting lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootPersistence {
    /// For the next boot only.
    OneTime,
    /// Until changed.
    Persistent,
}

/// A power change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerAction {
    /// Power on.
    On,
    /// Power off (hard).
    Off,
    /// Off, then on.
    Cycle,
    /// Hard reset.
    Reset,
    /// Ask the OS to shut down.
    SoftOff,
}

/// A power state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerState {
    /// Powered on.
    On,
    /// Powered off.
    Off,
}

/// What a BMC tells about its node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OobFacts {
    /// Power state, when read.
    pub power: Option<PowerState>,
    /// Named facts (manufacturer, firmware revision, ...).
    pub facts: std::collections::BTreeMap<String, String>,
}

/// An out-of-band driver: controls nodes through their BMCs.
///
/// Every method acts on one node and must be idempotent: the orchestrator may call it again after
/// a crash, not knowing whether the first call reached the hardware. Power changes return once
/// the BMC reports the new state (or an error).
#[async_trait]
pub trait OobDriver: Send + Sync + std::fmt::Debug {
    /// The driver's name (`ipmi`).
    fn name(&self) -> &'static str;
    /// What the driver can do.
    fn capabilities(&self) -> Capabilities;
    /// Checks that the driver can work (configuration, reachability of what it needs).
    async fn validate_services(&self) -> Result<(), DriverError>;
    /// Prepares the node's BMC for network boot.
    async fn configure_pxe(&self, target: &OobTarget) -> Result<(), DriverError>;
    /// Sets the node's next boot device.
    async fn set_boot_device(
        &self,
        target: &OobTarget,
        device: BootDevice,
        persistence: BootPersistence,
    ) -> Result<(), DriverError>;
    /// Changes the node's power state and waits until the BMC reports it.
    async fn set_power(&self, target: &OobTarget, action: PowerAction) -> Result<(), DriverError>;
    /// Reads the node's power state.
    async fn power_state(&self, target: &OobTarget) -> Result<PowerState, DriverError>;
    /// Reads what the BMC knows of the node.
    async fn interrogate(&self, target: &OobTarget) -> Result<OobFacts, DriverError>;
}
