//! Records a store keeps besides tasks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::design::Source;
use crate::driver::DriverErrorKind;
use crate::task::{TaskId, TaskStatus};

/// A step of an action, as journaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Step {
    /// Ingest, compile and validate the design.
    ValidateDesign,
    /// Check the node driver's services.
    ValidateNodeServices,
    /// Check the OOB drivers' services.
    ValidateOobServices,
    /// Create the design's networks in the provisioner.
    CreateNetworkTemplate,
    /// Install the site's SSH keys.
    ConfigureUserCredentials,
    /// Configure package repositories.
    ConfigureProvisioner,
    /// Read a node's BMC.
    InterrogateOob,
    /// Look the node up in the provisioner.
    IdentifyNode,
    /// Set PXE as the next boot device.
    SetPxeBoot,
    /// Power-cycle the node so it PXE boots.
    PowerCycle,
    /// Wait until the provisioner knows the node.
    WaitIdentified,
    /// Commission the node.
    ConfigureHardware,
    /// Collect the node's facts.
    InterrogateNode,
    /// Configure the node's networking.
    ApplyNetworking,
    /// Configure the node's storage.
    ApplyStorage,
    /// Configure the node's platform.
    ApplyPlatform,
    /// Deploy the node.
    Deploy,
    /// Wait for the node's boot actions to report.
    BootactionReport,
    /// Release and remove the node.
    Destroy,
}

impl Step {
    /// The step's name as journaled (`apply_networking`).
    pub fn as_str(self) -> &'static str {
        match self {
            Step::ValidateDesign => "validate_design",
            Step::ValidateNodeServices => "validate_node_services",
            Step::ValidateOobServices => "validate_oob_services",
            Step::CreateNetworkTemplate => "create_network_template",
            Step::ConfigureUserCredentials => "configure_user_credentials",
            Step::ConfigureProvisioner => "configure_provisioner",
            Step::InterrogateOob => "interrogate_oob",
            Step::IdentifyNode => "identify_node",
            Step::SetPxeBoot => "set_pxe_boot",
            Step::PowerCycle => "power_cycle",
            Step::WaitIdentified => "wait_identified",
            Step::ConfigureHardware => "configure_hardware",
            Step::InterrogateNode => "interrogate_node",
            Step::ApplyNetworking => "apply_networking",
            Step::ApplyStorage => "apply_storage",
            Step::ApplyPlatform => "apply_platform",
            Step::Deploy => "deploy",
            Step::BootactionReport => "bootaction_report",
            Step::Destroy => "destroy",
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[non_exhaustive]
pub enum StepOutcome {
    /// Done: never run again for this task.
    Succeeded,
    /// Failed (after its retries): the node leaves the action.
    Failed {
        /// The last error's kind.
        kind: DriverErrorKind,
        /// The last error's text.
        message: String,
    },
}

/// One journaled step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// The task.
    pub task: TaskId,
    /// The node, for per-node steps.
    pub node: Option<String>,
    /// The step.
    pub step: Step,
    /// How it ended.
    pub outcome: StepOutcome,
    /// How many attempts it took.
    pub attempts: u32,
    /// The task's retry number when the step ran ([`crate::task::Task::retry`]).
    #[serde(default)]
    pub retry: u32,
    /// When it ended.
    pub at: DateTime<Utc>,
}

/// Which tasks to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskQuery {
    /// Only tasks with one of these statuses (all when empty).
    pub statuses: Vec<TaskStatus>,
    /// Only tasks created at or after this time.
    pub created_after: Option<DateTime<Utc>>,
    /// Only top-level tasks (without a parent).
    pub top_level_only: bool,
}

/// Identity of a design snapshot: the SHA-256 of its sources, in hex.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DesignId(pub String);

impl From<String> for DesignId {
    fn from(id: String) -> Self {
        DesignId(id)
    }
}

impl From<&str> for DesignId {
    fn from(id: &str) -> Self {
        DesignId(id.to_owned())
    }
}

impl std::fmt::Display for DesignId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The documents of a design, as given, kept so a task can always be re-run on its design.
///
/// Snapshots hold design documents, which hold BMC credentials: stores keep them private.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignSnapshot {
    /// Content hash.
    pub id: DesignId,
    /// Source names and texts.
    pub sources: Vec<(String, String)>,
    /// When it was first stored.
    pub created: DateTime<Utc>,
}

impl std::fmt::Debug for DesignSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The texts hold credentials: show names and sizes only.
        f.debug_struct("DesignSnapshot")
            .field("id", &self.id)
            .field(
                "sources",
                &self
                    .sources
                    .iter()
                    .map(|(n, t)| (n, t.len()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl DesignSnapshot {
    /// A snapshot of `sources`; its id is the SHA-256 of names and texts.
    ///
    /// ```
    /// use drydock_core::design::Source;
    /// use drydock_core::store::DesignSnapshot;
    /// let a = DesignSnapshot::new(&[Source::new("site.yaml", "x: 1\n")]);
    /// let b = DesignSnapshot::new(&[Source::new("site.yaml", "x: 1\n")]);
    /// let c = DesignSnapshot::new(&[Source::new("site.yaml", "x: 2\n")]);
    /// assert_eq!(a.id, b.id);
    /// assert_ne!(a.id, c.id);
    /// ```
    pub fn new(sources: &[Source]) -> Self {
        let mut hash = Sha256::new();
        for s in sources {
            for part in [s.name.as_bytes(), s.text.as_bytes()] {
                hash.update((part.len() as u64).to_le_bytes());
                hash.update(part);
            }
        }
        let id = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        DesignSnapshot {
            id: DesignId(id),
            sources: sources
                .iter()
                .map(|s| (s.name.to_string(), s.text.clone()))
                .collect(),
            created: Utc::now(),
        }
    }

    /// The sources, ready to ingest.
    pub fn to_sources(&self) -> Vec<Source> {
        self.sources
            .iter()
            .map(|(n, t)| Source::new(n.as_str(), t.as_str()))
            .collect()
    }
}

/// Facts a driver collected about a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildDataRecord {
    /// The node.
    pub node: String,
    /// The task that collected them.
    pub task: TaskId,
    /// When.
    pub collected: DateTime<Utc>,
    /// The facts.
    pub data: crate::driver::BuildData,
}

/// Result of asking for a node lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseOutcome {
    /// The task now holds the node (or already did).
    Acquired,
    /// Another task holds it.
    HeldBy(TaskId),
}
