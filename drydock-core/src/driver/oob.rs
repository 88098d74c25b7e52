//! Out-of-band (BMC) drivers: power and boot device control.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Capabilities, DriverError};
use crate::design::{BootMode, CompiledDesign, CompiledNode, OobParameters, OobType, Secret};

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
    /// The firmware boot mode of the node's hardware profile, when the target was made with
    /// [`OobTarget::in_design`] and the profile gives one.
    pub boot_mode: Option<BootMode>,
}

impl OobTarget {
    /// The target of `node`, or `None` when the design gives it no OOB type.
    pub fn from_node(node: &CompiledNode) -> Option<Self> {
        Some(OobTarget {
            node: node.name.clone(),
            kind: node.oob.kind.clone()?,
            address: node.oob_address(),
            port: node.oob.port,
            account: node.oob.account.clone(),
            credential: node.oob.credential.clone(),
            parameters: node.oob.parameters.clone(),
            boot_mode: None,
        })
    }

    /// The target of `node` of `design`, with what the node's hardware profile says (its boot
    /// mode), or `None` when the design gives the node no OOB type.
    ///
    /// ```
    /// # use drydock_core::design::{compile, ingest_sources, BootMode, Source};
    /// # use drydock_core::driver::OobTarget;
    /// let text = "schema: drydock/HardwareProfile/v1\nmetadata: {name: hw}\ndata: {boot_mode: uefi}\n\
    ///     ---\nschema: drydock/Network/v1\nmetadata: {name: oob}\ndata: {cidr: 10.0.0.0/8}\n\
    ///     ---\nschema: drydock/BaremetalNode/v1\nmetadata: {name: n01}\n\
    ///     data: {hardware_profile: hw, oob: {type: redfish, network: oob}, \
    ///     addressing: [{network: oob, address: 10.0.0.1}]}\n";
    /// let design = compile(ingest_sources(&[Source::new("site.yaml", text)]).unwrap()).unwrap();
    /// let target = OobTarget::in_design(design.node("n01").unwrap(), &design).unwrap();
    /// assert_eq!(target.boot_mode, Some(BootMode::Uefi));
    /// ```
    pub fn in_design(node: &CompiledNode, design: &CompiledDesign) -> Option<Self> {
        let mut target = OobTarget::from_node(node)?;
        target.boot_mode = node
            .hardware_profile
            .as_deref()
            .and_then(|h| design.site.hardware_profiles.get(h))
            .and_then(|h| h.boot_mode);
        Some(target)
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OobFacts {
    /// Power state, when read.
    pub power: Option<PowerState>,
    /// Named facts as the protocol names them, for people and logs (manufacturer, firmware
    /// revision, ...).
    pub facts: std::collections::BTreeMap<String, String>,
    /// The typed facts verification compares with the design; what the protocol cannot read
    /// stays `None`.
    #[serde(default)]
    pub hardware: super::HardwareFacts,
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

/// The nodes among `nodes` whose OOB type none of `drivers` serves (by its
/// [`Capabilities::oob_types`]), with that type, in the order given; nodes without an OOB type
/// are not listed.
///
/// ```
/// # use drydock_core::design::{compile, ingest_sources, OobType, Source};
/// use drydock_core::driver::unserved_oob;
/// let text = "schema: drydock/Network/v1\nmetadata: {name: oob}\ndata: {cidr: 10.0.0.0/8}\n\
///     ---\nschema: drydock/BaremetalNode/v1\nmetadata: {name: n01}\n\
///     data: {oob: {type: amt}, addressing: [{network: oob, address: 10.0.0.1}]}\n";
/// let design = compile(ingest_sources(&[Source::new("site.yaml", text)]).unwrap()).unwrap();
/// let nodes: Vec<_> = design.nodes.values().collect();
/// let missing = unserved_oob(&[], &nodes);
/// assert_eq!(missing, vec![("n01", &OobType::Other("amt".into()))]);
/// ```
pub fn unserved_oob<'a>(
    drivers: &[Arc<dyn OobDriver>],
    nodes: &[&'a CompiledNode],
) -> Vec<(&'a str, &'a OobType)> {
    let served: Vec<OobType> = drivers
        .iter()
        .flat_map(|d| d.capabilities().oob_types)
        .collect();
    nodes
        .iter()
        .filter_map(|n| Some((n.name.as_str(), n.oob.kind.as_ref()?)))
        .filter(|(_, kind)| !served.contains(kind))
        .collect()
}
