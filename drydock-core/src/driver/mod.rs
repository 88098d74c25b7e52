//! The driver traits: what the orchestrator asks of out-of-band (BMC) drivers and of node
//! (provisioner) drivers, with typed arguments and results and a classified error.
//!
//! Drivers live in their own crates (`drydock-driver-ipmi`, `drydock-driver-maas`); the core holds
//! only the traits and the simulated drivers used by tests and examples. Both traits are
//! object-safe (the orchestrator holds `Arc<dyn OobDriver>`), async (through `async_trait`) and
//! have no default method bodies: a driver states what it cannot do by returning
//! [`DriverErrorKind::Unsupported`] and by its [`Capabilities`].

mod error;
mod facts;
mod fallback;
mod node;
mod oob;

pub use error::{DriverError, DriverErrorKind};
pub use facts::{
    Drive, Firmware, HardwareFacts, Health, LldpNeighbor, LogEvent, Nic, PciDevice, Processor,
    Sensor, Severity, SystemIdentity,
};
pub use fallback::{FALLBACK_PARAMETER, FallbackOob};
pub use node::{
    BuildData, DeployBootActions, Identification, NodeDriver, NodeJob, PlatformCatalog, SiteJob,
};
pub use oob::{
    BootDevice, BootPersistence, OobDriver, OobFacts, OobTarget, PowerAction, PowerState,
    unserved_oob,
};

use serde::{Deserialize, Serialize};

/// The instant `wait` from now on tokio's clock; a wait too large for the clock gives an
/// instant about thirty years ahead, so that a huge configured timeout means "no deadline"
/// rather than a panic.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use drydock_core::driver::deadline_after;
/// let soon = deadline_after(Duration::from_secs(1));
/// assert!(soon > tokio::time::Instant::now());
/// assert!(deadline_after(Duration::MAX) > soon); // no overflow
/// # });
/// ```
pub fn deadline_after(wait: std::time::Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(wait)
        .unwrap_or_else(|| now + std::time::Duration::from_secs(86_400 * 365 * 30))
}

/// Every operation a driver performs, for errors, journals and call logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operation {
    /// Check that the BMC service side is usable.
    ValidateOobServices,
    /// Prepare a node's BMC for network boot.
    ConfigPxe,
    /// Set the next boot device.
    SetBootDevice,
    /// Change the power state.
    SetPower,
    /// Read the power state.
    PowerState,
    /// Read hardware facts from the BMC.
    InterrogateOob,
    /// Check that the provisioner is usable.
    ValidateNodeServices,
    /// List the images and kernels the provisioner offers.
    AvailablePlatforms,
    /// Create the site's networks in the provisioner.
    CreateNetworkTemplate,
    /// Install the site's SSH keys in the provisioner.
    ConfigureUserCredentials,
    /// Configure the provisioner's package repositories.
    ConfigureProvisioner,
    /// Find a node in the provisioner.
    IdentifyNode,
    /// Commission a node.
    ConfigureHardware,
    /// Read a node's facts from the provisioner.
    InterrogateNode,
    /// Configure a node's network interfaces.
    ApplyNetworking,
    /// Configure a node's storage.
    ApplyStorage,
    /// Configure a node's image, kernel and parameters.
    ApplyPlatform,
    /// Deploy a node and wait for it.
    Deploy,
    /// Release and remove a node.
    Destroy,
}

impl Operation {
    /// The operation's name (`apply_networking`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::ValidateOobServices => "validate_oob_services",
            Operation::ConfigPxe => "config_pxe",
            Operation::SetBootDevice => "set_boot_device",
            Operation::SetPower => "set_power",
            Operation::PowerState => "power_state",
            Operation::InterrogateOob => "interrogate_oob",
            Operation::ValidateNodeServices => "validate_node_services",
            Operation::AvailablePlatforms => "available_platforms",
            Operation::CreateNetworkTemplate => "create_network_template",
            Operation::ConfigureUserCredentials => "configure_user_credentials",
            Operation::ConfigureProvisioner => "configure_provisioner",
            Operation::IdentifyNode => "identify_node",
            Operation::ConfigureHardware => "configure_hardware",
            Operation::InterrogateNode => "interrogate_node",
            Operation::ApplyNetworking => "apply_networking",
            Operation::ApplyStorage => "apply_storage",
            Operation::ApplyPlatform => "apply_platform",
            Operation::Deploy => "deploy",
            Operation::Destroy => "destroy",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a driver can do: the orchestrator and the conformance suite select on it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// OOB types the driver handles (OOB drivers).
    pub oob_types: Vec<crate::design::OobType>,
    /// Boot devices it can set (OOB drivers).
    pub boot_devices: Vec<BootDevice>,
    /// Whether a boot device can be set persistently (OOB drivers).
    pub persistent_boot: bool,
    /// Whether the driver reports build data when interrogating.
    pub interrogate: bool,
    /// Whether the driver can destroy (release) nodes (node drivers).
    pub destroy: bool,
}

impl Capabilities {
    /// Capabilities of an OOB driver for `oob_types`.
    pub fn oob(
        oob_types: Vec<crate::design::OobType>,
        boot_devices: Vec<BootDevice>,
        persistent_boot: bool,
    ) -> Self {
        Capabilities {
            oob_types,
            boot_devices,
            persistent_boot,
            ..Capabilities::default()
        }
    }

    /// Capabilities of a node driver.
    pub fn node(interrogate: bool, destroy: bool) -> Self {
        Capabilities {
            interrogate,
            destroy,
            ..Capabilities::default()
        }
    }
}
