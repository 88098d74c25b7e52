//! Tags, boot resources, rack controllers, SSH keys, repositories, results, version.

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::machine::{NamedRef, PowerState};
use super::network::{Domain, Interface, string_enum};
use super::null_default;

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Tag {
    /// Name (also the URL key).
    pub name: String,
    /// XPath definition (empty for manual tags).
    #[serde(default, deserialize_with = "null_default")]
    pub definition: String,
    /// Comment.
    #[serde(default, deserialize_with = "null_default")]
    pub comment: String,
    /// Kernel options applied to tagged machines.
    #[serde(default, deserialize_with = "null_default")]
    pub kernel_opts: String,
}

/// Answer of `tags/{name}/?op=update_nodes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpdateNodesResult {
    /// Nodes added.
    #[serde(default)]
    pub added: u64,
    /// Nodes removed.
    #[serde(default)]
    pub removed: u64,
}

/// A boot resource (an image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BootResource {
    /// Id.
    pub id: i64,
    /// `Synced`, `Uploaded` (older servers: `Generated`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Name (`ubuntu/jammy`).
    pub name: String,
    /// `arch/subarch`.
    pub architecture: String,
    /// Comma-separated sub-architectures.
    #[serde(default, deserialize_with = "null_default")]
    pub subarches: String,
    /// Title (uploaded images).
    #[serde(default)]
    pub title: Option<String>,
    /// Last deployment time.
    #[serde(default)]
    pub last_deployed: Option<String>,
}

string_enum! {
    /// Status of a rack controller service.
    ServiceStatus {
        Running = "running",
        Off = "off",
        Dead = "dead",
        Degraded = "degraded",
        Unknown = "unknown",
    }
}

/// A service of a rack controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Service {
    /// Name (`rackd`, `tftp`, …).
    pub name: String,
    /// Status.
    pub status: ServiceStatus,
    /// Details.
    #[serde(default, deserialize_with = "null_default")]
    pub status_info: String,
}

/// A rack controller (no `status_name`; has `service_set`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RackController {
    /// System id.
    pub system_id: String,
    /// Host name.
    #[serde(default)]
    pub hostname: String,
    /// FQDN.
    #[serde(default)]
    pub fqdn: String,
    /// MAAS version on the rack.
    #[serde(default)]
    pub version: Option<String>,
    /// Power driver.
    #[serde(default, deserialize_with = "null_default")]
    pub power_type: String,
    /// Power state.
    #[serde(default, deserialize_with = "null_default")]
    pub power_state: PowerState,
    /// Interfaces.
    #[serde(default, deserialize_with = "null_default")]
    pub interface_set: Vec<Interface>,
    /// Services and their health.
    #[serde(default, deserialize_with = "null_default")]
    pub service_set: Vec<Service>,
    /// IP addresses.
    #[serde(default, deserialize_with = "null_default")]
    pub ip_addresses: Vec<String>,
    /// Domain.
    #[serde(default)]
    pub domain: Option<Domain>,
    /// Zone.
    #[serde(default)]
    pub zone: Option<NamedRef>,
}

impl RackController {
    /// The services Drydock requires of a healthy rack.
    pub const REQUIRED_SERVICES: [&'static str; 4] = ["http", "dhcpd", "rackd", "tftp"];

    /// Healthy iff each of `http`, `dhcpd`, `rackd`, `tftp` is `running` or `off`.
    pub fn is_healthy(&self) -> bool {
        Self::REQUIRED_SERVICES.iter().all(|name| {
            self.service_set.iter().any(|s| {
                s.name == *name && matches!(s.status, ServiceStatus::Running | ServiceStatus::Off)
            })
        })
    }
}

/// An SSH public key of the API user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SshKey {
    /// Id.
    pub id: i64,
    /// The public key.
    pub key: String,
    /// Import source (`lp:user`), if imported.
    #[serde(default)]
    pub keysource: Option<String>,
}

/// A package repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PackageRepository {
    /// Id.
    pub id: i64,
    /// Name (`main_archive` and `ports_archive` are MAAS' defaults).
    pub name: String,
    /// URL.
    pub url: String,
    /// Distributions.
    #[serde(default, deserialize_with = "null_default")]
    pub distributions: Vec<String>,
    /// Disabled pockets.
    #[serde(default, deserialize_with = "null_default")]
    pub disabled_pockets: Vec<String>,
    /// Disabled components.
    #[serde(default, deserialize_with = "null_default")]
    pub disabled_components: Vec<String>,
    /// Whether source packages are disabled.
    #[serde(default)]
    pub disable_sources: bool,
    /// Components.
    #[serde(default, deserialize_with = "null_default")]
    pub components: Vec<String>,
    /// Architectures.
    #[serde(default, deserialize_with = "null_default")]
    pub arches: Vec<String>,
    /// GPG key.
    #[serde(default, deserialize_with = "null_default")]
    pub key: String,
    /// Whether enabled.
    #[serde(default)]
    pub enabled: bool,
}

/// `{system_id}` reference inside a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NodeRef {
    /// System id.
    pub system_id: String,
}

/// One entry of `commissioning-results/` (`installation-results/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CommissioningResult {
    /// Id.
    #[serde(default)]
    pub id: i64,
    /// Script name (`<name>.err` for stderr).
    pub name: String,
    /// Exit status.
    #[serde(default)]
    pub script_result: i64,
    /// 0 commissioning, 1 installation, 2 testing, 3 release, 4 deployment.
    #[serde(default)]
    pub result_type: i64,
    /// Node.
    pub node: NodeRef,
    /// Base64 output.
    #[serde(default, deserialize_with = "null_default")]
    pub data: String,
    /// Creation time.
    #[serde(default)]
    pub created: Option<String>,
    /// Update time.
    #[serde(default)]
    pub updated: Option<String>,
}

impl CommissioningResult {
    /// The decoded output (`None` if `data` is not valid base64).
    pub fn output(&self) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD
            .decode(self.data.as_bytes())
            .ok()
    }
}

/// One script result inside a [`ScriptResultSet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScriptResult {
    /// Id.
    pub id: i64,
    /// Script name.
    pub name: String,
    /// Status code.
    #[serde(default)]
    pub status: i64,
    /// Status label.
    #[serde(default)]
    pub status_name: String,
    /// Exit status.
    #[serde(default)]
    pub exit_status: Option<i64>,
    /// Base64 combined output.
    #[serde(default, deserialize_with = "null_default")]
    pub output: String,
}

/// A script result set (`nodes/{system_id}/results/`, MAAS 3.x).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScriptResultSet {
    /// Id.
    pub id: i64,
    /// Node.
    #[serde(default)]
    pub system_id: String,
    /// Result type code.
    #[serde(rename = "type", default)]
    pub kind: i64,
    /// Result type label.
    #[serde(default)]
    pub type_name: String,
    /// Status code.
    #[serde(default)]
    pub status: i64,
    /// Status label.
    #[serde(default)]
    pub status_name: String,
    /// Scripts.
    #[serde(default, deserialize_with = "null_default")]
    pub results: Vec<ScriptResult>,
}

/// Answer of `version/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Version {
    /// Capabilities (`networks-management`, `authenticate-api`, …).
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Version string.
    pub version: String,
    /// Sub-version.
    #[serde(default)]
    pub subversion: String,
}
