//! Machines: status codes, power state, the machine object.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::network::{Domain, Interface};
use super::null_default;
use super::storage::BlockDevice;

macro_rules! statuses {
    ($($variant:ident = $code:literal, $label:literal;)*) => {
        /// A machine's `status`, keyed on MAAS' integer code (labels are for display only).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "i64", into = "i64")]
        #[non_exhaustive]
        pub enum MachineStatus {
            $(
                #[doc = concat!("`", stringify!($code), "`: ", $label, ".")]
                $variant,
            )*
            /// A code this client does not know.
            Other(i64),
        }

        impl MachineStatus {
            /// Every known status, in code order.
            pub const ALL: &'static [MachineStatus] = &[$(MachineStatus::$variant,)*];

            /// MAAS' integer code.
            pub fn code(self) -> i64 {
                match self {
                    $(Self::$variant => $code,)*
                    Self::Other(c) => c,
                }
            }

            /// MAAS' label (`status_name`), e.g. `Failed deployment`.
            pub fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)*
                    Self::Other(_) => "Unknown",
                }
            }
        }

        impl From<i64> for MachineStatus {
            fn from(code: i64) -> Self {
                match code {
                    $($code => Self::$variant,)*
                    other => Self::Other(other),
                }
            }
        }
    };
}

statuses! {
    New = 0, "New";
    Commissioning = 1, "Commissioning";
    FailedCommissioning = 2, "Failed commissioning";
    Missing = 3, "Missing";
    Ready = 4, "Ready";
    Reserved = 5, "Reserved";
    Deployed = 6, "Deployed";
    Retired = 7, "Retired";
    Broken = 8, "Broken";
    Deploying = 9, "Deploying";
    Allocated = 10, "Allocated";
    FailedDeployment = 11, "Failed deployment";
    Releasing = 12, "Releasing";
    ReleasingFailed = 13, "Releasing failed";
    DiskErasing = 14, "Disk erasing";
    FailedDiskErasing = 15, "Failed disk erasing";
    RescueMode = 16, "Rescue mode";
    EnteringRescueMode = 17, "Entering rescue mode";
    FailedEnteringRescueMode = 18, "Failed to enter rescue mode";
    ExitingRescueMode = 19, "Exiting rescue mode";
    FailedExitingRescueMode = 20, "Failed to exit rescue mode";
    Testing = 21, "Testing";
    FailedTesting = 22, "Failed testing";
}

impl From<MachineStatus> for i64 {
    fn from(s: MachineStatus) -> i64 {
        s.code()
    }
}

impl fmt::Display for MachineStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Other(c) => write!(f, "Unknown ({c})"),
            s => f.write_str(s.label()),
        }
    }
}

impl MachineStatus {
    /// Whether this is one of MAAS' failure states (including `Releasing failed`, which does
    /// not start with "Failed").
    ///
    /// ```
    /// use drydock_driver_maas::MachineStatus;
    /// assert!(MachineStatus::ReleasingFailed.is_failed());
    /// assert!(MachineStatus::from(11).is_failed());
    /// assert!(!MachineStatus::Deployed.is_failed());
    /// ```
    pub fn is_failed(self) -> bool {
        matches!(
            self,
            Self::FailedCommissioning
                | Self::FailedDeployment
                | Self::ReleasingFailed
                | Self::FailedDiskErasing
                | Self::FailedEnteringRescueMode
                | Self::FailedExitingRescueMode
                | Self::FailedTesting
        )
    }

    /// Whether a poll loop waiting for an operation to finish may stop here: the status is
    /// not one MAAS moves out of by itself (settled, failed, broken or missing).
    pub fn is_settled(self) -> bool {
        !matches!(
            self,
            Self::Commissioning
                | Self::Testing
                | Self::Deploying
                | Self::Releasing
                | Self::DiskErasing
                | Self::EnteringRescueMode
                | Self::ExitingRescueMode
        )
    }
}

/// A machine's `power_state`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum PowerState {
    /// `on`.
    On,
    /// `off`.
    Off,
    /// `unknown` (or absent).
    #[default]
    Unknown,
    /// `error`.
    Error,
    /// A value this client does not know.
    Other(String),
}

impl From<String> for PowerState {
    fn from(s: String) -> Self {
        match s.as_str() {
            "on" => Self::On,
            "off" => Self::Off,
            "unknown" => Self::Unknown,
            "error" => Self::Error,
            _ => Self::Other(s),
        }
    }
}

impl From<PowerState> for String {
    fn from(p: PowerState) -> String {
        match p {
            PowerState::On => "on".into(),
            PowerState::Off => "off".into(),
            PowerState::Unknown => "unknown".into(),
            PowerState::Error => "error".into(),
            PowerState::Other(s) => s,
        }
    }
}

/// A nested `{id, name, …}` reference (zone, pool).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct NamedRef {
    /// Id.
    #[serde(default)]
    pub id: i64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
}

/// A `{system_id, id, __incomplete__: true}` stub (volume groups, RAIDs… inside a machine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ObjectStub {
    /// Id of the object.
    pub id: i64,
}

/// A machine as `GET machines/{system_id}/` returns it (the fields the driver uses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Machine {
    /// Six-character system id (e.g. `thr3am`).
    pub system_id: String,
    /// Host name.
    #[serde(default)]
    pub hostname: String,
    /// Fully qualified domain name.
    #[serde(default)]
    pub fqdn: String,
    /// Status (integer code).
    pub status: MachineStatus,
    /// MAAS' label of `status`, for display.
    #[serde(default)]
    pub status_name: String,
    /// Latest status message.
    #[serde(default, deserialize_with = "null_default")]
    pub status_message: String,
    /// Why the machine failed, when it did.
    #[serde(default, deserialize_with = "null_default")]
    pub error_description: String,
    /// Power driver (`ipmi`, `redfish`, `virsh`, `manual`, …); empty when unset.
    #[serde(default, deserialize_with = "null_default")]
    pub power_type: String,
    /// Power state.
    #[serde(default, deserialize_with = "null_default")]
    pub power_state: PowerState,
    /// Owner's user name, when allocated.
    #[serde(default)]
    pub owner: Option<String>,
    /// Architecture (`amd64/generic`).
    #[serde(default, deserialize_with = "null_default")]
    pub architecture: String,
    /// Operating system of the deployment.
    #[serde(default, deserialize_with = "null_default")]
    pub osystem: String,
    /// Release of the deployment.
    #[serde(default, deserialize_with = "null_default")]
    pub distro_series: String,
    /// Kernel of the deployment.
    #[serde(default)]
    pub hwe_kernel: Option<String>,
    /// Memory in MiB.
    #[serde(default)]
    pub memory: u64,
    /// CPU count.
    #[serde(default)]
    pub cpu_count: u32,
    /// Storage in MB.
    #[serde(default)]
    pub storage: f64,
    /// Whether the machine is locked.
    #[serde(default)]
    pub locked: bool,
    /// Whether the machine boots from the network.
    #[serde(default)]
    pub netboot: bool,
    /// Tag names.
    #[serde(default, deserialize_with = "null_default")]
    pub tag_names: Vec<String>,
    /// IP addresses.
    #[serde(default, deserialize_with = "null_default")]
    pub ip_addresses: Vec<String>,
    /// Workload annotations (MAAS ≥ 3.0).
    #[serde(default, deserialize_with = "null_default")]
    pub workload_annotations: BTreeMap<String, String>,
    /// Deprecated alias of `workload_annotations`.
    #[serde(default, deserialize_with = "null_default")]
    pub owner_data: BTreeMap<String, String>,
    /// DNS domain.
    #[serde(default)]
    pub domain: Option<Domain>,
    /// Availability zone.
    #[serde(default)]
    pub zone: Option<NamedRef>,
    /// Resource pool.
    #[serde(default)]
    pub pool: Option<NamedRef>,
    /// Network interfaces.
    #[serde(default, deserialize_with = "null_default")]
    pub interface_set: Vec<Interface>,
    /// The interface the machine PXE-boots from.
    #[serde(default)]
    pub boot_interface: Option<Interface>,
    /// Block devices.
    #[serde(default, deserialize_with = "null_default")]
    pub blockdevice_set: Vec<BlockDevice>,
    /// The boot disk.
    #[serde(default)]
    pub boot_disk: Option<BlockDevice>,
    /// Volume-group stubs.
    #[serde(default, deserialize_with = "null_default")]
    pub volume_groups: Vec<ObjectStub>,
    /// Commissioning script status code.
    #[serde(default)]
    pub commissioning_status: Option<i64>,
    /// Testing script status code.
    #[serde(default)]
    pub testing_status: Option<i64>,
    /// API path of the machine.
    #[serde(default)]
    pub resource_uri: String,
}

impl Machine {
    /// MAC address of the boot interface.
    pub fn boot_mac(&self) -> Option<&str> {
        self.boot_interface.as_ref()?.mac_address.as_deref()
    }

    /// The first IP address of the boot interface's links.
    pub fn boot_ip(&self) -> Option<&str> {
        self.boot_interface
            .as_ref()?
            .links
            .iter()
            .find_map(|l| l.ip_address.as_deref())
    }
}
